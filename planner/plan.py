"""The offline plan of a stack: run the real program under mocks, then describe what `pulumi up` would build."""
from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planner.costs import CostSummary, estimate  # noqa: E402
from planner.graph import CriticalPath, Node, Schedule, critical_path, schedule  # noqa: E402
from planner.original_demo import original_costs  # noqa: E402
from planner.table import CreateTime, Table  # noqa: E402
from planner.timelines import Measured, load as load_timelines  # noqa: E402

ORACLE_INSTANCE = "aws:ec2/instance:Instance"


class PlanError(Exception):
    """A stack that cannot be planned (no stack file, or config that `pulumi up` would reject)."""


@dataclass
class Plan:
    stack: str
    region: str
    price_region: str
    tree: dict[str, Any]
    type_counts: dict[str, int]
    costs: CostSummary
    original_costs: CostSummary  # the original demo's configuration, same table and assumptions
    assumptions: dict[str, Any]
    path: CriticalPath
    schedule: Schedule
    create_times: dict[str, dict[str, Any]]
    bases: dict[str, str]  # resource urn -> basis of its create time ("missing": the table has no entry)
    policies: dict[str, Any]
    measured: Measured  # create times recorded by `make e2e` runs (timelines/), set beside the modeled ones

    def measured_minutes(self, step) -> float | None:
        return self.measured.of(self.stack, step.type, step.name)

    @property
    def missing_types(self) -> list[str]:
        """Types the table has no create time for: the plan times them at 0 and says so."""
        return sorted(t for t, v in self.create_times.items() if v["basis"] == "missing")

    @property
    def cost_ratio(self) -> float | None:
        """This stack's hourly cost over the original demo's, when both are fully priced."""
        if not (self.costs.complete and self.original_costs.complete) or not self.original_costs.known_hourly_usd:
            return None
        return self.costs.known_hourly_usd / self.original_costs.known_hourly_usd


def stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def _parse_value(raw: str) -> Any:
    import yaml

    return yaml.safe_load(raw)


def run(stack: str, sets: list[str] = (), price_region: str | None = None, table: Table | None = None) -> Plan:
    """Evaluate ``__main__.py`` for ``stack`` under mocks and build its plan; raise PlanError on bad input."""
    if not (ROOT / f"Pulumi.{stack}.yaml").exists():
        raise PlanError(f"no stack named '{stack}': Pulumi.{stack}.yaml does not exist (stacks: {', '.join(stacks())})")
    overrides: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or ":" not in key:
            raise PlanError(f"--set {item!r}: expected <namespace>:<key>=<value>, e.g. fraud-detection:azCount=2")
        overrides[key] = _parse_value(value)

    import settings as stack_settings
    from mockcloud import StackConfigError, run_program

    try:
        program = run_program(stack, overrides=overrides)
    except (StackConfigError, stack_settings.SettingsError) as error:
        raise PlanError(str(error)) from None

    return build(program, stack, str(_stack_region(stack, overrides)), price_region, table)


def build(program, stack: str, region: str, price_region: str | None = None, table: Table | None = None,
          measured: Measured | None = None) -> Plan:
    """The plan of an already evaluated program (tests pass the session's mocked program)."""
    table = table or Table.load()
    price_region = price_region or region
    nodes = _nodes(program)
    times = {r.urn: create_time(program, table, r) for r in _timed(program)}

    def minutes(node: Node) -> float:
        return times[node.key].minutes if node.key in times else 0.0

    return Plan(
        stack=stack,
        region=region,
        price_region=price_region,
        tree=_tree(program),
        type_counts=dict(sorted(Counter(r.type for r in program.resources).items())),
        costs=estimate(program.resources, price_region, table),
        original_costs=original_costs(table, price_region),
        assumptions=table.assumptions,
        path=critical_path(nodes, minutes),
        schedule=schedule(nodes, minutes),
        create_times=_create_times(program, times),
        bases={urn: time.basis for urn, time in times.items()},
        policies=_policies(program, stack),
        measured=load_timelines() if measured is None else measured,
    )


def create_time(program, table: Table, resource) -> CreateTime:
    """A resource's create time; a gate that waits for an EC2 instance (the Oracle gate) gets its instance type."""
    waits = program.direct_dependencies(resource)
    types = [r.inputs.get("instanceType") for r in program.resources if r.type == ORACLE_INSTANCE and r.urn in waits]
    return table.create_time(resource.type, resource.name, types[0] if len(types) == 1 else None)


def _stack_region(stack: str, overrides: dict[str, Any]) -> str:
    from mockcloud import stack_config

    return overrides.get("aws:region") or stack_config(stack).get("aws:region", "")


def _tree(program) -> dict[str, Any]:
    """Components with their children: nested components and per-type counts of their resources."""
    urns = {r.urn for r in program.resources}

    def level(parent_urn: str) -> dict[str, Any]:
        kids = [r for r in program.resources if r.parent == parent_urn]
        components = [{"name": r.name, "type": r.type, **level(r.urn)} for r in kids if not r.custom]
        resources = dict(sorted(Counter(r.type for r in kids if r.custom).items()))
        total = sum(resources.values()) + sum(c["total"] + 1 for c in components)
        return {"components": components, "resources": resources, "total": total}

    roots = {r.parent for r in program.resources if r.parent not in urns}
    root = roots.pop() if len(roots) == 1 else ""
    return {"name": program_name(program), **level(root)}


def program_name(program) -> str:
    parents = {r.parent for r in program.resources}
    stack_urn = next((p for p in parents if "::pulumi:pulumi:Stack::" in p), "")
    return stack_urn.rsplit("::", 1)[-1] or "stack"


def _timed(program) -> list:
    """Resources that take time: custom ones, and components without children, which under mocks are remote
    components (e.g. eks:index:Cluster, one registration whose real children the provider creates)."""
    parents = {r.parent for r in program.resources}
    return [r for r in program.resources if r.custom or r.urn not in parents]


def _nodes(program) -> list[Node]:
    """Dependencies as the engine sees them: depends_on, input dependencies and the resource's provider."""
    timed = {r.urn for r in _timed(program)}
    return [
        Node(r.urn, r.name, r.type, r.urn in timed, r.parent, frozenset(program.direct_dependencies(r) | _provider(r)))
        for r in program.resources
    ]


def _provider(resource) -> set[str]:
    # A provider reference is "<provider urn>::<provider id>"; the engine creates the provider first.
    return {resource.provider.rsplit("::", 1)[0]} if resource.provider else set()


def _create_times(program, times: dict[str, CreateTime]) -> dict[str, dict[str, Any]]:
    """One entry per resource type (per resource for dynamic resources and API keys, which differ by name)."""
    found: dict[str, dict[str, Any]] = {}
    for resource in _timed(program):
        time = times[resource.urn]
        by_name = resource.type in ("pulumi-python:dynamic:Resource", "confluentcloud:index/apiKey:ApiKey")
        key = f"{resource.type} ({resource.name})" if by_name else resource.type
        found[key] = {
            "minutes": time.minutes, "range": time.range, "basis": time.basis, "source": time.source,
            **({"steps": [dataclasses.asdict(step) for step in time.steps]} if time.steps else {}),
        }
    return dict(sorted(found.items()))


def _policies(program, stack: str) -> dict[str, Any]:
    """The policy pack's offline evaluator (policies/fraud_policies/evaluate.py) over the same mocked program."""
    try:
        from policies.fraud_policies.evaluate import evaluate_program
    except ImportError as error:
        return {"available": False, "reason": f"policy engine not importable ({error})"}
    return {"available": True, **evaluate_program(program, stack=stack).as_dict()}
