"""What `make e2e` prints when ``up`` or a check failed, read before the stack is destroyed:

- the Oracle readiness gate's report (the host writes ``ready`` or ``failed: <log tail>`` to an SSM parameter);
- every connector's state, its tasks and its trace;
- every Flink statement's and materialized table's phase and detail;
- ``DESCRIBE`` of the two CDC source tables, run as a statement of the stack's own compute pool and principal,
  so a real run records the schema Confluent actually infers for the CDC topics (flink/README.md's open point);
  a passing run prints this section too.

Each section is read on its own: one that cannot be read says why and the others still print. Outputs are used
when ``up`` got far enough to export them, otherwise the resources are found by the names the program gives them.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from e2e import naming
from e2e.confluent import CloudApi, FlinkApi, organization_id
from e2e.waiting import wait_until

CLOUD = "AWS"
DESCRIBE_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class Section:
    title: str
    text: str


def oracle_status(ssm, parameter: str) -> str:
    value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    return f"{parameter} = {value}"


def connector_report(cloud: CloudApi, environment_id: str) -> str:
    lines = []
    for cluster in cloud.clusters(environment_id):
        for name, item in sorted(cloud.connectors(environment_id, cluster["id"]).items()):
            status = item.get("status") or {}
            connector = status.get("connector") or {}
            lines.append(f"{name} ({(item.get('id') or {}).get('id', '?')}) in {cluster['id']}: "
                         f"{connector.get('state', 'UNKNOWN')}")
            lines += [f"  task {task.get('id')}: {task.get('state')} {task.get('msg', '')}".rstrip()
                      for task in status.get("tasks") or []]
            if connector.get("trace"):
                lines.append(f"  trace: {connector['trace']}")
    return "\n".join(lines) or f"no connectors in environment {environment_id}"


def flink_report(flink: FlinkApi) -> str:
    lines = []
    for statement in flink.statements():
        status = statement.get("status") or {}
        lines.append(f"statement {statement.get('name')}: {status.get('phase', 'UNKNOWN')} {status.get('detail', '')}".rstrip())
    for table in flink.materialized_tables():
        status = table.get("status") or {}
        lines.append(f"materialized table {table.get('name')}: {status.get('phase', 'UNKNOWN')} "
                     f"{status.get('detail', '')}".rstrip())
    return "\n".join(lines) or "no statements and no materialized tables"


def describe(flink: FlinkApi, table: str, like: dict, timeout: float = DESCRIBE_TIMEOUT_SECONDS, poll: float = 3.0,
             **waiting) -> str:
    """``DESCRIBE`` one table as a statement borrowing another statement's pool, principal, catalog and database;
    the statement is deleted afterwards."""
    spec = like.get("spec") or {}
    name = f"e2e-describe-{secrets.token_hex(4)}"
    flink.submit(name, f"DESCRIBE `{table}`", spec["compute_pool_id"], spec["principal"],
                 {key: value for key, value in (spec.get("properties") or {}).items()
                  if key in ("sql.current-catalog", "sql.current-database")})
    try:
        final: dict = {}

        def finished() -> tuple[bool, str]:
            final.clear()
            final.update(flink.statement(name) or {})
            phase = (final.get("status") or {}).get("phase", "UNKNOWN")
            return phase in ("COMPLETED", "FAILED", "STOPPED"), phase

        wait_until(finished, f"DESCRIBE `{table}`", timeout, poll, **waiting)
        status = final["status"]
        if status["phase"] != "COMPLETED":
            return f"DESCRIBE `{table}` {status['phase']}: {status.get('detail', '')}"
        columns = [c["name"] for c in ((status.get("traits") or {}).get("schema") or {}).get("columns") or []]
        rows = flink.results(name)
        return "\n".join([" | ".join(columns), *(" | ".join("" if v is None else str(v) for v in row) for row in rows)])
    finally:
        flink.delete(name)


class StackView:
    """The stack's Confluent environment and Flink API, found from its outputs or by the names the program gives
    them; ``flink_key`` is the stack's Flink API key when its outputs have it, else the Cloud key is tried."""

    def __init__(self, stack: str, region: str, config: dict, outputs: dict, cloud: CloudApi,
                 flink_key: tuple[str, str] | None):
        self.stack, self.region, self.config, self.outputs, self.cloud = stack, region, config, outputs, cloud
        self.key = flink_key or cloud.auth
        found = ([cloud.environment(outputs["confluentEnvironmentId"])] if outputs.get("confluentEnvironmentId")
                 else cloud.environments_named(naming.environment_name(stack)))
        self.environment = next((env for env in found if env), None)
        self._flink: FlinkApi | None = None

    def flink(self) -> FlinkApi:
        if self._flink is None:
            self._flink = FlinkApi(self.cloud.flink_endpoint(CLOUD, self.region), organization_id(self.environment),
                                   self.environment["id"], *self.key, self.cloud.session)
        return self._flink

    def cdc_schemas(self, **waiting) -> str:
        stack_statements = [s for s in self.flink().statements() if (s.get("spec") or {}).get("principal")]
        if not stack_statements:
            return "no statement of the stack to run DESCRIBE with (its compute pool, principal, catalog, database)"
        tables: Sequence[str] = self.outputs.get("cdcTopics") or naming.cdc_topics(self.config)
        return "\n\n".join(f"DESCRIBE `{table}`:\n{describe(self.flink(), table, stack_statements[0], **waiting)}"
                           for table in tables)


CDC_SCHEMAS = "CDC source tables as Flink sees them"


def _read(title: str, read: Callable[[], str]) -> Section:
    try:
        return Section(title, read())
    except Exception as error:  # noqa: BLE001 - a diagnostic that fails says why; the others still print
        return Section(title, f"could not read: {type(error).__name__}: {error}")


def collect(stack: str, region: str, config: dict, outputs: dict, aws, cloud: CloudApi,
            flink_key: tuple[str, str] | None, **waiting) -> list[Section]:
    """Every section, each read on its own."""
    sections = [_read("Oracle readiness gate", lambda: oracle_status(aws.ssm, naming.oracle_status_parameter(stack)))]
    try:
        view = StackView(stack, region, config, outputs, cloud, flink_key)
    except Exception as error:  # noqa: BLE001 - as for any section
        return [*sections, Section("Confluent Cloud", f"could not read: {type(error).__name__}: {error}")]
    if view.environment is None:
        return [*sections, Section("Confluent Cloud", f"no environment {naming.environment_name(stack)}")]
    return [
        *sections,
        _read("Connectors", lambda: connector_report(cloud, view.environment["id"])),
        _read("Flink statements and materialized tables", lambda: flink_report(view.flink())),
        _read(CDC_SCHEMAS, lambda: view.cdc_schemas(**waiting)),
    ]


def cdc_schemas(stack: str, region: str, config: dict, outputs: dict, cloud: CloudApi,
                flink_key: tuple[str, str] | None, **waiting) -> Section:
    """Only the DESCRIBE of the CDC source tables: printed after a passing run too, to record the real schema."""
    return _read(CDC_SCHEMAS, lambda: StackView(stack, region, config, outputs, cloud, flink_key).cdc_schemas(**waiting))


def render(sections: Sequence[Section]) -> str:
    return "\n".join(f"--- {section.title}\n{section.text}" for section in sections)
