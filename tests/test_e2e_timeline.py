"""The timeline written from Pulumi's engine events (the Automation API's own event classes, built from the JSON
the CLI's event log carries)."""
from __future__ import annotations

import json

from pulumi.automation import events

from e2e.timeline import Timeline

VPC = "urn:pulumi:e2e-x::fraud-detection::aws:ec2/vpc:Vpc::fraud-e2e-x-vpc"


def event(kind: str, op: str, urn: str, at: int, **extra) -> events.EngineEvent:
    metadata = {"op": op, "urn": urn, "type": urn.split("::")[2].split("$")[-1], "provider": ""}
    return events.EngineEvent.from_json({"sequence": at, "timestamp": at, kind: {"metadata": metadata, **extra}})


def test_each_create_and_delete_is_recorded_with_its_start_and_end(tmp_path):
    timeline = Timeline(tmp_path / "run.jsonl", "e2e-x", "fraud-detection", "eu-central-1")
    up, destroy = timeline.recorder("up"), timeline.recorder("destroy")
    up(event("resourcePreEvent", "create", VPC, 100))
    up(event("resourcePreEvent", "same", "urn:pulumi:e2e-x::fraud-detection::pulumi:pulumi:Stack::s", 101))
    up(event("resourcePreEvent", "create", VPC + "2", 102, planning=True))  # a preview step: not timed
    up(events.EngineEvent.from_json({"sequence": 5, "timestamp": 103, "diagnosticEvent": {"message": "hi", "color": "never", "severity": "info"}}))
    up(event("resOutputsEvent", "create", VPC, 112))
    up(event("resourcePreEvent", "create", VPC + "-igw", 113))
    up(event("resOpFailedEvent", "create", VPC + "-igw", 120, status=1, steps=1))
    destroy(event("resourcePreEvent", "delete", VPC, 200))
    destroy(event("resOutputsEvent", "delete", VPC, 230))
    timeline.close()
    lines = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "run" and lines[0]["stack"] == "e2e-x" and lines[0]["region"] == "eu-central-1"
    assert [(l["operation"], l["phase"], l["op"], l["urn"], l["time"]) for l in lines[1:]] == [
        ("up", "start", "create", VPC, 100),
        ("up", "end", "create", VPC, 112),
        ("up", "start", "create", VPC + "-igw", 113),
        ("up", "failed", "create", VPC + "-igw", 120),
        ("destroy", "start", "delete", VPC, 200),
        ("destroy", "end", "delete", VPC, 230),
    ]
    assert {l["type"] for l in lines[1:]} == {"aws:ec2/vpc:Vpc"}
