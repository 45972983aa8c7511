"""Run the pack over a stack as the mocked program declares it, the way `pulumi preview --policy-pack` would.

Each recorded registration becomes what the Pulumi engine hands a policy pack: ``ResourceValidationArgs`` (type,
name, urn, camelCase inputs as props, the provider resource with its inputs, options) for every resource rule, and
one ``StackValidationArgs`` (every resource with its parent, dependencies and property dependencies) for the stack
rules. Props are wrapped in the SDK's own proxies, as in the engine. Resources on a default provider get one
synthesized from the stack config (``aws:*`` keys), as the engine does. Enforcement levels and rule properties come
from ``policies/config.<stack>.json``, the file ``pulumi preview --policy-pack-config`` reads.

    python -m policies.fraud_policies.evaluate --stack dev     # `make policy STACK=dev`; exit 1 on a mandatory violation

``evaluate_program(program)`` is the reusable entry (the offline plan calls it with its own mocked program).
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from .pack import PACK_ENFORCEMENT, PACK_NAME, POLICIES

PACK_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PACK_DIR.parent
LEVELS = {level.value: level for level in EnforcementLevel}
SCHEMA_TYPES = {"boolean": bool, "integer": int, "string": str, "array": list, "object": dict}


class PolicyConfigError(ValueError):
    """A policy config file that the CLI would reject too: named file, key and expected form."""


@dataclass(frozen=True)
class PackConfig:
    """Per-policy enforcement levels and properties, as `--policy-pack-config` gives them to the pack."""

    levels: dict[str, EnforcementLevel] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "(pack defaults)"

    def level(self, policy: Policy) -> EnforcementLevel:
        if policy.name in self.levels:
            return self.levels[policy.name]
        if "all" in self.levels:
            return self.levels["all"]
        return policy.enforcement_level or PACK_ENFORCEMENT


def config_path(stack: str) -> Path:
    return PACK_DIR / f"config.{stack}.json"


def _check_type(where: str, value: Any, schema: Mapping[str, Any]) -> None:
    expected = schema.get("type")
    kind = SCHEMA_TYPES.get(expected)
    if kind is None:
        return
    wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    if not wrong and expected == "array" and "items" in schema:
        for index, item in enumerate(value):
            _check_type(f"{where}[{index}]", item, schema["items"])
        return
    if wrong:
        raise PolicyConfigError(f"{where}: expected {expected}, got {json.dumps(value)}")


def load_config(path: Path, policies: list[Policy] = POLICIES) -> PackConfig:
    """Read and check a policy config file: known policy names, known properties of the right JSON type."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise PolicyConfigError(f"{path}: no such policy config file (expected one per stack: policies/config.<stack>.json)") from None
    except json.JSONDecodeError as error:
        raise PolicyConfigError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object keyed by policy name")
    by_name = {p.name: p for p in policies}
    levels: dict[str, EnforcementLevel] = {}
    properties: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        where = f"{path.name}: {name}"
        if name != "all" and name not in by_name:
            raise PolicyConfigError(f"{where}: no such policy; expected one of all, {', '.join(by_name)}")
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, dict):
            raise PolicyConfigError(f"{where}: expected an enforcement level or an object")
        for key, item in value.items():
            if key == "enforcementLevel":
                if item not in LEVELS:
                    raise PolicyConfigError(f"{where}.enforcementLevel: expected one of {', '.join(LEVELS)}, got {item!r}")
                levels[name] = LEVELS[item]
                continue
            schema = by_name[name].config_schema if name in by_name else None
            known = schema.properties if schema else {}
            if key not in known:
                raise PolicyConfigError(f"{where}.{key}: not a property of this policy; expected "
                                        f"{', '.join(['enforcementLevel', *known])}")
            _check_type(f"{where}.{key}", item, known[key])
            properties.setdefault(name, {})[key] = item
    try:
        source = str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        source = str(path)
    return PackConfig(levels, properties, source)


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str  # "mandatory" or "advisory"
    message: str
    urn: str  # empty: the stack as a whole
    resource_type: str
    resource_name: str


@dataclass
class Report:
    stack: str
    config_source: str
    resources: int
    policies: list[str]
    findings: list[Finding]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == EnforcementLevel.MANDATORY.value]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == EnforcementLevel.ADVISORY.value]

    @property
    def passed(self) -> bool:
        return not self.mandatory

    def by_resource(self) -> dict[tuple[str, str, str], list[Finding]]:
        grouped: dict[tuple[str, str, str], list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault((finding.urn, finding.resource_type, finding.resource_name), []).append(finding)
        return grouped

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": PACK_NAME,
            "stack": self.stack,
            "config": self.config_source,
            "resources": self.resources,
            "policies": self.policies,
            "passed": self.passed,
            "mandatory": len(self.mandatory),
            "advisory": len(self.advisory),
            "findings": [vars(f) for f in self.findings],
        }

    def render(self) -> str:
        lines = [f"Policy pack {PACK_NAME}: {len(self.policies)} policies on stack {self.stack} "
                 f"({self.resources} resources), config {self.config_source}"]
        for (urn, resource_type, name), findings in self.by_resource().items():
            lines.append("")
            lines.append(f"{resource_type} {name}" if urn else "stack")
            for finding in findings:
                lines.append(f"  [{finding.level}] {finding.policy}: {finding.message}")
        lines.append("")
        verdict = "passes" if self.passed else "FAILS"
        lines.append(f"{len(self.mandatory)} mandatory, {len(self.advisory)} advisory violation(s): "
                     f"stack {self.stack} {verdict}")
        return "\n".join(lines)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: str) -> float:
    """A custom timeout such as '1h30m' in seconds, the unit the engine passes to policies (0 when unset)."""
    return sum(float(amount) * _SECONDS[unit] for amount, unit in _DURATION_PART.findall(text or ""))


def _urn_parts(urn: str) -> tuple[str, str]:
    """Stack and project of a URN (urn:pulumi:<stack>::<project>::...)."""
    head = urn.split("::")
    return head[0].removeprefix("urn:pulumi:"), head[1] if len(head) > 1 else ""


def _default_provider(resource: Any, config: Mapping[str, Any]) -> PolicyProviderResource | None:
    package = resource.type.split(":", 1)[0]
    if not resource.custom or package in ("pulumi", "pulumi-python"):
        return None
    stack, project = _urn_parts(resource.urn)
    props = {key.split(":", 1)[1]: value if isinstance(value, str) else json.dumps(value)
             for key, value in config.items() if key.startswith(f"{package}:")}
    return PolicyProviderResource(f"pulumi:providers:{package}", unknown_checking_proxy(props),
                                  f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::default", "default")


def _provider(resource: Any, by_urn: Mapping[str, Any], config: Mapping[str, Any]) -> PolicyProviderResource | None:
    if resource.provider:
        found = by_urn.get(resource.provider.rsplit("::", 1)[0])
        if found is not None:
            return PolicyProviderResource(found.type, unknown_checking_proxy(copy.deepcopy(found.inputs)), found.urn, found.name)
    return _default_provider(resource, config)


def _options(resource: Any) -> PolicyResourceOptions:
    options = resource.options
    timeouts = options.get("custom_timeouts") or {}
    return PolicyResourceOptions(
        protect=bool(options.get("protect")),
        ignore_changes=list(options.get("ignore_changes") or []),
        delete_before_replace=options.get("delete_before_replace"),
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(*(duration_seconds(timeouts.get(k, "")) for k in ("create", "update", "delete"))),
        additional_secret_outputs=list(options.get("additional_secret_outputs") or []),
        parent=resource.parent or None,
    )


def _run(result: Any) -> None:
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()


def evaluate_resources(resources: list[Any], stack_config: Mapping[str, Any], config: PackConfig,
                       policies: list[Policy] = POLICIES) -> list[Finding]:
    """Every finding of every enabled policy over harness-style resource records (type, name, urn, inputs, ...)."""
    by_urn = {r.urn: r for r in resources}
    findings: list[Finding] = []

    def reporter(policy: Policy, level: EnforcementLevel, default: Any | None):
        def report(message: str, urn: str | None = None) -> None:
            target = by_urn.get(urn) if urn else default
            findings.append(Finding(policy.name, level.value, message or policy.description,
                                    target.urn if target else "", target.type if target else "",
                                    target.name if target else ""))
        return report

    def guarded(policy: Policy, level: EnforcementLevel, subject: Any | None, call) -> None:
        try:
            _run(call())
        except _NotApplicableError:
            pass
        except UnknownValueError as error:  # the engine reports these as advisory "can't run during preview"
            reporter(policy, EnforcementLevel.ADVISORY, subject)(f"can't run: {error.message}")
        except Exception as error:
            where = f" on {subject.urn}" if subject is not None else ""
            raise RuntimeError(f"policy {policy.name} failed{where}: {error!r}") from error

    resource_args = [
        (r, ResourceValidationArgs(r.type, unknown_checking_proxy(copy.deepcopy(r.inputs)), r.urn, r.name, _options(r),
                                   _provider(r, by_urn, stack_config)))
        for r in resources
    ]
    for policy in policies:
        level = config.level(policy)
        if level == EnforcementLevel.DISABLED:
            continue
        level = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level
        policy_config = config.properties.get(policy.name)
        if isinstance(policy, ResourceValidationPolicy):
            for record, args in resource_args:
                args = ResourceValidationArgs(args.resource_type, args.props, args.urn, args.name, args.opts,
                                              args.provider, policy_config)
                guarded(policy, level, record, lambda: policy.validate(args, reporter(policy, level, record)))
        elif isinstance(policy, StackValidationPolicy):
            stack_args = StackValidationArgs(_stack_resources(resources, by_urn, stack_config), policy_config)
            guarded(policy, level, None, lambda: policy.validate(stack_args, reporter(policy, level, None)))
    # Resources in registration order, then the stack as a whole; within one, the pack's policy order.
    position = {r.urn: index for index, r in enumerate(resources)}
    order = {p.name: index for index, p in enumerate(policies)}
    return sorted(findings, key=lambda f: (position.get(f.urn, len(position)), order[f.policy]))


def _stack_resources(resources: list[Any], by_urn: Mapping[str, Any], stack_config: Mapping[str, Any]) -> list[PolicyResource]:
    """Every resource as AnalyzeStack sees it: its state (inputs plus what the provider returned), linked objects."""
    linked: dict[str, PolicyResource] = {}
    for r in resources:
        # The mock state keeps the wire form of secrets; the SDK's own deserializer unwraps them as the engine does.
        state = {**copy.deepcopy(r.inputs), **deserialize_properties(copy.deepcopy(getattr(r, "outputs", {}) or {}))}
        linked[r.urn] = PolicyResource(r.type, unknown_checking_proxy(state), r.urn, r.name, _options(r),
                                       _provider(r, by_urn, stack_config), None, [], {})
    for r in resources:
        target = linked[r.urn]
        target.parent = linked.get(r.parent)
        target.dependencies = [linked[u] for u in r.dependencies if u in linked]
        target.property_dependencies = {k: [linked[u] for u in urns if u in linked]
                                        for k, urns in r.property_dependencies.items()}
    return list(linked.values())


def evaluate_program(program: Any, stack: str | None = None, config: PackConfig | Path | None = None,
                     policies: list[Policy] = POLICIES) -> Report:
    """The pack's report on a mocked program (mockcloud.Program); config defaults to policies/config.<stack>.json."""
    stack = stack or (_urn_parts(program.resources[0].urn)[0] if program.resources else "")
    if not isinstance(config, PackConfig):
        config = load_config(Path(config) if config else config_path(stack), policies)
    findings = evaluate_resources(program.resources, getattr(program, "config", {}) or {}, config, policies)
    return Report(stack, config.source, len(program.resources), [p.name for p in policies], findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make policy", description="Evaluate the policy pack over a stack under mocks.")
    parser.add_argument("--stack", required=True, help="stack name; Pulumi.<stack>.yaml and policies/config.<stack>.json are read")
    parser.add_argument("--config", type=Path, help="policy config file (default: policies/config.<stack>.json)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parser.parse_args(argv)

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from mockcloud import run_program  # imported late so the rules never depend on it

    try:
        config = load_config(options.config or config_path(options.stack))
        program = run_program(options.stack)
    except (PolicyConfigError, FileNotFoundError, ValueError) as error:
        print(f"policy: {error}", file=sys.stderr)
        return 2
    report = evaluate_program(program, options.stack, config)
    print(json.dumps(report.as_dict(), indent=2) if options.json else report.render())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
