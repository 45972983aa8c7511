"""The checks of a running stack: each is a probe for ``wait_until`` (done?, what was seen), so every one has a
bounded wait and says what it last saw when it gives up.

- the app answers ``/healthz`` through the ALB;
- OpenSearch holds the flags (read as the master user on the domain endpoint, the indexes the sink writes;
  ``POST /<index>/_search``: https://docs.opensearch.org/latest/api-reference/search-apis/search/);
- Redshift's history tables hold the posted transactions and their customers (Data API, as the admin user with
  temporary credentials, the way the stack's own SQL runs: ExecuteStatement with ClusterIdentifier and DbUser,
  DescribeStatement until FINISHED, FAILED or ABORTED, GetStatementResult paged by NextToken;
  https://docs.aws.amazon.com/redshift-data/latest/APIReference/API_ExecuteStatement.html and
  https://docs.aws.amazon.com/redshift-data/latest/APIReference/API_DescribeStatement.html, read 2026-12-01);
- the three connectors and every Flink statement or materialized table run (Confluent Cloud's APIs, see
  e2e/confluent.py).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests

from sql_text import created_tables
from components.sink_connectors import OPENSEARCH_INDEXES, REDSHIFT_TOPICS
from e2e.confluent import CloudApi, ConfluentApiError, FlinkApi
from e2e.scenarios import Flags, FlagsUnavailable, Posted
from e2e.waiting import CheckFailed, wait_until

REQUEST_TIMEOUT_SECONDS = 30
SEARCH_SIZE = 1000  # a throw-away stack holds a handful of flags
FLAGGED_USER_INDEX, FLAGGED_TRANSACTION_INDEX = (index for index, *_ in OPENSEARCH_INDEXES)
AUTH_USER_TABLE, USER_TRANSACTION_TABLE = REDSHIFT_TOPICS
DERIVED_TABLES = (*REDSHIFT_TOPICS, *(index for index, *_ in OPENSEARCH_INDEXES))
SQL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Statement phases that end well: a streaming statement RUNNING, a DDL statement (ALTER, DROP) COMPLETED.
STATEMENT_OK = ("RUNNING", "COMPLETED")
Probe = Callable[[], "tuple[bool, str]"]


def healthz(session: requests.Session, app_url: str) -> Probe:
    url = f"{app_url.rstrip('/')}/healthz"

    def probe() -> tuple[bool, str]:
        try:
            response = session.get(url, timeout=REQUEST_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            return False, f"GET {url}: {error}"
        try:
            healthy = response.status_code == 200 and response.json().get("status") == "ok"
        except ValueError:  # not JSON: e.g. the ALB's own error page
            healthy = False
        return healthy, f"GET {url} answered HTTP {response.status_code}: {response.text[:200]}"

    return probe


def opensearch_flags(session: requests.Session, base_url: str, user: str, password: str) -> Flags:
    """Every document of the two flagged indexes, as the master user (the dashboard's data)."""

    def documents(index: str) -> list[dict]:
        url = f"{base_url.rstrip('/')}/{index}/_search"
        try:
            response = session.post(url, json={"size": SEARCH_SIZE, "query": {"match_all": {}}}, auth=(user, password),
                                    timeout=REQUEST_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise FlagsUnavailable(f"POST {url}: {error}") from None
        if response.status_code in (401, 403):
            raise CheckFailed(
                f"OpenSearch refused {user} on {url} (HTTP {response.status_code}): the domain's access policy admits "
                f"only opensearchAccessCidrs and Confluent's egress; is this machine's address among them?"
            )
        if response.status_code == 404:
            raise FlagsUnavailable(f"index {index} does not exist yet (the sink creates it with its first document)")
        if response.status_code != 200:
            raise FlagsUnavailable(f"POST {url} answered HTTP {response.status_code}: {response.text[:200]}")
        return [hit["_source"] for hit in response.json()["hits"]["hits"]]

    return Flags(users=documents(FLAGGED_USER_INDEX), transactions=documents(FLAGGED_TRANSACTION_INDEX))


@dataclass(frozen=True)
class Warehouse:
    """Where the Data API runs the history queries: the cluster, its database and schema, as the admin user."""

    cluster_identifier: str
    database: str
    db_user: str
    schema: str


def cluster_identifier(host: str) -> str:
    """A cluster endpoint is ``<cluster identifier>.<unique id>.<region>.redshift.amazonaws.com``."""
    return host.split(".", 1)[0]


class StatementFailed(Exception):
    """The Data API reports the statement FAILED or ABORTED; the message carries Redshift's error."""


def run_sql(data_api, warehouse: Warehouse, sql: str, parameters: dict[str, str] | None = None,
            poll: float = 1.0, timeout: float = 120.0, **waiting) -> list[list]:
    """Rows of one statement through the Data API: execute, poll DescribeStatement, page GetStatementResult."""
    started = data_api.execute_statement(
        ClusterIdentifier=warehouse.cluster_identifier, Database=warehouse.database, DbUser=warehouse.db_user,
        Sql=sql, **({"Parameters": [{"name": k, "value": v} for k, v in parameters.items()]} if parameters else {}),
    )
    statement_id = started["Id"]
    final: dict = {}

    def finished() -> tuple[bool, str]:
        final.update(data_api.describe_statement(Id=statement_id))
        return final["Status"] in ("FINISHED", "FAILED", "ABORTED"), f"statement {statement_id} {final['Status']}"

    wait_until(finished, f"Data API statement {sql!r}", timeout, poll, **waiting)
    if final["Status"] != "FINISHED":
        raise StatementFailed(f"{sql!r} {final['Status']}: {final.get('Error', 'no error given')}")
    if not final.get("HasResultSet"):
        return []
    rows: list[list] = []
    token: dict = {}
    while True:
        page = data_api.get_statement_result(Id=statement_id, **token)
        rows += [[_field(value) for value in record] for record in page["Records"]]
        if not page.get("NextToken"):
            return rows
        token = {"NextToken": page["NextToken"]}


def _field(value: dict):
    if value.get("isNull"):
        return None
    for kind in ("longValue", "doubleValue", "stringValue", "booleanValue", "blobValue"):
        if kind in value:
            return value[kind]
    raise ValueError(f"Data API field of no known kind: {value}")


def redshift_history(data_api, warehouse: Warehouse, posted: Sequence[Posted], **waiting) -> Probe:
    """Every posted transaction is in the user_transaction history and every scenario's customer in auth_user."""
    if not SQL_NAME.match(warehouse.schema):
        raise ValueError(f"Redshift schema {warehouse.schema!r}: expected a lower-case SQL name")
    ids = sorted({i for p in posted for i in p.transaction_ids})
    usernames = sorted({p.username for p in posted})
    names = {f"u{n}": username for n, username in enumerate(usernames)}
    transactions_sql = (f"SELECT DISTINCT id FROM {warehouse.schema}.{USER_TRANSACTION_TABLE} "
                        f"WHERE id IN ({', '.join(str(int(i)) for i in ids)})")
    customers_sql = (f"SELECT DISTINCT username FROM {warehouse.schema}.{AUTH_USER_TABLE} "
                     f"WHERE username IN ({', '.join(':' + name for name in names)})")

    def probe() -> tuple[bool, str]:
        try:
            found_ids = {int(row[0]) for row in run_sql(data_api, warehouse, transactions_sql, **waiting)}
            found_users = {row[0] for row in run_sql(data_api, warehouse, customers_sql, names, **waiting)}
        except StatementFailed as error:  # e.g. the sink has not created its table yet
            return False, str(error)
        missing = []
        if set(ids) - found_ids:
            missing.append(f"{USER_TRANSACTION_TABLE} lacks transaction(s) {[i for i in ids if i not in found_ids]}")
        if set(usernames) - found_users:
            missing.append(f"{AUTH_USER_TABLE} lacks {[u for u in usernames if u not in found_users]}")
        return not missing, "; ".join(missing) or f"{len(ids)} transactions and {len(usernames)} customers"

    return probe


def connector_problems(connectors: dict[str, dict], expected_ids: Sequence[str]) -> list[str]:
    """What keeps the expected connectors (by id) from RUNNING with all their tasks RUNNING."""
    by_id = {(item.get("id") or {}).get("id"): (name, item) for name, item in connectors.items()}
    problems = []
    for connector_id in expected_ids:
        if connector_id not in by_id:
            problems.append(f"connector {connector_id} is not in the cluster (it has: {', '.join(connectors) or 'none'})")
            continue
        name, item = by_id[connector_id]
        status = item.get("status") or {}
        state = (status.get("connector") or {}).get("state", "UNKNOWN")
        tasks = status.get("tasks") or []
        if state != "RUNNING" or not tasks or any(task.get("state") != "RUNNING" for task in tasks):
            trace = (status.get("connector") or {}).get("trace") or "; ".join(
                task.get("msg", "") for task in tasks if task.get("msg"))
            task_states = ", ".join(f"task {t.get('id')} {t.get('state')}" for t in tasks) or "no tasks"
            problems.append(f"connector {name} ({connector_id}) is {state} ({task_states})" + (f": {trace}" if trace else ""))
    return problems


def flink_problems(statements: list[dict], tables: list[dict], derived: Sequence[str] = DERIVED_TABLES) -> list[str]:
    """What keeps Flink from running the pipeline: a statement neither RUNNING nor COMPLETED, a materialized
    table not RUNNING, or a derived table that no RUNNING statement or materialized table produces."""
    problems = []
    produced: set[str] = set()
    for statement in statements:
        status = statement.get("status") or {}
        phase = status.get("phase", "UNKNOWN")
        if phase not in STATEMENT_OK:
            problems.append(f"statement {statement.get('name')} is {phase}: {status.get('detail', '')}".rstrip(": "))
        elif phase == "RUNNING":
            produced |= created_tables((statement.get("spec") or {}).get("statement", ""))
    for table in tables:
        status = table.get("status") or {}
        phase = status.get("phase", "UNKNOWN")
        if phase == "RUNNING":
            produced.add(table.get("name"))
        else:
            problems.append(f"materialized table {table.get('name')} is {phase}: {status.get('detail', '')}".rstrip(": "))
    problems += [f"no RUNNING statement or materialized table produces {name}" for name in derived if name not in produced]
    return problems


def confluent_running(cloud: CloudApi, flink: FlinkApi, environment_id: str, cluster_id: str,
                      connector_ids: Sequence[str]) -> Probe:
    def probe() -> tuple[bool, str]:
        try:
            problems = connector_problems(cloud.connectors(environment_id, cluster_id), connector_ids)
            problems += flink_problems(flink.statements(), flink.materialized_tables())
        except ConfluentApiError as error:
            if error.status in (401, 403):
                raise CheckFailed(f"Confluent Cloud refused the key: {error}") from None
            return False, str(error)
        except requests.RequestException as error:
            return False, str(error)
        return not problems, "; ".join(problems) or "all running"

    return probe
