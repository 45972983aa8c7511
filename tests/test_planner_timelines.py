"""`make plan` sets the create times measured by `make e2e` (timelines written by e2e/timeline.py from engine
events) beside the modeled ones. The timelines here are written by the e2e writer itself from synthetic events."""
from __future__ import annotations

import pytest
from pulumi.automation import events

from e2e.timeline import Timeline
from planner.__main__ import to_json
from planner.plan import build
from planner.timelines import Measured, generic_name, load

EKS = ("eks:index:Cluster", "fraud-{stack}-app-eks")


def record(path, stack: str, steps: list[tuple[str, str, str, str, int]]) -> None:
    """steps: (operation, kind of event, op, urn tail 'type::name', unix time)."""
    timeline = Timeline(path, stack, "fraud-detection", "eu-central-1")
    recorders = {"up": timeline.recorder("up"), "destroy": timeline.recorder("destroy")}
    for operation, kind, op, tail, at in steps:
        type_, name = tail.split("::")
        urn = f"urn:pulumi:{stack}::fraud-detection::fraud:app:EksApp${type_}::{name}"
        metadata = {"op": op, "urn": urn, "type": type_, "provider": ""}
        recorders[operation](events.EngineEvent.from_json({"sequence": at, "timestamp": at, kind: {"metadata": metadata}}))
    timeline.close()


def eks_run(path, stack: str, minutes: float) -> None:
    tail = f"eks:index:Cluster::fraud-{stack}-app-eks"
    record(path, stack, [
        ("up", "resourcePreEvent", "create", tail, 1000),
        ("up", "resOutputsEvent", "create", tail, 1000 + int(minutes * 60)),
        ("destroy", "resourcePreEvent", "delete", tail, 9000),
        ("destroy", "resOutputsEvent", "delete", tail, 9600),
    ])


def test_names_lose_only_the_stack(tmp_path):
    assert generic_name("fraud-e2e-1201abcd-app-eks", "e2e-1201abcd") == "fraud-{stack}-app-eks"
    assert generic_name("fraud-dev-devices", "dev") == "fraud-{stack}-devices"


def test_the_median_create_time_of_every_run(tmp_path):
    eks_run(tmp_path / "a.jsonl", "e2e-1201aaaa", 14)
    eks_run(tmp_path / "b.jsonl", "e2e-1202bbbb", 16)
    eks_run(tmp_path / "c.jsonl", "e2e-1203cccc", 20)
    measured = load(tmp_path)
    assert measured.runs == 3
    assert measured.minutes == {EKS: 16.0}  # deletes are not creates
    assert measured.of("dev", "eks:index:Cluster", "fraud-dev-app-eks") == 16.0


def test_a_create_that_failed_is_not_a_measurement(tmp_path):
    tail = "eks:index:Cluster::fraud-e2e-1201aaaa-app-eks"
    record(tmp_path / "a.jsonl", "e2e-1201aaaa", [("up", "resourcePreEvent", "create", tail, 0),
                                                  ("up", "resOpFailedEvent", "create", tail, 600)])
    assert load(tmp_path).minutes == {}


def test_a_malformed_timeline_is_an_error_naming_the_file_and_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"kind": "run", "stack": "e2e-x"}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a timeline record"):
        load(tmp_path)


def test_make_plan_shows_the_measured_time_beside_the_modeled_one(dev, tmp_path):
    first = build(dev, "dev", "eu-central-1", measured=Measured()).path.steps[0]
    name = first.name.replace("fraud-dev-", "fraud-e2e-1201aaaa-")
    tail = f"{first.type}::{name}"
    record(tmp_path / "a.jsonl", "e2e-1201aaaa", [("up", "resourcePreEvent", "create", tail, 1000),
                                                  ("up", "resOutputsEvent", "create", tail, 1810)])
    plan = build(dev, "dev", "eu-central-1", measured=load(tmp_path))
    steps = {step["name"]: step for step in to_json(plan)["deployTime"]["criticalPath"]}
    assert steps[first.name]["measuredMinutes"] == 13.5
    assert steps[first.name]["minutes"] == first.minutes  # the modeled figure stays as it was
    assert all(step["measuredMinutes"] is None for name, step in steps.items() if name != first.name)


def test_without_timelines_nothing_is_measured(dev):
    plan = build(dev, "dev", "eu-central-1", measured=Measured())
    assert all(step["measuredMinutes"] is None for step in to_json(plan)["deployTime"]["criticalPath"])
