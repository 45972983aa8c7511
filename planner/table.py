"""The price and create-time table kept in planner/prices.yaml, with lookups that never invent a figure."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TABLE_PATH = Path(__file__).with_name("prices.yaml")
BASES = ("documented", "measured", "provider", "derived", "upper-bound", "seconds", "assumption", "unsourced")


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
class Step:
    """One step of a create time that is the sum of several (the Oracle boot)."""

    step: str
    minutes: float
    basis: str
    source: str


@dataclass(frozen=True)
class CreateTime:
    minutes: float
    source: str
    range: str
    basis: str  # one of BASES, or "missing" when the table has no entry for the type
    steps: tuple[Step, ...] = field(default=())

    @property
    def missing(self) -> bool:
        return self.basis == "missing"


def _is_rate(value: Any) -> bool:
    """A rate record ``{usd, source, taken}`` rather than a number or a map of variants."""
    return isinstance(value, dict) and "usd" in value


class Table:
    def __init__(self, data: dict[str, Any]):
        self.taken = str(data.get("taken", ""))
        self.assumptions: dict[str, Any] = data.get("assumptions", {})
        self.prices: dict[str, dict[str, Any]] = data["prices"]
        create = data["create_minutes"]
        self.seconds: dict[str, Any] = create["seconds"]
        self.create_entries: list[dict[str, Any]] = create["entries"]
        self.oracle_boot: dict[str, Any] = data.get("oracle_boot", {})
        self.original_demo: dict[str, Any] = data.get("original_demo", {})

    @classmethod
    def load(cls, path: Path = TABLE_PATH) -> "Table":
        return cls(yaml.safe_load(path.read_text()))

    def price(self, price_id: str, region: str, variant: str | None = None) -> Price:
        """The unit price for a region (and variant, e.g. an instance type); unknown, never zero, if absent."""
        entry = self.prices[price_id]
        value: Any = entry.get("all_regions")
        if value is None:
            value = (entry.get("regions") or {}).get(region)
        if isinstance(value, dict) and not _is_rate(value):
            value = value.get(variant)
        source, taken = entry["source"], str(entry.get("taken", self.taken))
        if _is_rate(value):  # written by `make prices` (planner/update_prices.py): the rate carries its own source
            source, taken, value = value["source"], str(value["taken"]), value["usd"]
        reason = ""
        if value is None:
            detail = f"{region}" + (f", {variant}" if variant else "")
            reason = f"{entry.get('unknown_reason', 'no sourced price')} [{detail}]"
        return Price(price_id, entry["unit"], None if value is None else float(value), reason, source, taken)

    def create_time(self, type_: str, name: str, oracle_instance_type: str | None = None) -> CreateTime:
        """The entry for a resource; an entry marked ``oracle_boot`` sums the boot steps for the instance type."""
        for entry in self.create_entries:
            if re.fullmatch(entry["type"], type_) and ("name" not in entry or re.search(entry["name"], name)):
                if entry.get("oracle_boot"):
                    return self.oracle_boot_time(oracle_instance_type)
                if entry["basis"] == "seconds" and "minutes" not in entry:
                    minutes = float(self.seconds["minutes"])
                    return CreateTime(minutes, f"{entry['source']} ({self.seconds['why']})", "seconds", "seconds")
                return CreateTime(float(entry["minutes"]), entry["source"], str(entry.get("range", entry["minutes"])),
                                  entry["basis"])
        return CreateTime(0.0, f"no entry for {type_} in planner/prices.yaml", "?", "missing")

    def image_pull_minutes(self, instance_type: str | None) -> Step:
        """Pulling the Oracle image: its bytes at the instance's baseline bandwidth, then written to gp3."""
        boot = self.oracle_boot
        bandwidth = boot["baseline_gbps"].get(instance_type or "")
        if bandwidth is None:
            raise KeyError(
                f"planner/prices.yaml oracle_boot.baseline_gbps has no entry for instance type {instance_type!r}: "
                f"add its baseline network bandwidth from the EC2 instance type specifications"
            )
        image_bytes = float(boot["image_bytes"])
        download = image_bytes * 8 / (float(bandwidth) * 1e9)
        write = image_bytes / (float(boot["disk_mib_per_second"]) * 2**20)
        minutes = round((download + write) / 60, 2)
        source = (f"{image_bytes / 1e9:g} GB at {bandwidth:g} Gbps ({download:.0f} s) plus writing it at "
                  f"{boot['disk_mib_per_second']} MiB/s ({write:.0f} s). Sizes: {boot['image_bytes_source']}. "
                  f"Bandwidth: {boot['baseline_gbps_source']}. Disk: {boot['disk_source']}")
        return Step("image pull", minutes, "derived", source)

    def oracle_boot_time(self, instance_type: str | None) -> CreateTime:
        steps = tuple(
            self.image_pull_minutes(instance_type) if raw.get("pull")
            else Step(raw["step"], float(raw["minutes"]), raw["basis"], raw["source"])
            for raw in self.oracle_boot["steps"]
        )
        total = round(sum(step.minutes for step in steps), 2)
        summary = "; ".join(f"{step.step} {step.minutes:g} min" for step in steps)
        return CreateTime(total, f"the boot script's steps on {instance_type}: {summary}", f"{total:g}", "derived", steps)
