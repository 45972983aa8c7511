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
from rich.table import Table as RichTable
from rich.tree import Tree

from planner.plan import Plan, PlanError, run


def to_json(plan: Plan) -> dict[str, Any]:
    costs = plan.costs
    return {
        "stack": plan.stack,
        "region": plan.region,
        "priceRegion": plan.price_region,
        "resources": {"total": sum(plan.type_counts.values()), "byType": plan.type_counts, "tree": plan.tree},
        "policies": plan.policies,
        "cost": {
            "knownHourlyUsd": round(costs.known_hourly_usd, 6),
            "complete": costs.complete,
            "unknownItems": costs.unknown_items,
            "label": costs.label,
            "flinkMaxHourlyUsd": costs.flink_max_hourly_usd,
            "lines": [dataclasses.asdict(line) for line in costs.lines],
        },
        "deployTime": {
            "totalMinutes": plan.path.total,
            "criticalPath": [
                {**dataclasses.asdict(step), "defaultTime": step.key in plan.default_timed} for step in plan.path.steps
            ],
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
    for column in ("resource", "item", "qty", "unit price", "per hour", "why unknown"):
        cost.add_column(column)
    for line in plan.costs.lines:
        qty = "by load" if line.quantity is None else f"{line.quantity:g}"
        unit = "UNKNOWN" if line.unit_usd is None else f"${line.unit_usd:g}/{line.unit}"
        hourly = "[red]UNKNOWN[/]" if line.hourly_usd is None else f"${line.hourly_usd:.4f}"
        cost.add_row(line.resource, line.item, qty, unit, hourly, line.reason)
    console.print(cost)
    console.print(f"[bold]Total: {plan.costs.label}[/]")
    if plan.costs.flink_max_hourly_usd is not None:
        console.print(f"Flink ceiling (pool max CFU × CFU price): ${plan.costs.flink_max_hourly_usd:.2f}/h")
    sources = RichTable(title="Price sources (planner/prices.yaml)")
    for column in ("item", "taken", "source"):
        sources.add_column(column)
    for price_id, source, taken in sorted({(l.item.split(" [")[0], l.source, l.taken) for l in plan.costs.lines}):
        sources.add_row(price_id, taken, source)
    console.print(sources)

    console.rule("Modeled deploy time (critical path)")
    path = RichTable()
    for column in ("start (min)", "resource", "type", "minutes"):
        path.add_column(column)
    for step in plan.path.steps:
        marker = " *" if step.key in plan.default_timed else ""
        path.add_row(f"{step.start:g}", step.name, step.type, f"{step.minutes:g}{marker}")
    console.print(path)
    console.print(f"[bold]Total: {plan.path.total:g} min[/] over {len(plan.path.steps)} steps"
                  " (* = no sourced create time, default used)")
    defaults = sorted(t for t, v in plan.create_times.items() if v["default"])
    if defaults:
        console.print(f"Types with the default create time *: {', '.join(defaults)}")


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
