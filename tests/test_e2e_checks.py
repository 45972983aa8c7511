"""The checks of a running stack and the failure diagnostics, against local stand-ins of the services they ask:
a local HTTP server for /healthz, OpenSearch's search API and Confluent Cloud's APIs, the Redshift Data API over a
real PostgreSQL server, moto for SSM."""
from __future__ import annotations

import boto3
import pytest
import requests
from moto import mock_aws

from e2e import diagnostics
from e2e.checks import (
    DERIVED_TABLES,
    StatementFailed,
    Warehouse,
    cluster_identifier,
    confluent_running,
    connector_problems,
    flink_problems,
    healthz,
    opensearch_flags,
    redshift_history,
    run_sql,
)
from e2e.confluent import CloudApi, FlinkApi, organization_id
from e2e.scenarios import FlagsUnavailable, Posted
from e2e.waiting import CheckFailed, wait_until
from tests.e2e_standins import FakeConfluent, FakeOpenSearch, FakeRedshiftData
from tests.fake_clock import FakeClock
from tests.local_http import JsonHandler, LocalServer
from tests.test_redshift_sql import SINK_USER, server, sink_password, warehouse  # noqa: F401 - fixtures

CLOUD_KEY, FLINK_KEY = ("CLOUDKEY", "cloud-secret"), ("FLINKKEY", "flink-secret")
CTAS = {
    "auth_user": "CREATE TABLE auth_user WITH ('changelog.mode' = 'append') AS SELECT 1 AS id",
    "user_transaction": "-- history\nCREATE TABLE user_transaction AS SELECT 1 AS id FROM `fd.SAMPLE.USER_TRANSACTION`",
    "flagged_transaction": "CREATE TABLE flagged_transaction AS SELECT * FROM user_transaction",
    "flagged_user": "CREATE TABLE flagged_user (PRIMARY KEY (account_id) NOT ENFORCED) AS SELECT 1 AS account_id",
}


def fast(probe):
    """The check's wait on a clock that moves only when it sleeps, so a probe that never gets there times out at once:
    it looks at the start, halfway and at the deadline."""
    clock = FakeClock()
    return wait_until(probe, "the check", 30, 15, clock=clock, sleep=clock.sleep)


# -- /healthz

def test_healthz_waits_for_the_app_to_answer_ok():
    answers = [503, 503, 200]

    class App(JsonHandler):
        def do_GET(self):
            status = answers.pop(0) if len(answers) > 1 else answers[0]
            self.answer(status, {"status": "ok" if status == 200 else "error"})

    with LocalServer(App) as app:
        assert "HTTP 200" in wait_until(healthz(requests.Session(), app.url), "healthz", 5, 0.01)


def test_healthz_gives_up_with_the_last_answer():
    class App(JsonHandler):
        def do_GET(self):
            self.answer(503, {"status": "error", "error": "DatabaseError"})

    with LocalServer(App) as app, pytest.raises(CheckFailed, match=r"HTTP 503: .*DatabaseError"):
        fast(healthz(requests.Session(), app.url))


# -- OpenSearch

def test_opensearch_flags_are_read_as_the_master_user_and_a_missing_index_means_not_yet():
    with FakeOpenSearch("fraud_admin", "pw") as search:
        read = lambda: opensearch_flags(requests.Session(), search.url, "fraud_admin", "pw")  # noqa: E731
        search.indexes["flagged_user"] = [{"username": "ann", "reason": "count"}]
        with pytest.raises(FlagsUnavailable, match="index flagged_transaction does not exist yet"):
            read()
        search.indexes["flagged_transaction"] = [{"transaction_id": 7}] * 12  # more than the default page of 10
        flags = read()
        assert flags.users == [{"username": "ann", "reason": "count"}] and len(flags.transactions) == 12
        with pytest.raises(CheckFailed, match=r"refused fraud_admin .*HTTP 401.*opensearchAccessCidrs"):
            opensearch_flags(requests.Session(), search.url, "fraud_admin", "wrong")


# -- Redshift history through the Data API

CLUSTER = "fraud-e2e-1201abcd-redshift"


@pytest.fixture
def history(server, warehouse, dev):  # noqa: F811 - fixtures from test_redshift_sql
    """The Data API stand-in over a warehouse prepared by the stack's own SQL, and a boto3 client for it."""
    with FakeRedshiftData(server, CLUSTER) as data_api:
        client = boto3.client("redshift-data", region_name="eu-central-1", endpoint_url=data_api.url,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        sink = {"database": warehouse, "user": SINK_USER, "password": sink_password(dev)}
        yield client, Warehouse(CLUSTER, warehouse, server.admin, "fraud"), lambda sql: server.ok(sql, **sink)


POSTED = [Posted("burst_amount", "ann", (11, 12, 13), 0.0), Posted("large_amount", "o'hara", (14,), 0.0)]


def test_the_history_check_waits_for_the_sinks_tables_and_rows(history):
    client, target, as_sink = history
    probe = redshift_history(client, target, POSTED, poll=0.01)
    with pytest.raises(CheckFailed, match=r'relation "fraud.user_transaction" does not exist'):
        fast(probe)
    # What the Redshift sink does with auto.create: its tables in its schema, one row per change.
    as_sink("CREATE TABLE fraud.user_transaction (id BIGINT, account_id BIGINT, amount NUMERIC(12, 2), cdc_op VARCHAR(1))")
    as_sink("CREATE TABLE fraud.auth_user (id BIGINT, username VARCHAR(150), cdc_op VARCHAR(1))")
    as_sink("INSERT INTO fraud.user_transaction VALUES (11, 1, 500, 'c'), (12, 1, 500, 'c'), (12, 1, 500, 'u')")
    as_sink("INSERT INTO fraud.auth_user VALUES (1, 'ann', 'r')")
    with pytest.raises(CheckFailed, match=r"user_transaction lacks transaction\(s\) \[13, 14\]; auth_user lacks \[\"o'hara\"\]"):
        fast(probe)
    as_sink("INSERT INTO fraud.user_transaction VALUES (13, 1, 600, 'c'), (14, 2, 2500, 'c')")
    as_sink("INSERT INTO fraud.auth_user VALUES (2, 'o''hara', 'r')")
    assert fast(probe) == "4 transactions and 2 customers"


def test_run_sql_polls_the_statement_and_pages_its_result(history):
    client, target, _ = history
    rows = run_sql(client, target, "SELECT n, n * 1.5 AS half, 'x' || n AS label, NULL AS nothing FROM generate_series(1, 5) n",
                   poll=0.01)
    assert rows == [[n, n * 1.5, f"x{n}", None] for n in range(1, 6)]  # five rows over three pages of two
    with pytest.raises(StatementFailed, match="FAILED: .*division by zero"):
        run_sql(client, target, "SELECT 1 / 0", poll=0.01)


def test_the_cluster_identifier_is_the_first_label_of_its_endpoint():
    assert cluster_identifier(f"{CLUSTER}.cq1xyz.eu-central-1.redshift.amazonaws.com") == CLUSTER


# -- Confluent: connectors and Flink

def running_platform(fake: FakeConfluent) -> None:
    fake.add_environment("env-1", "fraud-e2e-1201abcd-env")
    for name, connector_id in (("cdc", "lcc-1"), ("redshift", "lcc-2"), ("opensearch", "lcc-3")):
        fake.add_connector("env-1", "lkc-1", name, connector_id)
    fake.add_statement("fraud-01-alter", "ALTER TABLE `fd.SAMPLE.AUTH_USER` SET ('changelog.mode' = 'append')", "COMPLETED")
    for table, sql in CTAS.items():
        fake.add_statement(f"fraud-{table.replace('_', '-')}", sql, "RUNNING")


def apis(fake: FakeConfluent, flink_key=FLINK_KEY) -> tuple[CloudApi, FlinkApi]:
    cloud = CloudApi(*CLOUD_KEY, base_url=fake.url)
    environment = cloud.environment("env-1")
    return cloud, FlinkApi(cloud.flink_endpoint("AWS", "eu-central-1"), organization_id(environment), "env-1", *flink_key)


def test_connectors_must_run_with_all_their_tasks():
    with FakeConfluent() as fake:
        running_platform(fake)
        fake.add_connector("env-1", "lkc-1", "opensearch", "lcc-3", state="FAILED", tasks=("FAILED",),
                           trace="org.opensearch.client.ResponseException: 403 Forbidden")
        fake.add_connector("env-1", "lkc-1", "redshift", "lcc-2", state="RUNNING", tasks=("RUNNING", "UNASSIGNED"))
        problems = connector_problems(CloudApi(*CLOUD_KEY, base_url=fake.url).connectors("env-1", "lkc-1"),
                                      ["lcc-1", "lcc-2", "lcc-3", "lcc-9"])
    assert problems == [
        "connector redshift (lcc-2) is RUNNING (task 0 RUNNING, task 1 UNASSIGNED)",
        "connector opensearch (lcc-3) is FAILED (task 0 FAILED): org.opensearch.client.ResponseException: 403 Forbidden",
        "connector lcc-9 is not in the cluster (it has: cdc, redshift, opensearch)",
    ]


def statement(name, sql, phase, detail=""):
    return {"name": name, "spec": {"statement": sql}, "status": {"phase": phase, "detail": detail}}


def test_flink_runs_when_every_derived_table_has_a_running_producer():
    statements = [statement("alter", "ALTER TABLE x SET ()", "COMPLETED")]
    statements += [statement(f"s-{t}", sql, "RUNNING") for t, sql in CTAS.items()]
    assert flink_problems(statements, []) == []
    # The same tables as Confluent materialized tables: RUNNING ones count, others are named.
    tables = [{"name": t, "status": {"phase": "RUNNING"}} for t in DERIVED_TABLES]
    assert flink_problems([], tables) == []
    tables[DERIVED_TABLES.index("flagged_user")]["status"] = {"phase": "FAILED", "detail": "Invalid primary key"}
    assert flink_problems([], tables) == ["materialized table flagged_user is FAILED: Invalid primary key",
                                          "no RUNNING statement or materialized table produces flagged_user"]


def test_flink_names_a_failed_or_pending_statement_and_the_tables_nothing_produces():
    statements = [statement("s-auth", CTAS["auth_user"], "FAILED", "Column 'ID' not found"),
                  statement("s-tx", CTAS["user_transaction"], "PENDING")]
    assert flink_problems(statements, []) == [
        "statement s-auth is FAILED: Column 'ID' not found",
        "statement s-tx is PENDING",
        *(f"no RUNNING statement or materialized table produces {t}" for t in DERIVED_TABLES),
    ]


def test_confluent_check_passes_on_a_running_platform_and_reads_every_page():
    with FakeConfluent() as fake:
        running_platform(fake)
        for n in range(150):  # more statements than one page holds
            fake.add_statement(f"old-ddl-{n}", "ALTER TABLE t SET ()", "COMPLETED")
        cloud, flink = apis(fake)
        assert len(flink.statements()) == 155
        assert fast(confluent_running(cloud, flink, "env-1", "lkc-1", ["lcc-1", "lcc-2", "lcc-3"])) == "all running"
        fake.statements["fraud-flagged-user"]["status"] = {"phase": "FAILED", "detail": "nullable key"}
        with pytest.raises(CheckFailed, match="statement fraud-flagged-user is FAILED: nullable key"):
            fast(confluent_running(cloud, flink, "env-1", "lkc-1", ["lcc-1", "lcc-2", "lcc-3"]))


def test_a_refused_key_fails_the_confluent_check_at_once():
    with FakeConfluent() as fake:
        running_platform(fake)
        cloud, flink = apis(fake, flink_key=("FLINKKEY", "wrong"))
        with pytest.raises(CheckFailed, match="Confluent Cloud refused the key: .*HTTP 401"):
            wait_until(confluent_running(cloud, flink, "env-1", "lkc-1", ["lcc-1"]), "confluent", 60, 0.01)


# -- diagnostics

@mock_aws
def test_diagnostics_print_the_gate_the_connectors_flink_and_the_cdc_tables_as_flink_sees_them():
    ssm = boto3.client("ssm", region_name="eu-central-1")
    ssm.put_parameter(Name="/fraud-e2e-1201abcd/oracle/status", Type="String",
                      Value="i-0abc failed: ORA-00257: Archiver error. Connect AS SYSDBA only until resolved.")
    aws = type("Aws", (), {"ssm": ssm})
    with FakeConfluent() as fake:
        running_platform(fake)
        fake.add_connector("env-1", "lkc-1", "cdc", "lcc-1", state="FAILED", tasks=("FAILED",),
                           trace="ORA-26804: Apply XOUT is disabled")
        fake.statements["fraud-flagged-user"]["status"] = {"phase": "FAILED", "detail": "nullable key"}
        fake.describe_rows["fd.SAMPLE.AUTH_USER"] = [["before", "ROW<ID BIGINT>", "NULL"], ["op", "STRING", "NOT NULL"]]
        fake.describe_rows["fd.SAMPLE.USER_TRANSACTION"] = [["ID", "BIGINT", "NOT NULL"]]
        cloud = CloudApi(*CLOUD_KEY, base_url=fake.url)
        sections = diagnostics.collect("e2e-1201abcd", "eu-central-1", {}, {}, aws, cloud, FLINK_KEY, poll=0.01)
        text = diagnostics.render(sections)
        statements_left = sorted(fake.statements)
        pools = {spec["spec"]["compute_pool_id"] for spec in fake.statements.values()}
    assert "/fraud-e2e-1201abcd/oracle/status = i-0abc failed: ORA-00257" in text
    assert "cdc (lcc-1) in lkc-1: FAILED\n  task 0: FAILED\n  trace: ORA-26804: Apply XOUT is disabled" in text
    assert "statement fraud-flagged-user: FAILED nullable key" in text
    assert ("DESCRIBE `fd.SAMPLE.AUTH_USER`:\nColumn Name | Data Type | Nullable\nbefore | ROW<ID BIGINT> | NULL\n"
            "op | STRING | NOT NULL") in text
    assert "DESCRIBE `fd.SAMPLE.USER_TRANSACTION`:\nColumn Name | Data Type | Nullable\nID | BIGINT | NOT NULL" in text
    assert not any(name.startswith("e2e-describe-") for name in statements_left)  # deleted after reading
    assert pools == {"lfcp-1"}
    assert len(fake.deleted) == 2


@mock_aws
def test_a_diagnostic_that_cannot_be_read_says_why_and_the_others_still_print():
    aws = type("Aws", (), {"ssm": boto3.client("ssm", region_name="eu-central-1")})
    with FakeConfluent() as fake:
        running_platform(fake)
        cloud = CloudApi(*CLOUD_KEY, base_url=fake.url)
        sections = diagnostics.collect("e2e-1201abcd", "eu-central-1", {}, {}, aws, cloud, None, poll=0.01)
    by_title = {s.title: s.text for s in sections}
    assert by_title["Oracle readiness gate"].startswith("could not read: ParameterNotFound")
    assert "cdc (lcc-1) in lkc-1: RUNNING" in by_title["Connectors"]
    # Without the stack's Flink key (no outputs) the Cloud key is tried; this stand-in refuses it, as Flink may.
    assert "HTTP 401" in by_title["Flink statements and materialized tables"]


def test_diagnostics_without_an_environment_say_so():
    aws = type("Aws", (), {"ssm": None})
    with FakeConfluent() as fake:
        sections = diagnostics.collect("e2e-x", "eu-central-1", {}, {}, aws, CloudApi(*CLOUD_KEY, base_url=fake.url), None)
    assert sections[-1].text == "no environment fraud-e2e-x-env"
