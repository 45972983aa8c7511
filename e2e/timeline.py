"""The timeline of a run: when each resource's create, update or delete started and ended, from Pulumi's engine
events (``pulumi.automation.events``), one JSON object per line.

The first line describes the run (``{"kind": "run", "stack": ..., "project": ..., "region": ...}``); every other
line is a step of the engine: ``{"kind": "step", "operation": "up"|"destroy", "phase": "start"|"end"|"failed",
"op": "create", "urn": ..., "type": ..., "time": <unix seconds>}``. A step starts with the engine's
ResourcePreEvent and ends with its ResOutputsEvent (done) or ResOpFailedEvent (failed). ``planner/timelines.py``
reads these files to show measured create times beside the modeled ones.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO

from pulumi.automation import events

# Steps that take time at the provider; "same", "read" and "refresh" steps are not timed.
TIMED = frozenset({
    events.OpType.CREATE, events.OpType.UPDATE, events.OpType.DELETE, events.OpType.REPLACE,
    events.OpType.CREATE_REPLACEMENT, events.OpType.DELETE_REPLACED,
})


class Timeline:
    """Appends the steps of one stack's operations to ``path`` as they happen (flushed line by line)."""

    def __init__(self, path: Path, stack: str, project: str, region: str):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file: IO[str] = path.open("a", encoding="utf-8")
        self._write({"kind": "run", "stack": stack, "project": project, "region": region, "time": time.time()})

    def _write(self, record: dict) -> None:
        self.file.write(json.dumps(record, sort_keys=True) + "\n")
        self.file.flush()

    def recorder(self, operation: str):
        """An ``on_event`` callback for ``stack.up``/``stack.destroy`` that records that operation's steps."""

        def on_event(event: events.EngineEvent) -> None:
            for phase, step in (("start", event.resource_pre_event), ("end", event.res_outputs_event),
                                ("failed", event.res_op_failed_event)):
                if step is None or getattr(step, "planning", False) or step.metadata.op not in TIMED:
                    continue
                self._write({
                    "kind": "step", "operation": operation, "phase": phase, "op": step.metadata.op.value,
                    "urn": step.metadata.urn, "type": step.metadata.type,
                    "time": event.timestamp or time.time(),
                })

        return on_event

    def close(self) -> None:
        self.file.close()
