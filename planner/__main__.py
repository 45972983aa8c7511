"""`python -m planner --stack dev [--json out.json]`: what `pulumi up` would build, cost and take, offline.

The stack's real program runs under Pulumi mocks (mockcloud/program.py) with placeholder Confluent
credentials; the resource tree, the policy report, an hourly cost from planner/prices.yaml and the
modeled deploy time (critical path) are printed with rich and optionally written as JSON.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.tree import Tree

from planner.costs import CostSummary
from planner.plan import Plan, PlanError, run


GOAL_MINUTES = 30  # issue 16: the dev stack deploys in at most 30 minutes (modeled)


def _cost_json(costs: CostSummary) -> dict[str, Any]:
    return {
        "knownHourlyUsd": round(costs.known_hourly_usd, 6),
        "complete": costs.complete,
        "unknownItems": costs.unknown_items,
        "label": costs.label,
        "flinkMaxHourlyUsd": costs.flink_max_hourly_usd,
        "lines": [dataclasses.asdict(line) for line in costs.lines],
    }


def comparison(plan: Plan) -> list[dict[str, Any]]:
    """Per price item: quantity and hourly cost here and in the original demo (where the difference comes from)."""
    rows: dict[str, dict[str, Any]] = {}
    for side, costs in (("stack", plan.costs), ("originalDemo", plan.original_costs)):
        for line in costs.lines:
            row = rows.setdefault(line.item, {"item": line.item, "unit": line.unit, "stack": None, "originalDemo": None})
            entry = row[side] or {"quantity": 0.0, "hourlyUsd": 0.0, "byLoad": False, "unknown": False}
            entry["quantity"] += line.quantity or 0.0
            entry["byLoad"] |= line.quantity is None
            entry["unknown"] |= line.hourly_usd is None
            entry["hourlyUsd"] += line.hourly_usd or 0.0
            row[side] = entry
    return sorted(rows.values(), key=lambda row: row["item"])


def to_json(plan: Plan) -> dict[str, Any]:
    ratio = plan.cost_ratio
    path = plan.path
    return {
        "stack": plan.stack,
        "region": plan.region,
        "priceRegion": plan.price_region,
        "resources": {"total": sum(plan.type_counts.values()), "byType": plan.type_counts, "tree": plan.tree},
        "policies": plan.policies,
        "cost": {
            **_cost_json(plan.costs),
            "assumptions": plan.assumptions,
            "originalDemo": _cost_json(plan.original_costs),
            "ratioToOriginalDemo": None if ratio is None else round(ratio, 4),
            "comparison": comparison(plan),
        },
        "deployTime": {
            "totalMinutes": path.total,
            "goalMinutes": GOAL_MINUTES,
            "withinGoal": path.total <= GOAL_MINUTES,
            "criticalPath": [{**dataclasses.asdict(step), "basis": plan.bases.get(step.key, ""),
                              "measuredMinutes": plan.measured_minutes(step)} for step in path.steps],
            "unsourcedOnPath": [step.name for step in path.steps if plan.bases.get(step.key) == "unsourced"],
            "missingTypes": plan.missing_types,
            "createTimes": plan.create_times,
        },
    }


def _tree(node: dict[str, Any], branch: Tree) -> None:
    for type_, count in node["resources"].items():
        branch.add(f"{type_} [bold]×{count}[/]")
    for component in node["components"]:
        _tree(component, branch.add(f"[cyan]{component['name']}[/] ({component['type']}, {component['total']} resources)"))


def render(plan: Plan, console: Console) -> None:
    console.rule(f"[bold]Plan of stack {plan.stack}[/] ({plan.region}, {sum(plan.type_counts.values())} resources)")
    tree = Tree(f"[bold]{plan.tree['name']}[/]")
    _tree(plan.tree, tree)
    console.print(tree)

    counts = RichTable(title="Resources per type")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for type_, count in plan.type_counts.items():
        counts.add_row(type_, str(count))
    console.print(counts)

    console.rule("Policies")
    report = plan.policies
    if not report.get("available"):
        console.print(f"[yellow]{report['reason']}[/]")
    else:
        findings = RichTable(title=f"Policy pack {report['pack']} ({len(report['policies'])} policies, config {report['config']})")
        for column in ("level", "policy", "resource", "message"):
            findings.add_column(column)
        for finding in report["findings"]:
            findings.add_row(finding["level"], finding["policy"], finding["resource_name"] or "stack", finding["message"])
        if report["findings"]:
            console.print(findings)
        verdict = "[green]passes[/]" if report["passed"] else "[red]FAILS[/]"
        console.print(f"{report['mandatory']} mandatory, {report['advisory']} advisory violation(s): stack {plan.stack} {verdict}")

    console.rule(f"Estimated hourly cost (prices for {plan.price_region})")
    cost = RichTable()
    for column in ("resource", "item", "qty", "unit price", "per hour"):
        cost.add_column(column)
    cost.add_column("why unknown", overflow="fold")  # the reason names the URL to read the price from: keep it whole
    for line in plan.costs.lines:
        qty = "by load" if line.quantity is None else f"{line.quantity:g}"
        unit = "UNKNOWN" if line.unit_usd is None else f"${line.unit_usd:g}/{line.unit}"
        hourly = "[red]UNKNOWN[/]" if line.hourly_usd is None else f"${line.hourly_usd:.4f}"
        cost.add_row(line.resource, escape(line.item), qty, unit, hourly, escape(line.reason.split(";")[0]))
    console.print(cost)
    console.print(f"[bold]Total: {plan.costs.label}[/]")
    if plan.costs.flink_max_hourly_usd is not None:
        console.print(f"Flink ceiling (pool max CFU × CFU price): ${plan.costs.flink_max_hourly_usd:.2f}/h")

    console.rule("Beside the original demo (same price table and assumptions)")
    side = RichTable()
    for column in ("item", "this stack", "original demo"):
        side.add_column(column)

    def cell(entry: dict[str, Any] | None) -> str:
        if entry is None:
            return "-"
        qty = "by load" if entry["byLoad"] else f"{entry['quantity']:g}"
        money = "UNKNOWN" if entry["unknown"] else f"${entry['hourlyUsd']:.4f}/h"
        return f"{qty} × → {money}"

    for row in comparison(plan):
        side.add_row(escape(row["item"]), cell(row["stack"]), cell(row["originalDemo"]))
    console.print(side)
    console.print(f"This stack: {plan.costs.label}; original demo: {plan.original_costs.label}")
    ratio = plan.cost_ratio
    console.print(
        f"Ratio to the original: {ratio:.0%}" if ratio is not None
        else "Ratio to the original: not computable while items are UNKNOWN (see the table above)"
    )
    console.print("Assumptions for usage-dependent lines (planner/prices.yaml `assumptions`):")
    for key, value in plan.assumptions.items():
        console.print(f"  {key}: {value}")

    sources = RichTable(title="Price sources (planner/prices.yaml)")
    for column in ("item", "taken", "source"):
        sources.add_column(column)
    lines = [*plan.costs.lines, *plan.original_costs.lines]
    for price_id, source, taken in sorted({(l.item.split(" [")[0], l.source, l.taken) for l in lines}):
        sources.add_row(price_id, taken, escape(source))
    console.print(sources)

    console.rule("Modeled deploy time (critical path)")
    path = RichTable()
    for column in ("start (min)", "resource", "type", "minutes", "basis", "measured (min)"):
        path.add_column(column)
    for step in plan.path.steps:
        measured = plan.measured_minutes(step)
        path.add_row(f"{step.start:g}", step.name, step.type, f"{step.minutes:g}", plan.bases.get(step.key, ""),
                     "-" if measured is None else f"{measured:.1f}")
    console.print(path)
    console.print(f"Measured: median of {plan.measured.runs} recorded `make e2e` run(s) in timelines/" if plan.measured.runs
                  else "Measured: no recorded `make e2e` timeline in timelines/ yet")
    verdict = "within" if plan.path.total <= GOAL_MINUTES else "[red]over[/]"
    console.print(f"[bold]Total: {plan.path.total:g} min[/] over {len(plan.path.steps)} steps ({verdict} the {GOAL_MINUTES}-minute goal)")
    unsourced = [step.name for step in plan.path.steps if plan.bases.get(step.key) == "unsourced"]
    if unsourced:
        console.print(f"Unsourced figures on the path (see their reason in the JSON createTimes): {', '.join(unsourced)}")
    for key, entry in plan.create_times.items():
        for step in entry.get("steps", []):
            console.print(f"  {key}: {step['step']} {step['minutes']:g} min ({step['basis']})")
    if plan.missing_types:
        console.print(f"[red]Types without a create time in planner/prices.yaml (timed at 0):[/] {', '.join(plan.missing_types)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml), default dev")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the plan as JSON to PATH")
    parser.add_argument("--set", metavar="NS:KEY=VALUE", action="append", default=[],
                        help="override a config value as `pulumi config set` would (repeatable)")
    parser.add_argument("--price-region", help="price the stack as if in this region (default: the stack's)")
    args = parser.parse_args(argv)

    console = Console()
    err = Console(stderr=True)
    try:
        plan = run(args.stack, args.set, args.price_region)
    except PlanError as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        return 2
    render(plan, console)
    if args.json:
        args.json.write_text(json.dumps(to_json(plan), indent=2, default=str) + "\n")
        console.print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
