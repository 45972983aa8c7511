"""The offline planner: critical path, cost table, unknown prices, JSON output and CLI errors."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.__main__ import main as planner_main
from planner.costs import estimate
from planner.graph import Node, critical_path
from planner.plan import build
from planner.table import Table

ROOT = Path(__file__).resolve().parent.parent


def node(key, deps=(), parent="", custom=True):
    return Node(key, key, f"test:{'custom' if custom else 'component'}", custom, parent, frozenset(deps))


def test_critical_path_of_a_hand_made_graph():
    # a(3) -> b(2) -> d(4); a -> c(10) inside component K with e(1); f(2) waits for K as a whole.
    nodes = [
        node("a"), node("b", ["a"]), node("d", ["b"]),
        node("K", custom=False), node("c", ["a"], parent="K"), node("e", parent="K"),
        node("f", ["K"]),
    ]
    minutes = {"a": 3, "b": 2, "c": 10, "d": 4, "e": 1, "f": 2}
    path = critical_path(nodes, lambda n: minutes[n.key])
    assert [s.key for s in path.steps] == ["a", "c", "f"]
    assert [s.start for s in path.steps] == [0, 3, 13]
    assert path.total == 15


def test_critical_path_ignores_waits_on_own_ancestor_and_prefers_a_sink_on_ties():
    # x waits for its own parent component (it completes through x): no cycle, no wait.
    nodes = [node("P", custom=False), node("x", ["P"], parent="P"), node("y", ["x"]), node("z")]
    minutes = {"x": 5, "y": 0, "z": 5}
    path = critical_path(nodes, lambda n: minutes[n.key])
    assert path.total == 5
    assert path.steps[-1].key in {"y", "z"}  # x is waited on by y; a sink ends the path
    assert [s.key for s in path.steps][-2:] in (["x", "y"], ["z"])


def test_critical_path_of_the_dev_program(dev):
    plan = build(dev, "dev", "eu-central-1")
    steps = plan.path.steps
    assert steps, "the dev program has no critical path"
    waited_on = {dep for r in dev.resources for dep in dev.direct_dependencies(r)}
    assert steps[-1].key not in waited_on, f"{steps[-1].name} is waited on, not a sink"
    assert plan.path.total == pytest.approx(sum(s.minutes for s in steps))
    for before, after in zip(steps, steps[1:]):
        assert after.start == pytest.approx(before.start + before.minutes)
        assert _waits_for(dev, dev.by_urn(after.key), dev.by_urn(before.key)), f"{after.name} does not wait for {before.name}"
    assert plan.path.total > 0
    # A remote component (one registration under mocks, e.g. the EKS cluster) takes its table time.
    if dev.of_type("eks:index:Cluster"):
        assert plan.create_times["eks:index:Cluster"]["minutes"] == 15


def _waits_for(program, after, before) -> bool:
    """``after`` depends on ``before`` directly, through its provider, or on a component ``before`` belongs to."""
    waits = set(program.direct_dependencies(after))
    if after.provider:
        waits.add(after.provider.rsplit("::", 1)[0])
    for urn in waits:
        if urn == before.urn:
            return True
        found = [r for r in program.resources if r.urn == urn]
        if found and not found[0].custom and before in program.descendants(found[0]):
            return True
    return False


def test_every_table_entry_has_a_source_and_a_date_and_a_price_or_a_reason():
    table = Table.load()
    for price_id, entry in table.prices.items():
        assert entry.get("source"), price_id
        assert isinstance(entry.get("taken"), datetime.date), f"{price_id}: taken must be a date"
        values = [entry.get("all_regions"), *(entry.get("regions") or {}).values()]
        if any(v is None for v in values) or not [v for v in values if v is not None]:
            assert entry.get("unknown_reason"), f"{price_id}: unknown prices need a reason"
    for entry in table.create_entries:
        assert entry.get("source") and entry.get("minutes") is not None, entry


def test_unknown_prices_stay_unknown_and_make_the_total_a_lower_bound(dev):
    table = Table.load()
    assert table.price("nat_gateway", "eu-central-1").usd is None  # not 0
    assert table.price("nat_gateway", "ap-south-1").usd is None  # a region the table lacks
    assert table.price("nat_gateway", "us-east-1").usd == 0.045
    summary = estimate(dev.resources, "eu-central-1", table)
    unknown = [line for line in summary.lines if line.hourly_usd is None]
    assert unknown and all(line.reason for line in unknown)
    assert summary.label.startswith("at least ")
    assert summary.known_hourly_usd == pytest.approx(sum(l.hourly_usd for l in summary.lines if l.hourly_usd is not None))


def test_a_fully_known_table_gives_an_exact_total():
    table = Table({
        "prices": {"nat_gateway": {"unit": "h", "all_regions": 0.5, "source": "s", "taken": "2026-01-01"},
                   "public_ipv4": {"unit": "h", "all_regions": 0.25, "source": "s", "taken": "2026-01-01"}},
        "create_minutes": {"default": {"minutes": 1, "source": "s"}, "entries": []},
    })

    class R:
        def __init__(self, type_):
            self.type, self.name, self.inputs = type_, type_, {}

    summary = estimate([R("aws:ec2/natGateway:NatGateway"), R("aws:ec2/eip:Eip")], "eu-central-1", table)
    assert summary.complete and summary.label == "$0.7500/h"


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_the_plan_as_json(tmp_path, capsys, dev):
    out = tmp_path / "plan.json"
    assert planner_main(["--stack", "dev", "--json", str(out)]) == 0
    stdout = capsys.readouterr().out
    plan = json.loads(out.read_text())
    assert plan["stack"] == "dev" and plan["region"] == "eu-central-1"
    assert plan["resources"]["total"] == sum(plan["resources"]["byType"].values()) > 0
    assert {c["type"] for c in plan["resources"]["tree"]["components"]} >= {"fraud:network:NetworkStack"}
    assert plan["cost"]["label"].startswith("at least") and plan["cost"]["unknownItems"] > 0
    assert any(line["hourly_usd"] is None for line in plan["cost"]["lines"])
    steps = plan["deployTime"]["criticalPath"]
    assert steps and plan["deployTime"]["totalMinutes"] == pytest.approx(sum(s["minutes"] for s in steps))
    assert plan["policies"]["available"] and plan["policies"]["stack"] == "dev"
    assert plan["policies"]["policies"] and isinstance(plan["policies"]["findings"], list)
    assert "Modeled deploy time" in stdout and "Estimated hourly cost" in stdout
    assert "mandatory" in stdout and "advisory violation(s)" in stdout


def test_cli_rejects_an_unknown_stack_without_a_traceback():
    result = _cli("--stack", "nope")
    assert result.returncode != 0
    assert "Pulumi.nope.yaml" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_cli_reports_bad_config_with_the_key_named():
    result = _cli("--stack", "dev", "--set", "fraud-detection:azCount=9")
    assert result.returncode != 0
    assert "fraud-detection:azCount" in result.stderr and "from 2 to 4" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_reports_a_wrong_type_and_an_undeclared_key_as_pulumi_would_refuse_them():
    wrong_type = _cli("--stack", "dev", "--set", "fraud-detection:natPerAz=sometimes")
    assert wrong_type.returncode != 0 and "Traceback" not in wrong_type.stderr + wrong_type.stdout
    assert "configuration key 'natPerAz' must be of type 'boolean'" in wrong_type.stderr
    typo = _cli("--stack", "dev", "--set", "fraud-detection:azcount=2")
    assert typo.returncode != 0 and "did you mean fraud-detection:azCount?" in typo.stderr
