"""Runs the whole Pulumi program under mocks and records every registration for assertions.

``run_program("dev")`` checks the config of ``Pulumi.dev.yaml`` (plus test credentials for Confluent Cloud)
against the project's ``config:`` schema as the Pulumi CLI does (``mockcloud.config_schema``), evaluates
``__main__.py`` with it and the declared defaults, and returns a ``Program``: every resource with its type, name, real
inputs, parent, dependencies, provider and which inputs were secret, every invoke, and the stack
outputs with their secretness. The mock monitor is Pulumi's own; we only listen to the requests.
"""
from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings as runtime_settings

from mockcloud import config_schema
from mockcloud.answers import INVOKE_RESULTS, RESOURCE_OUTPUTS

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
PROJECT = PROJECT_FILE["name"]
SECRET_SIG = rpc._special_secret_sig  # the SDK's own marker for a secret value on the wire
TEST_CREDENTIALS = {
    "confluentcloud:cloudApiKey": "TESTCLOUDKEY",
    "confluentcloud:cloudApiSecret": "test-cloud-secret-value",
}


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str
    custom: bool
    secret_inputs: set[str]
    options: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]
    provider: str


@dataclass
class Program:
    resources: list[Resource]
    invokes: list[Invoke]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    config: dict[str, Any] = field(default_factory=dict)  # the stack config the program ran with (namespaced keys)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Resource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def descendants(self, parent: Resource) -> list[Resource]:
        found: list[Resource] = []
        for child in self.children(parent):
            found.append(child)
            found.extend(self.descendants(child))
        return found

    def direct_dependencies(self, resource: Resource) -> set[str]:
        urns = set(resource.dependencies)
        for deps in resource.property_dependencies.values():
            urns.update(deps)
        return urns

    def depends_on(self, resource: Resource, target: Resource) -> bool:
        """True when ``resource`` waits for ``target`` (directly or through other resources)."""
        seen: set[str] = set()
        stack = list(self.direct_dependencies(resource))
        while stack:
            urn = stack.pop()
            if urn == target.urn:
                return True
            if urn in seen:
                continue
            seen.add(urn)
            found = [r for r in self.resources if r.urn == urn]
            if found:
                stack.extend(self.direct_dependencies(found[0]))
        return False

    def invokes_of(self, token: str) -> list[Invoke]:
        return [i for i in self.invokes if i.token == token]


def _secret_paths(value: Any, path: str = "") -> set[str]:
    """Paths of the values that travel as secrets in a serialized property struct."""
    found: set[str] = set()
    if isinstance(value, struct_pb2.Struct):
        if value.fields.get(rpc._special_sig_key) is not None and value[rpc._special_sig_key] == SECRET_SIG:
            return {path or "."}
        for key in value.keys():
            found |= _secret_paths(value[key], f"{path}.{key}" if path else key)
    elif isinstance(value, struct_pb2.ListValue):
        for index, item in enumerate(value):
            found |= _secret_paths(item, f"{path}[{index}]")
    return found


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Pulumi's mock monitor, keeping the request fields that the mocks API does not pass on."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.records: list[Resource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = self.resources[response.urn].state if response.urn in self.resources else {}
        self.records.append(
            Resource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                inputs=_plain(inputs),
                parent=request.parent,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                provider=request.provider,
                custom=bool(request.custom),
                secret_inputs=_secret_paths(request.object),
                options={
                    "delete_before_replace": request.deleteBeforeReplace,
                    "replace_on_changes": list(request.replaceOnChanges),
                    "ignore_changes": list(request.ignoreChanges),
                    "additional_secret_outputs": list(request.additionalSecretOutputs),
                    "protect": request.protect,
                    "retain_on_delete": request.retainOnDelete,
                    "deleted_with": request.deletedWith,
                    "replace_with": list(request.replace_with),
                    "custom_timeouts": {
                        "create": request.customTimeouts.create,
                        "update": request.customTimeouts.update,
                        "delete": request.customTimeouts.delete,
                    },
                },
                outputs=outputs,
            )
        )
        return response


def _plain(value: Any) -> Any:
    """Unwrap the SDK's secret wrappers so assertions see the real values."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class StackMocks(pulumi.runtime.Mocks):
    """Returns each resource's inputs plus the computed outputs the program reads (mockcloud/answers.py)."""

    def __init__(self, invokes: list[Invoke]):
        self.invokes = invokes

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        computed = RESOURCE_OUTPUTS.get(args.typ)
        state = dict(args.inputs)
        if computed is not None:
            state.update(computed(args.name, args.inputs))
        state.setdefault("arn", f"arn:aws:mock:::{args.name}")
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.invokes.append(Invoke(args.token, dict(args.args), args.provider))
        result = INVOKE_RESULTS.get(args.token)
        if result is None:
            raise KeyError(f"no mock result for invoke {args.token}; add one to mockcloud/answers.py")
        return result(args.args)


def stack_config(stack: str) -> dict[str, Any]:
    """The config values of ``Pulumi.<stack>.yaml`` (namespaced keys, YAML types)."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}")
    return dict(yaml.safe_load(path.read_text()).get("config") or {})


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def run_program(
    stack: str = "dev",
    overrides: dict[str, Any] | None = None,
    remove: Iterable[str] = (),
    credentials: bool = True,
    main: str | Path = "__main__.py",
    skip_config_validation: bool = False,
) -> Program:
    """Evaluate ``__main__.py`` for a stack under mocks and return everything it registered.

    ``overrides`` sets or replaces config keys (namespaced, e.g. ``fraud-detection:azCount``),
    ``remove`` deletes keys, ``credentials=False`` leaves out the Confluent Cloud credentials,
    ``main`` runs another program file (relative to the repository root) with the same stack config,
    ``skip_config_validation`` skips the CLI's schema check as ``pulumi up --skip-config-validation`` does
    (defaults still apply), so that what the program itself checks can be seen.
    """
    config = stack_config(stack)
    if credentials:
        config.update(TEST_CREDENTIALS)
    config.update(overrides or {})
    for key in remove:
        config.pop(key, None)
    schema = PROJECT_FILE.get("config") or {}
    if not skip_config_validation:
        config_schema.validate(stack, config, PROJECT, schema)
    config = config_schema.with_defaults(config, PROJECT, schema)

    invokes: list[Invoke] = []
    monitor = RecordingMonitor(StackMocks(invokes))
    runtime_settings.set_root_resource(None)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(
        {key: _as_config_string(value) for key, value in config.items()},
        [key for key in config if key.startswith("confluentcloud:cloudApi")],
    )

    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()

    @pulumi.runtime.test
    def evaluate():
        runpy.run_path(str(ROOT / main), run_name="__main__")
        exported = dict(runtime_settings.get_root_resource().outputs)

        async def resolve_exports() -> None:
            # Under mocks the root stack never registers its outputs, so read what was exported.
            for name, value in exported.items():
                output = pulumi.Output.from_input(value)
                outputs[name] = _plain(await output.future())
                if await output.is_secret():
                    secret_outputs.add(name)

        return asyncio.ensure_future(resolve_exports())

    try:
        evaluate()
    except Exception as error:
        error.registered = list(monitor.records)  # what got registered before the failure
        raise
    return Program(monitor.records, invokes, outputs, secret_outputs, config)
