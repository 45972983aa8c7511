"""FlinkPool: a Flink compute pool, the CDC source tables' options, and one materialized table per derived table.

``flink/`` holds one statement per file, in Confluent's own SQL, deployed in file-name order:

- ``CREATE OR ALTER MATERIALIZED TABLE`` files become ``FlinkMaterializedTable`` resources: the table, its topic
  and the continuous query that fills it are one object that Confluent evolves in place. Each part of the
  statement maps onto an input: name -> ``display_name``, physical columns -> ``columns``, ``WATERMARK FOR`` ->
  ``watermark``, ``PRIMARY KEY`` -> ``constraints``, ``DISTRIBUTED BY`` -> ``distribution``, ``WITH`` ->
  ``table_options``, ``START_MODE`` -> ``start_mode``, ``AS <query>`` -> ``query``, leading ``SET`` lines ->
  ``session_options``. The provider updates ``query``, ``columns``, ``watermark``, ``constraints``,
  ``table_options`` and ``start_mode`` in place; a change of name, distribution or session options replaces the
  table, which drops its topic (``REPLACING_INPUTS``, from the provider's schema), so those are kept stable.
- ``ALTER TABLE <cdc table> SET (...)`` files become ``FlinkStatement`` resources: they set options of the tables
  Confluent infers from the CDC topics, which no materialized table can express. Such a statement completes and
  Confluent deletes it after 30 days; re-running it sets the same options again, so it is safe to re-create.

Every table waits for the CDC readiness gate (the CDC tables exist once the topics and schemas do), for the
Flink role bindings and for the resources that create or alter the tables it reads; nothing takes an input from
those (only ``depends_on``), so re-creating a purged statement never replaces a table. On destroy, everything
that reads a table (the sink connectors, the tables built from it) is deleted before it.

The SQL is written against the default CDC topics (```fd.SAMPLE.AUTH_USER```); with another topic prefix or
Oracle schema, backticked identifiers of that form are rewritten before submission (nothing else is).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_confluentcloud as confluentcloud

import sql_text
from settings import ConfluentSettings

FLINK_DIR = Path(__file__).resolve().parent.parent / "flink"
SQL_TOPIC_PREFIX = "fd"  # the topic prefix and Oracle schema the files in flink/ are written against
SQL_SCHEMA = "SAMPLE"
CLOUD = "AWS"
NAME_LIMIT = 63  # statement names: lower-case letters, digits and hyphens, starting with a letter
HASH_LENGTH = 8
COMMENT_LINE = re.compile(r"^\s*--(.*)$", re.M)
MODE_SETTING = re.compile(r"\b(decimal\.handling\.mode|time\.precision\.mode)\s*[=:]\s*([A-Za-z_]+)")

# Inputs a statement cannot change in place (the provider refuses the update): a change replaces it.
REPLACE_ON_CHANGES = ["statement", "statementName", "properties", "computePool", "principal"]
# Inputs of a materialized table the provider marks ForceNew (terraform-provider-confluent,
# resource_flink_materialized_table.go: display_name, session_options, rest_endpoint, distribution and its keys,
# kafka_cluster.id, organization.id, environment.id). A change replaces the table and with it its topic.
REPLACING_INPUTS = ("displayName", "sessionOptions", "restEndpoint", "distribution", "kafkaCluster", "organization",
                    "environment")


def rewrite_cdc_topics(sql: str, topic_prefix: str, schema: str) -> str:
    """Point backticked default CDC topic names (```fd.SAMPLE.<TABLE>```) at ``<topic_prefix>.<schema>.<TABLE>``."""
    if (topic_prefix, schema) == (SQL_TOPIC_PREFIX, SQL_SCHEMA):
        return sql
    pattern = re.compile(rf"`{re.escape(SQL_TOPIC_PREFIX)}\.{re.escape(SQL_SCHEMA)}\.([A-Za-z0-9_$#]+)`")
    return pattern.sub(lambda match: f"`{topic_prefix}.{schema}.{match.group(1)}`", sql)


def slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


@dataclass(frozen=True)
class PlannedStatement:
    """One SQL file as it will be deployed."""

    file: str
    key: str  # stable per file: the Pulumi resource name suffix
    sql: str  # the file's text with the topic names rewritten
    parsed: sql_text.Statement
    depends_on: tuple[str, ...]  # keys of earlier files that create or alter a table this one reads

    @property
    def creates(self) -> frozenset[str]:
        return frozenset({self.parsed.table}) if isinstance(self.parsed, sql_text.MaterializedTable) else frozenset()

    @property
    def statement_name(self) -> str:
        """Suffix of a statement's name: the file and a hash of its text (a statement's text cannot change)."""
        return f"{self.key}-{hashlib.sha256(self.sql.encode()).hexdigest()[:HASH_LENGTH]}"


def statement_name(prefix: str, suffix: str) -> str:
    head = slug(prefix)
    key, digest = suffix.rsplit("-", 1)
    room = NAME_LIMIT - len(head) - HASH_LENGTH - 2
    if room < 1:
        raise ValueError(f"the stack prefix {prefix!r} leaves no room for Flink statement names")
    return f"{head}-{key[:room].strip('-')}-{digest}"


@dataclass(frozen=True)
class StatementPlan:
    statements: tuple[PlannedStatement, ...]
    cdc_modes: dict[str, str]  # what the SQL assumes of the CDC connector

    @property
    def produced_tables(self) -> dict[str, str]:
        """Table name -> key of the file that creates it."""
        return {table: planned.key for planned in self.statements for table in sorted(planned.creates)}


def assumed_cdc_modes(files: dict[str, str]) -> dict[str, str]:
    """CDC connector modes the SQL files state in comments (``-- decimal.handling.mode=double``); must agree."""
    modes: dict[str, tuple[str, str]] = {}
    for file, text in files.items():
        stated = [found for comment in COMMENT_LINE.findall(text) for found in MODE_SETTING.findall(comment)]
        for setting, value in stated:
            if setting in modes and modes[setting][0] != value:
                raise ValueError(
                    f"flink/{file} assumes {setting}={value} but flink/{modes[setting][1]} assumes "
                    f"{setting}={modes[setting][0]}: the SQL files must agree on the CDC connector's modes"
                )
            modes.setdefault(setting, (value, file))
    return {setting: value for setting, (value, _) in modes.items()}


def plan_statements(sql_dir: Path, topic_prefix: str = SQL_TOPIC_PREFIX, schema: str = SQL_SCHEMA) -> StatementPlan:
    """Read ``*.sql`` in file-name order into statements with their dependencies."""
    files = {path.name: path.read_text() for path in sorted(Path(sql_dir).glob("*.sql"))}
    if not files:
        raise ValueError(f"no Flink SQL files (*.sql) in {sql_dir}")
    parsed = {file: sql_text.parse_file(file, rewrite_cdc_topics(text, topic_prefix, schema)) for file, text in files.items()}
    first_definer: dict[str, str] = {}
    for file, statement in parsed.items():
        if isinstance(statement, sql_text.MaterializedTable):
            if statement.table in first_definer:
                raise ValueError(f"flink/{file} creates table {statement.table}, which flink/{first_definer[statement.table]} "
                                 f"already creates: one file per table")
            first_definer[statement.table] = file
    last_definer: dict[str, str] = {}
    planned: list[PlannedStatement] = []
    keys: set[str] = set()
    for file, statement in parsed.items():
        key = slug(Path(file).stem)
        if not key or not key[0].isalnum() or key in keys:
            raise ValueError(f"flink/{file}: expected a file name that gives a unique name of letters and digits")
        keys.add(key)
        for table in sorted(statement.reads):
            if table not in last_definer and table in first_definer:
                raise ValueError(
                    f"flink/{file} uses table {table}, which flink/{first_definer[table]} creates later: "
                    f"rename the files so that tables are created before they are used"
                )
        depends = tuple(sorted({last_definer[table] for table in statement.reads if table in last_definer}))
        sql = rewrite_cdc_topics(files[file], topic_prefix, schema).strip()
        planned.append(PlannedStatement(file, key, sql, statement, depends))
        last_definer[statement.table] = key
    return StatementPlan(tuple(planned), assumed_cdc_modes(files))


@dataclass
class FlinkPoolArgs:
    settings: ConfluentSettings
    oracle_schema: str
    region: str
    display_prefix: str
    organization_id: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    environment_name: pulumi.Input[str]  # the Flink catalog
    cluster_id: pulumi.Input[str]  # the Kafka cluster holding the tables' topics
    cluster_name: pulumi.Input[str]  # the Flink database
    rest_endpoint: pulumi.Input[str]  # the Flink region's REST endpoint
    api_key: pulumi.Input[str]  # Flink API key (its owner may assign the principal)
    api_secret: pulumi.Input[str]
    principal_id: pulumi.Input[str]  # service account the statements and tables run as
    cdc_ready: pulumi.Resource  # the CDC topics and schemas exist
    access: Sequence[pulumi.Resource] = ()  # role bindings the key owner and principal need
    sql_dir: Path = FLINK_DIR


def materialized_table_inputs(table: sql_text.MaterializedTable) -> dict:
    """The resource inputs a ``CREATE OR ALTER MATERIALIZED TABLE`` file maps onto (its SQL, part by part)."""
    inputs: dict = {"display_name": table.table, "query": table.query, "table_options": dict(table.options)}
    if table.columns:
        inputs["columns"] = [confluentcloud.FlinkMaterializedTableColumnArgs(columns_physicals=[
            confluentcloud.FlinkMaterializedTableColumnColumnsPhysicalArgs(column_physical_name=column.name,
                                                                           column_physical_type=column.type)
            for column in table.columns
        ])]
    if table.watermark:
        column, expression = table.watermark
        inputs["watermark"] = confluentcloud.FlinkMaterializedTableWatermarkArgs(column=column, expression=expression)
    if table.primary_key:
        inputs["constraints"] = [confluentcloud.FlinkMaterializedTableConstraintArgs(
            type="PRIMARY_KEY", columns=list(table.primary_key), enforced=False)]
    if table.distribution:
        keys, buckets = table.distribution
        inputs["distribution"] = confluentcloud.FlinkMaterializedTableDistributionArgs(
            kind="HASH", keys=list(keys), bucket_count=buckets)
    if table.start_mode:
        mode = table.start_mode
        inputs["start_mode"] = confluentcloud.FlinkMaterializedTableStartModeArgs(
            kind=mode.kind,
            timestamp=mode.timestamp,
            time_interval=confluentcloud.FlinkMaterializedTableStartModeTimeIntervalArgs(
                interval=mode.interval[0], time_unit=mode.interval[1].rstrip("S") + "S",  # MINUTE -> MINUTES
            ) if mode.interval else None,
        )
    if table.session_options:
        inputs["session_options"] = dict(table.session_options)
    return inputs


class FlinkPool(pulumi.ComponentResource):
    compute_pool_id: pulumi.Output[str]
    plan: StatementPlan
    statements: dict[str, confluentcloud.FlinkStatement]  # file key -> statement (ALTER TABLE files)
    tables: dict[str, confluentcloud.FlinkMaterializedTable]  # table name -> its materialized table
    statement_names: dict[str, str]
    produced_topics: dict[str, pulumi.Resource]  # table (= topic) name -> the resource that creates it

    def __init__(self, name: str, args: FlinkPoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:flink:FlinkPool", name, None, opts)
        self.plan = plan_statements(args.sql_dir, args.settings.topic_prefix, args.oracle_schema)

        pool = confluentcloud.FlinkComputePool(
            f"{name}-pool",
            display_name=f"{args.display_prefix}-flink",
            cloud=CLOUD,
            region=args.region,
            max_cfu=args.settings.flink_max_cfu,
            environment=confluentcloud.FlinkComputePoolEnvironmentArgs(id=args.environment_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.statements, self.tables, self.statement_names = {}, {}, {}
        by_key: dict[str, pulumi.Resource] = {}
        for planned in self.plan.statements:
            after = [args.cdc_ready, *args.access, *(by_key[key] for key in planned.depends_on)]
            statement = planned.parsed
            if isinstance(statement, sql_text.MaterializedTable):
                resource = confluentcloud.FlinkMaterializedTable(
                    f"{name}-{planned.key}",
                    **materialized_table_inputs(statement),
                    kafka_cluster=confluentcloud.FlinkMaterializedTableKafkaClusterArgs(id=args.cluster_id),
                    organization=confluentcloud.FlinkMaterializedTableOrganizationArgs(id=args.organization_id),
                    environment=confluentcloud.FlinkMaterializedTableEnvironmentArgs(id=args.environment_id),
                    compute_pool=confluentcloud.FlinkMaterializedTableComputePoolArgs(id=pool.id),
                    principal=confluentcloud.FlinkMaterializedTablePrincipalArgs(id=args.principal_id),
                    rest_endpoint=args.rest_endpoint,
                    credentials=confluentcloud.FlinkMaterializedTableCredentialsArgs(key=args.api_key, secret=args.api_secret),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=after,
                        # Table names are unique in the cluster: a replacement (a REPLACING_INPUTS change) must
                        # drop the old table before creating the new one.
                        delete_before_replace=True,
                    ),
                )
                self.tables[statement.table] = resource
            else:
                full_name = statement_name(args.display_prefix, planned.statement_name)
                resource = confluentcloud.FlinkStatement(
                    f"{name}-{planned.key}",
                    statement=planned.sql,
                    statement_name=full_name,
                    organization=confluentcloud.FlinkStatementOrganizationArgs(id=args.organization_id),
                    environment=confluentcloud.FlinkStatementEnvironmentArgs(id=args.environment_id),
                    compute_pool=confluentcloud.FlinkStatementComputePoolArgs(id=pool.id),
                    principal=confluentcloud.FlinkStatementPrincipalArgs(id=args.principal_id),
                    rest_endpoint=args.rest_endpoint,
                    credentials=confluentcloud.FlinkStatementCredentialsArgs(key=args.api_key, secret=args.api_secret),
                    properties={"sql.current-catalog": args.environment_name, "sql.current-database": args.cluster_name,
                                **statement.session_options},
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=after,
                        replace_on_changes=REPLACE_ON_CHANGES,
                        delete_before_replace=True,  # statement names are unique: the old one goes first
                    ),
                )
                self.statements[planned.key] = resource
                self.statement_names[planned.key] = full_name
            by_key[planned.key] = resource

        self.compute_pool_id = pool.id
        self.produced_topics = dict(self.tables)
        self.register_outputs({
            "compute_pool_id": self.compute_pool_id,
            "statement_names": self.statement_names,
            "tables": list(self.tables),
        })
