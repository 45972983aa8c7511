"""The original demo's billed resources (planner/prices.yaml `original_demo`), priced like the stack's own.

The original is a Terraform demo whose connectors and Flink statements are added by hand in its lab; its
configuration is listed once in prices.yaml so `cost.originalDemo` uses the same price table, rules and
assumptions as `cost`, and the two can be set side by side line for line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.costs import CostSummary, estimate
from planner.table import Table


@dataclass(frozen=True)
class DemoResource:
    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)


def resources(table: Table) -> list[DemoResource]:
    return [DemoResource(r["type"], f"original-{r['name']}", dict(r.get("inputs") or {}))
            for r in table.original_demo["resources"]]


def original_costs(table: Table, region: str) -> CostSummary:
    return estimate(resources(table), region, table)
