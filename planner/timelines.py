"""Measured create times from recorded `make e2e` timelines, to set beside the modeled ones in `make plan`.

A timeline (``timelines/*.jsonl``, written by e2e/timeline.py) holds when each resource's create started and
ended on a real account. A resource is matched by its type and by its name with the stack's name in it made
generic, so a run of stack ``e2e-1201abcd`` measures the dev stack's ``fraud-dev-...`` resources too. With
several runs the median counts.
"""
from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TIMELINES_DIR = Path(__file__).resolve().parent.parent / "timelines"
STACK_TOKEN = "{stack}"


@dataclass(frozen=True)
class Measured:
    minutes: dict[tuple[str, str], float] = field(default_factory=dict)  # (type, generic name) -> median minutes
    runs: int = 0

    def of(self, stack: str, type_: str, name: str) -> float | None:
        return self.minutes.get((type_, generic_name(name, stack)))


def generic_name(name: str, stack: str) -> str:
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(stack)}(?![A-Za-z0-9])", STACK_TOKEN, name)


def load(directory: Path = TIMELINES_DIR) -> Measured:
    """Every recorded run's create durations; a malformed file is an error naming the file and line."""
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    paths = sorted(directory.glob("*.jsonl"))
    for path in paths:
        stack, started = "", {}
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            try:
                record = json.loads(line)
                if record["kind"] == "run":
                    stack = record["stack"]
                elif record["operation"] == "up" and record["op"] == "create":
                    if record["phase"] == "start":
                        started[record["urn"]] = float(record["time"])
                    elif record["phase"] == "end" and record["urn"] in started:
                        name = record["urn"].rsplit("::", 1)[-1]
                        seconds = float(record["time"]) - started.pop(record["urn"])
                        samples[(record["type"], generic_name(name, stack))].append(seconds / 60)
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a timeline record of e2e/timeline.py ({error!r})") from None
        if not stack:
            raise ValueError(f"{path}: no run record (the first line names the stack)")
    return Measured({key: statistics.median(values) for key, values in samples.items()}, len(paths))
