"""The price and create-time table kept in planner/prices.yaml, with lookups that never invent a figure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TABLE_PATH = Path(__file__).with_name("prices.yaml")


@dataclass(frozen=True)
class Price:
    """One looked-up unit price; ``usd`` is None when it is not known (``reason`` says why)."""

    price_id: str
    unit: str
    usd: float | None
    reason: str
    source: str
    taken: str


@dataclass(frozen=True)
class CreateTime:
    minutes: float
    source: str
    range: str
    default: bool


class Table:
    def __init__(self, data: dict[str, Any]):
        self.prices: dict[str, dict[str, Any]] = data["prices"]
        self.create_default: dict[str, Any] = data["create_minutes"]["default"]
        self.create_entries: list[dict[str, Any]] = data["create_minutes"]["entries"]

    @classmethod
    def load(cls, path: Path = TABLE_PATH) -> "Table":
        return cls(yaml.safe_load(path.read_text()))

    def price(self, price_id: str, region: str, variant: str | None = None) -> Price:
        """The unit price for a region (and variant, e.g. an instance type); unknown, never zero, if absent."""
        entry = self.prices[price_id]
        value: Any = entry.get("all_regions")
        if value is None:
            value = (entry.get("regions") or {}).get(region)
        if isinstance(value, dict):
            value = value.get(variant)
        reason = ""
        if value is None:
            detail = f"{region}" + (f", {variant}" if variant else "")
            reason = f"{entry.get('unknown_reason', 'no sourced price')} [{detail}]"
        return Price(price_id, entry["unit"], None if value is None else float(value), reason,
                     entry["source"], str(entry["taken"]))

    def create_time(self, type_: str, name: str) -> CreateTime:
        for entry in self.create_entries:
            if re.fullmatch(entry["type"], type_) and ("name" not in entry or re.search(entry["name"], name)):
                return CreateTime(float(entry["minutes"]), entry["source"], str(entry.get("range", entry["minutes"])), False)
        default = self.create_default
        return CreateTime(float(default["minutes"]), default["source"], str(default["minutes"]), True)
