"""The offline planner: critical path, cost table, unknown prices, JSON output and CLI errors."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from planner.__main__ import main as planner_main
from planner.costs import estimate
from planner.graph import Node, critical_path
from planner.plan import build
from planner.table import BASES, TABLE_PATH, Table

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
        assert plan.create_times["eks:index:Cluster"]["minutes"] == Table.load().create_time("eks:index:Cluster", "x").minutes


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
    assert isinstance(yaml.safe_load(TABLE_PATH.read_text())["taken"], datetime.date)
    for price_id, entry in table.prices.items():
        assert entry.get("source"), price_id
        values = [entry.get("all_regions"), *(entry.get("regions") or {}).values()]
        if any(v is None for v in values) or not [v for v in values if v is not None]:
            assert entry.get("unknown_reason"), f"{price_id}: unknown prices need a reason"
    for entry in table.create_entries:
        assert entry.get("source") and entry["basis"] in BASES, entry
        assert "minutes" in entry or entry["basis"] == "seconds" or entry.get("oracle_boot"), entry
        if entry["basis"] == "upper-bound":
            assert "timeout" in entry["source"], entry
    assert table.seconds["why"] and len(table.seconds["sources"]) >= 2
    for step in table.oracle_boot["steps"]:
        assert step.get("pull") or (step["basis"] in BASES and step["source"]), step
    for key in ("flink_cfu_per_continuous_statement", "connector_tasks", "data_transfer", "hours_per_month", "kafka_ecku",
                "alb_lcu_per_hour", "nat_processed_gb_per_hour", "eks_auto_mode_nodes", "eks_auto_mode_instance_type"):
        assert key in table.assumptions


def test_every_unknown_price_says_where_its_vendor_rate_is_published():
    data = yaml.safe_load(TABLE_PATH.read_text())
    assert len(data["searched"]) >= 3  # what was looked through for the prices still UNKNOWN
    for price_id, entry in data["prices"].items():
        if entry.get("all_regions") is not None:
            continue
        reason = entry["unknown_reason"]
        assert "searched" in reason, price_id
        if reason.count("amazonaws.com/offers/"):  # AWS: the service's offer file for the region
            assert "/current/eu-central-1/index.json" in reason, price_id
        else:  # Confluent: its pricing page
            assert "https://www.confluent.io/pricing/" in reason, price_id


def test_unknown_prices_stay_unknown_and_make_the_total_a_lower_bound(dev):
    table = Table.load()
    assert table.price("nat_gateway", "eu-central-1").usd is None  # not 0
    assert table.price("nat_gateway", "ap-south-1").usd is None  # a region the table lacks
    assert table.price("public_ipv4", "ap-south-1").usd == 0.005  # the same in every region
    summary = estimate(dev.resources, "eu-central-1", table)
    unknown = [line for line in summary.lines if line.hourly_usd is None]
    assert unknown and all(line.reason for line in unknown)
    assert summary.label.startswith("at least ")
    assert summary.known_hourly_usd == pytest.approx(sum(l.hourly_usd for l in summary.lines if l.hourly_usd is not None))


def _table(prices: dict) -> Table:
    return Table({
        "taken": "2026-01-01",
        "assumptions": {"hours_per_month": 730, "flink_cfu_per_continuous_statement": 1, "connector_tasks": 1,
                        "nat_processed_gb_per_hour": 2},
        "prices": {name: {"unit": "h", "all_regions": usd, "source": "s"} for name, usd in prices.items()},
        "create_minutes": {"seconds": {"minutes": 0.25, "why": "w", "sources": []}, "entries": []},
    })


class R:
    def __init__(self, type_, inputs=None):
        self.type, self.name, self.inputs = type_, type_, inputs or {}


def test_usage_dependent_lines_take_their_quantities_from_the_assumptions(dev, dev_plan):
    assumptions = dev_plan.assumptions
    lines = [*dev_plan.costs.lines, *dev_plan.original_costs.lines]
    assert all(line.quantity is not None for line in lines)  # nothing left "by load"
    by_item = {}
    for line in lines:
        by_item.setdefault(line.item, set()).add(line.quantity)
    assert by_item["alb_lcu"] == {assumptions["alb_lcu_per_hour"]}
    assert by_item["nat_gateway_data"] == {assumptions["nat_processed_gb_per_hour"]}
    assert by_item["eks_auto_mode_compute"] == {assumptions["eks_auto_mode_nodes"]}
    assert by_item["confluent_cluster_ecku [basic]"] == by_item["confluent_cluster_ecku [standard]"] == {assumptions["kafka_ecku"]}

    data = yaml.safe_load(TABLE_PATH.read_text())
    data["assumptions"].update(alb_lcu_per_hour=3, nat_processed_gb_per_hour=0.5, eks_auto_mode_nodes=2)
    changed = estimate(dev.resources, "eu-central-1", Table(data))
    quantities = {line.item: line.quantity for line in changed.lines}
    assert (quantities["alb_lcu"], quantities["nat_gateway_data"], quantities["eks_auto_mode_compute"]) == (3, 0.5, 2)


class _EveryVariant(dict):
    """A synthetic rate for any instance type, node type, package or connector: a fully priced table for tests."""

    def __init__(self, usd: float):
        super().__init__()
        self.usd = usd

    def get(self, key, default=None):
        return self.usd


def test_a_fully_priced_table_gives_the_ratio_to_the_original_demo(dev):
    data = yaml.safe_load(TABLE_PATH.read_text())
    for rate, entry in enumerate(data["prices"].values(), start=1):
        if entry.get("all_regions") is None:
            entry["all_regions"] = _EveryVariant(rate / 100) if entry.get("by") else rate / 100
    data["assumptions"]["eks_auto_mode_instance_type"] = "c6a.large"
    plan = build(dev, "dev", "eu-central-1", table=Table(data))
    assert plan.costs.complete and plan.original_costs.complete
    assert not plan.costs.label.startswith("at least")
    assert plan.cost_ratio == pytest.approx(plan.costs.known_hourly_usd / plan.original_costs.known_hourly_usd)
    # three OpenSearch nodes, Advanced governance, Standard Kafka: the original demo costs more on the same rates
    assert plan.cost_ratio < 1


def test_a_fully_known_table_gives_an_exact_total():
    table = _table({"nat_gateway": 0.5, "nat_gateway_data": 0.1, "public_ipv4": 0.25})
    summary = estimate([R("aws:ec2/natGateway:NatGateway"), R("aws:ec2/eip:Eip")], "eu-central-1", table)
    assert summary.complete and summary.label == "$0.9500/h"  # the gateway-hour, 2 GB processed, its address


def test_continuous_flink_work_is_priced_per_statement_and_per_materialized_table():
    table = _table({"flink_cfu": 0.21})
    resources = [
        R("confluentcloud:index/flinkStatement:FlinkStatement", {"statement": "ALTER TABLE t SET ('a' = 'b')"}),
        R("confluentcloud:index/flinkStatement:FlinkStatement", {"statement": "CREATE TABLE t AS SELECT * FROM s"}),
        R("confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable", {"query": "SELECT * FROM s"}),
    ]
    summary = estimate(resources, "eu-central-1", table)
    assert [line.item for line in summary.lines] == ["flink_cfu", "flink_cfu"]  # the DDL stops billing once done
    assert summary.known_hourly_usd == pytest.approx(0.42)


def test_materialized_tables_are_timed_like_statements_reaching_running():
    table = Table.load()
    table_time = table.create_time("confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable", "x-flagged-user")
    statement = table.create_time("confluentcloud:index/flinkStatement:FlinkStatement", "x-05-flagged-transaction")
    assert not table_time.missing and table_time.minutes == statement.minutes
    assert "RUNNING" in table_time.source


def test_a_type_without_an_entry_is_reported_missing_not_guessed():
    time = Table.load().create_time("aws:lambda/function:Function", "f")
    assert time.missing and time.minutes == 0 and "no entry" in time.source


def test_oracle_gate_is_the_sum_of_its_boot_steps_and_pulls_faster_on_a_wider_link():
    table = Table.load()
    large = table.create_time("pulumi-python:dynamic:Resource", "fraud-dev-oracle-ready", "t3.large")
    xlarge = table.create_time("pulumi-python:dynamic:Resource", "fraud-ha-oracle-ready", "t3.xlarge")
    assert large.basis == "derived"
    assert [step.step for step in large.steps][:3] == ["host boot and Docker install", "image pull", "XE first start (database creation)"]
    assert large.minutes == pytest.approx(sum(step.minutes for step in large.steps), abs=0.01)
    pull = {step.step: step for step in large.steps}["image pull"]
    # 9 GB at 0.512 Gbps (140.6 s) plus 9 GB written at 125 MiB/s (68.7 s)
    assert pull.minutes == pytest.approx((9e9 * 8 / 0.512e9 + 9e9 / (125 * 2**20)) / 60, abs=0.01)
    assert xlarge.minutes < large.minutes
    with pytest.raises(KeyError, match="baseline_gbps has no entry for instance type 'm5.large'"):
        table.create_time("pulumi-python:dynamic:Resource", "x-oracle-ready", "m5.large")


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
    cost = plan["cost"]
    summary_fields = {"knownHourlyUsd", "complete", "unknownItems", "label", "flinkMaxHourlyUsd", "lines"}
    assert summary_fields <= set(cost) and set(cost["originalDemo"]) == summary_fields
    assert cost["complete"] == (cost["unknownItems"] == 0)
    assert all(line["hourly_usd"] is not None or line["reason"] for line in cost["lines"] + cost["originalDemo"]["lines"])
    assert cost["ratioToOriginalDemo"] is None or cost["ratioToOriginalDemo"] > 0
    assert cost["assumptions"]["connector_tasks"] == 1
    deploy = plan["deployTime"]
    steps = deploy["criticalPath"]
    assert steps and deploy["totalMinutes"] == pytest.approx(sum(s["minutes"] for s in steps))
    assert deploy["missingTypes"] == [] and all(s["basis"] for s in steps)
    assert deploy["withinGoal"] == (deploy["totalMinutes"] <= deploy["goalMinutes"])
    assert "placeholder" not in out.read_text() and "Beside the original demo" in stdout
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


# --- the waits of the dev program (the mocked program's dependency graph, as the planner reads it) ---


@pytest.fixture(scope="module")
def dev_plan(dev):
    return build(dev, "dev", "eu-central-1")


def waited_for(plan, name: str) -> set[str]:
    """Names of everything a resource waits for, transitively; waiting for a component waits for its children."""
    nodes = plan.schedule.nodes
    children: dict[str, list[str]] = {}
    for node in nodes.values():
        children.setdefault(node.parent, []).append(node.key)
    start = next(node for node in nodes.values() if node.name == name)
    seen: set[str] = set()
    stack = list(start.deps)
    while stack:
        key = stack.pop()
        if key in seen or key not in nodes:
            continue
        seen.add(key)
        stack.extend(nodes[key].deps)
        if not nodes[key].custom:
            stack.extend(children.get(key, []))
    return {nodes[key].name for key in seen}


def test_cdc_connector_waits_for_the_oracle_gate_and_nothing_on_the_cluster(dev_plan):
    waits = waited_for(dev_plan, "fraud-dev-cdc-connector")
    assert "fraud-dev-oracle-ready" in waits
    assert "fraud-dev-app-eks" not in waits
    assert not any("-migrate-" in name for name in waits)
    connector = next(k for k, n in dev_plan.schedule.nodes.items() if n.name == "fraud-dev-cdc-connector")
    gate = next(k for k, n in dev_plan.schedule.nodes.items() if n.name == "fraud-dev-oracle-ready")
    assert dev_plan.schedule.start[connector] == pytest.approx(dev_plan.schedule.finish[gate])


def test_cdc_gate_waits_for_the_rows_the_seeding_job_writes(dev_plan):
    waits = waited_for(dev_plan, "fraud-dev-cdc-ready")
    assert "fraud-dev-cdc-connector" in waits
    assert any("-migrate-" in name for name in waits)


def test_opensearch_and_redshift_start_within_the_first_minute(dev_plan):
    schedule = dev_plan.schedule
    for name in ("fraud-dev-opensearch-domain", "fraud-dev-redshift-cluster"):
        key = next(k for k, n in schedule.nodes.items() if n.name == name)
        assert schedule.start[key] <= 1, (name, schedule.start[key])
        assert not {"fraud-dev-oracle-ready", "fraud-dev-app-eks", "fraud-dev-kafka-cluster"} & waited_for(dev_plan, name)


def test_sinks_wait_for_the_statements_that_create_their_topics_and_their_targets(dev_plan):
    redshift = waited_for(dev_plan, "fraud-dev-sinks-redshift")
    assert {"fraud-dev-flink-03-auth-user", "fraud-dev-flink-04-user-transaction", "fraud-dev-redshift-sink-user"} <= redshift
    assert "fraud-dev-flink-05-flagged-transaction" not in redshift  # not a topic it reads
    opensearch = waited_for(dev_plan, "fraud-dev-sinks-opensearch")
    assert {"fraud-dev-flink-05-flagged-transaction", "fraud-dev-flink-06-flagged-user", "fraud-dev-opensearch-dashboard"} <= opensearch


def test_dev_deploys_within_30_minutes_on_sourced_create_times(dev_plan):
    assert dev_plan.missing_types == []
    assert dev_plan.path.total <= 30
    assert all(dev_plan.bases[step.key] not in ("missing", "unsourced") for step in dev_plan.path.steps)


def test_original_demo_is_priced_with_its_own_configuration(dev_plan):
    items = {line.item: line for line in dev_plan.original_costs.lines}
    assert items["opensearch_instance [t3.small.search]"].quantity == 3
    assert items["redshift_node [ra3.large]"].quantity == 1
    assert items["ec2_instance [t3.large]"].quantity == 1
    assert "stream_governance [ADVANCED]" in items and "confluent_cluster_ecku [standard]" in items
    assert dev_plan.original_costs.flink_max_hourly_usd == pytest.approx(50 * 0.21)
    assert dev_plan.costs.flink_max_hourly_usd == pytest.approx(10 * 0.21)


def test_each_stack_times_its_oracle_gate_with_its_own_instance_type(dev_plan, ha):
    ha_plan = build(ha, "ha", "eu-central-1")
    dev_gate = dev_plan.create_times["pulumi-python:dynamic:Resource (fraud-dev-oracle-ready)"]
    ha_gate = ha_plan.create_times["pulumi-python:dynamic:Resource (fraud-ha-oracle-ready)"]
    assert "t3.large" in dev_gate["source"] and "t3.xlarge" in ha_gate["source"]
    assert ha_gate["minutes"] < dev_gate["minutes"]  # twice the baseline bandwidth for the image pull
    assert [step["step"] for step in dev_gate["steps"]] == [step["step"] for step in ha_gate["steps"]]
