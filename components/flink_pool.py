"""FlinkPool: a Flink compute pool and one Flink statement per SQL file in ``flink/``.

The files run in file-name order. Each statement waits for the CDC readiness gate (its tables exist only
once the CDC topics and schemas do) and for the earlier statements that define or alter a table it uses.
"Uses" comes from a small parser: table names after FROM, JOIN, INSERT INTO, ALTER TABLE and ``TABLE`` in a
table function call, matched against the tables earlier files CREATE or ALTER.

Statement names: ``<prefix>-<file>-<hash>``, where the hash covers the statement's own SQL and the hashes
of the statements it depends on. A statement's text, name, pool and principal cannot change in place, so a
changed file gets a new statement (the old one deleted first), and so do the statements downstream of it;
untouched files keep their statements.

Confluent keeps a table and its topic when the statement that created it is deleted, so a re-created
``CREATE TABLE`` would fail with "already exists". Each statement that creates a table therefore has a
companion ``DROP TABLE IF EXISTS`` statement (``<prefix>-drop-<file>-<hash>``, same hash), registered before
it and replaced delete-before-replace whenever it is. The SQL text of every statement that creates, alters
or reads that table is derived from the drop statement's output, and a statement whose text may change has
to be replaced, so when the drop is replaced Pulumi first deletes those statements (readers included), runs the
new drop (topic and schemas gone), then creates them again in order. On the first ``pulumi up`` the drops
find nothing to drop.

The SQL is written against the default CDC topics (```fd.SAMPLE.AUTH_USER```); with another topic prefix or
Oracle schema, backticked identifiers of that form are rewritten before submission (nothing else is).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_confluentcloud as confluentcloud

from settings import ConfluentSettings

FLINK_DIR = Path(__file__).resolve().parent.parent / "flink"
SQL_TOPIC_PREFIX = "fd"  # the topic prefix and Oracle schema the files in flink/ are written against
SQL_SCHEMA = "SAMPLE"
CLOUD = "AWS"
NAME_LIMIT = 63  # statement names: lower-case letters, digits and hyphens, starting with a letter
HASH_LENGTH = 8

_PART = r"(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*)"
_IDENT = rf"({_PART}(?:\s*\.\s*{_PART})*)"
DEFINES = re.compile(
    rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?(TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?{_IDENT}", re.I
)
ALTERS = re.compile(rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?{_IDENT}", re.I)
USES = (
    re.compile(rf"\b(?:FROM|JOIN)\s+{_IDENT}", re.I),
    re.compile(rf"\bINSERT\s+(?:INTO|OVERWRITE)\s+{_IDENT}", re.I),
    re.compile(rf"\(\s*TABLE\s+{_IDENT}", re.I),  # table-valued functions: TUMBLE(TABLE t, ...)
    ALTERS,
)
COMMENT_LINE = re.compile(r"^\s*--(.*)$", re.M)
MODE_SETTING = re.compile(r"\b(decimal\.handling\.mode|time\.precision\.mode)\s*[=:]\s*([A-Za-z_]+)")


def code_only(sql: str) -> str:
    """The SQL without comments and with string literals emptied, so only code is parsed (backticks kept)."""
    out: list[str] = []
    i, length = 0, len(sql)
    while i < length:
        char = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = length if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = length if end < 0 else end + 2
            out.append(" ")
        elif char == "'":
            i += 1
            while i < length:
                if sql[i] == "'" and sql.startswith("''", i):
                    i += 2
                elif sql[i] == "'":
                    break
                else:
                    i += 1
            i += 1
            out.append("''")
        elif char == "`":
            end = sql.find("`", i + 1)
            end = length - 1 if end < 0 else end
            out.append(sql[i : end + 1])
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def table_name(identifier: str) -> str:
    """The table part of a possibly qualified identifier, without backticks."""
    parts = re.findall(_PART, identifier)
    return parts[-1].strip("`")


def defined_objects(sql: str) -> dict[str, str]:
    """Table or view name -> ``TABLE`` or ``VIEW``, for what the SQL creates."""
    return {table_name(ident): kind.upper() for kind, ident in DEFINES.findall(code_only(sql))}


def defined_tables(sql: str) -> set[str]:
    return set(defined_objects(sql))


def altered_tables(sql: str) -> set[str]:
    return {table_name(match) for match in ALTERS.findall(code_only(sql))}


def used_tables(sql: str) -> set[str]:
    code = code_only(sql)
    return {table_name(match) for pattern in USES for match in pattern.findall(code)}


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
    """One SQL file as it will be submitted."""

    file: str
    key: str  # stable per file: the Pulumi resource name suffix
    sql: str
    creates: frozenset[str]
    touches: frozenset[str]  # every table it creates, alters or reads
    depends_on: tuple[str, ...]  # keys of earlier statements that define or alter a table this one uses
    digest: str  # covers this SQL and the digests of what it depends on
    drop_sql: str | None = None  # DROP ... IF EXISTS of what it creates, run before it is (re-)created

    def statement_name(self, prefix: str, role: str = "") -> str:
        head = slug(f"{prefix}-{role}" if role else prefix)
        room = NAME_LIMIT - len(head) - HASH_LENGTH - 2
        if room < 1:
            raise ValueError(f"the stack prefix {prefix!r} leaves no room for Flink statement names")
        return f"{head}-{self.key[:room].strip('-')}-{self.digest}"

    def drop_statement_name(self, prefix: str) -> str:
        return self.statement_name(prefix, "drop")


def drop_sql(objects: dict[str, str], file: str) -> str | None:
    """The statement that removes what a file creates; one statement creates one table or view at most."""
    if not objects:
        return None
    if len(objects) > 1:
        raise ValueError(f"flink/{file}: expected one CREATE per file, found {', '.join(sorted(objects))}")
    (name, kind), = objects.items()
    return f"DROP {kind} IF EXISTS `{name}`"


@dataclass(frozen=True)
class StatementPlan:
    statements: tuple[PlannedStatement, ...]
    cdc_modes: dict[str, str] = field(default_factory=dict)  # what the SQL assumes of the CDC connector

    @property
    def produced_tables(self) -> dict[str, str]:
        """Table name -> key of the statement that creates it."""
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
    """Read ``*.sql`` in file-name order into statements with their dependencies and content hashes."""
    files = {path.name: path.read_text() for path in sorted(Path(sql_dir).glob("*.sql"))}
    if not files:
        raise ValueError(f"no Flink SQL files (*.sql) in {sql_dir}")
    first_definer: dict[str, str] = {}
    for file, text in files.items():
        for table in defined_tables(text):
            first_definer.setdefault(table, file)
    last_definer: dict[str, PlannedStatement] = {}
    planned: list[PlannedStatement] = []
    keys: set[str] = set()
    for file, text in files.items():
        sql = rewrite_cdc_topics(text, topic_prefix, schema).strip()
        body = code_only(sql).strip().rstrip(";")
        if not body.strip():
            raise ValueError(f"flink/{file}: expected one SQL statement, found none")
        if ";" in body:
            raise ValueError(f"flink/{file}: expected one SQL statement per file, found several (';' inside)")
        key = slug(Path(file).stem)
        if not key or not key[0].isalnum() or key in keys:
            raise ValueError(f"flink/{file}: expected a file name that gives a unique name of letters and digits")
        keys.add(key)
        objects = defined_objects(sql)
        creates = set(objects)
        uses = used_tables(sql) - creates
        for table in sorted(uses):
            if table not in last_definer and table in first_definer:
                raise ValueError(
                    f"flink/{file} uses table {table}, which flink/{first_definer[table]} creates later: "
                    f"rename the files so that tables are created before they are used"
                )
        depends = sorted({last_definer[table].key for table in uses if table in last_definer})
        digests = [next(p.digest for p in planned if p.key == dep) for dep in depends]
        digest = hashlib.sha256("\n".join([sql, *digests]).encode()).hexdigest()[:HASH_LENGTH]
        touches = frozenset(creates | uses)  # used_tables includes the tables it alters
        statement = PlannedStatement(
            file, key, sql, frozenset(creates), touches, tuple(depends), digest, drop_sql(objects, file)
        )
        planned.append(statement)
        for table in creates | altered_tables(sql):
            last_definer[table] = statement
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
    cluster_name: pulumi.Input[str]  # the Flink database
    rest_endpoint: pulumi.Input[str]  # the Flink region's REST endpoint
    api_key: pulumi.Input[str]  # Flink API key (its owner may assign the principal)
    api_secret: pulumi.Input[str]
    principal_id: pulumi.Input[str]  # service account the statements run as
    cdc_ready: pulumi.Resource  # the CDC topics and schemas exist
    access: Sequence[pulumi.Resource] = ()  # role bindings the key owner and principal need
    sql_dir: Path = FLINK_DIR


# Inputs a statement cannot change in place (the provider refuses the update): a change replaces it.
REPLACE_ON_CHANGES = ["statement", "statementName", "properties", "computePool", "principal"]


class FlinkPool(pulumi.ComponentResource):
    compute_pool_id: pulumi.Output[str]
    plan: StatementPlan
    statements: dict[str, confluentcloud.FlinkStatement]  # file key -> statement, in file order
    drops: dict[str, confluentcloud.FlinkStatement]  # table -> the statement that drops it before it is created
    statement_names: dict[str, str]
    produced_topics: dict[str, pulumi.Resource]  # table (= topic) name -> the statement that creates it

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
        properties = {"sql.current-catalog": args.environment_name, "sql.current-database": args.cluster_name}

        def statement(role: str, sql: pulumi.Input[str], statement_name: str, after: list[pulumi.Resource]):
            return confluentcloud.FlinkStatement(
                f"{name}-{role}",
                statement=sql,
                statement_name=statement_name,
                organization=confluentcloud.FlinkStatementOrganizationArgs(id=args.organization_id),
                environment=confluentcloud.FlinkStatementEnvironmentArgs(id=args.environment_id),
                compute_pool=confluentcloud.FlinkStatementComputePoolArgs(id=pool.id),
                principal=confluentcloud.FlinkStatementPrincipalArgs(id=args.principal_id),
                rest_endpoint=args.rest_endpoint,
                credentials=confluentcloud.FlinkStatementCredentialsArgs(key=args.api_key, secret=args.api_secret),
                properties=properties,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=after,
                    replace_on_changes=REPLACE_ON_CHANGES,
                    # Names are unique and tables outlive statements: the old statement goes first.
                    delete_before_replace=True,
                ),
            )

        self.statements = {}
        self.drops = {}
        self.statement_names = {}
        for planned in self.plan.statements:
            if planned.drop_sql:
                drop = statement(
                    f"{planned.key}-drop", planned.drop_sql, planned.drop_statement_name(args.display_prefix),
                    [args.cdc_ready, *args.access],
                )
                self.drops.update({table: drop for table in planned.creates})
            table_drops = [self.drops[table] for table in sorted(planned.touches) if table in self.drops]
            # The text depends on the drops of every table it touches, so replacing a drop deletes this first.
            sql = (
                pulumi.Output.all(*(drop.statement_name for drop in table_drops)).apply(lambda _, text=planned.sql: text)
                if table_drops
                else planned.sql
            )
            statement_name = planned.statement_name(args.display_prefix)
            self.statements[planned.key] = statement(
                planned.key, sql, statement_name,
                [args.cdc_ready, *args.access, *(self.statements[key] for key in planned.depends_on)],
            )
            self.statement_names[planned.key] = statement_name

        self.compute_pool_id = pool.id
        self.produced_topics = {table: self.statements[key] for table, key in self.plan.produced_tables.items()}
        self.register_outputs({"compute_pool_id": self.compute_pool_id, "statement_names": self.statement_names})
