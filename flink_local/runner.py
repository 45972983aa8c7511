"""Execute the statements of ``flink/`` on a local Apache Flink (PyFlink, Java 17) and collect what they produce.

Bounded use (tests)::

    result = LocalFlink().run(feed.records)      # records: {"AUTH_USER": [...], "USER_TRANSACTION": [...]}
    result.tables["flagged_user"]                # current rows, upserted by the declared primary key
    result.errors                                # records that were not fed, with table, position and reason

Each run writes the valid envelopes as JSON files, declares the CDC sources over them and applies the statement
files by the rules in ``flink_local.sql``: each materialized table is created in Flink's catalog and its query
planned into it, so Flink's own checks apply, and downstream reads follow the rows as they are produced. Every
requested table is collected by its own job; the jobs run at the same time and end with their bounded input.
``start`` runs the same pipeline on a directory that keeps receiving files (as the app's LOCAL_CDC_FEED does) and
hands out the changes as they come, for the benchmark and the demo. ``compiled_plan`` gives Flink's compiled plan
of one table's query, where the tests read what each stateful operator keeps and for how long.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flink_local.cdc import COLUMNS, REQUIRED, TIMESTAMP, RecordError, column_types, topic, write_feed
from flink_local.sql import (
    FLINK_DIR,
    SESSION_OPTIONS,
    AlterOptions,
    LocalFlinkError,
    LocalRewriteError,
    MaterializedTable,
    check_source_options,
    load_steps,
    local_table,
)

RESULT_TABLES = ("flagged_user", "flagged_transaction")


class MalformedRecordsError(ValueError):
    """Records were malformed and their source's 'error-handling.mode' is not 'log' (Confluent would fail)."""

    def __init__(self, errors: Sequence[RecordError]):
        self.errors = list(errors)
        super().__init__("malformed CDC records:\n" + "\n".join(f"  {error}" for error in self.errors))


@dataclass
class RunResult:
    tables: dict[str, list[dict]]  # table -> rows (append tables: every row; keyed tables: current rows)
    errors: list[RecordError] = field(default_factory=list)
    fed: dict[str, int] = field(default_factory=dict)  # table -> records written to the source's files


@dataclass(frozen=True)
class Change:
    """One row of a table's changelog as it arrived, with the wall-clock time it reached this process."""

    kind: str  # +I, -U, +U, -D
    row: dict
    arrived: float  # time.time()


def _java_available() -> None:
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise RuntimeError("Java is needed to run Flink locally: put java (17) on PATH or set JAVA_HOME")


class LocalFlink:
    """The statements of one SQL directory, ready to run on local Flink."""

    def __init__(self, sql_dir: Path = FLINK_DIR, parallelism: int = 1, idle_timeout: str = "1 s",
                 whole_numbers: str = "BIGINT"):
        self.steps = load_steps(sql_dir)
        self.parallelism, self.idle_timeout, self.whole_numbers = parallelism, idle_timeout, whole_numbers
        for table in COLUMNS:
            column_types(table, whole_numbers)  # checks the value
        settings: dict[str, tuple[str, str]] = {}
        for step in self.steps:
            for key, value in step.session_options.items():
                if settings.get(key, (value,))[0] != value:
                    raise LocalRewriteError(f"flink/{step.file} sets {key} = '{value}' but flink/{settings[key][1]} "
                                            f"sets '{settings[key][0]}': the local run has one value per option")
                settings[key] = (value, step.file)
        self.session = {SESSION_OPTIONS[key]: value for key, (value, _) in settings.items()}
        # Rule 2: per CDC table, fail on a malformed record (Confluent's default) or report it under the DLQ name.
        self.error_mode = {table: "fail" for table in COLUMNS}
        self.error_target: dict[str, str | None] = {table: None for table in COLUMNS}
        for step in self.steps:
            if isinstance(step, AlterOptions):
                check_source_options(step, {topic(table) for table in COLUMNS})
                table = step.table.rsplit(".", 1)[-1]
                self.error_mode[table] = step.options.get("error-handling.mode", self.error_mode[table])
                self.error_target[table] = step.options.get("error-handling.log.target", self.error_target[table])
        self.tables = {step.table: step for step in self.steps if isinstance(step, MaterializedTable)}

    # -- bounded runs -------------------------------------------------------------------------------------------

    def run(self, records: Mapping[str, Sequence], tables: Sequence[str] = RESULT_TABLES) -> RunResult:
        """Feed ``records`` (envelopes as dicts, or raw JSON text) and collect ``tables`` once the input ends."""
        with tempfile.TemporaryDirectory(prefix="flink-local-") as workdir:
            feed = Path(workdir) / "feed"
            fed, errors = write_feed(feed, records, self.error_target, self.whole_numbers)
            fatal = [error for error in errors if self.error_mode[error.table] != "log"]
            if fatal:
                raise MalformedRecordsError(fatal)
            t_env = self._pipeline(feed, Path(workdir) / "tables", monitor_interval=None)
            results = [(name, self._collect_table(t_env, name).execute()) for name in tables]
            collected = {name: self._materialize(name, self._changes(result)) for name, result in results}
        return RunResult(collected, errors, fed)

    def _materialize(self, name: str, changes: Iterator[Change]) -> list[dict]:
        key = self.tables[name].primary_key
        if not key:
            rows = []
            for change in changes:
                if change.kind != "+I":
                    raise LocalRewriteError(f"{name} is append-only but produced a {change.kind} change")
                rows.append(change.row)
            return rows
        current: dict[tuple, dict] = {}
        for change in changes:
            identity = tuple(change.row[column] for column in key)
            if change.kind in ("+I", "+U"):
                current[identity] = change.row
            else:
                current.pop(identity, None)
        return list(current.values())

    # -- continuous runs (benchmark, local demo) ------------------------------------------------------------

    def start(self, feed: Path, tables: Sequence[str] = RESULT_TABLES, monitor_interval: str = "100 ms") -> dict:
        """Run on ``feed/<TABLE>/`` as files keep arriving; returns table -> (iterator of Change, job client).

        Files must appear whole (write under a name starting with '.', then rename): the source skips hidden files.
        The materialized tables' catalog entries point at ``<feed>/.tables`` (nothing is written there).
        """
        t_env = self._pipeline(Path(feed), Path(feed) / ".tables", monitor_interval)
        running = {}
        for name in tables:
            result = self._collect_table(t_env, name).execute()
            running[name] = (self._changes(result), result.get_job_client())
        return running

    # -- the pipeline ---------------------------------------------------------------------------------------------

    def _environment(self):
        _java_available()
        from pyflink.datastream import StreamExecutionEnvironment
        from pyflink.table import EnvironmentSettings, StreamTableEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(self.parallelism)
        t_env = StreamTableEnvironment.create(env, EnvironmentSettings.in_streaming_mode())
        config = t_env.get_config()
        config.set("table.local-time-zone", "UTC")
        config.set("table.exec.source.idle-timeout", self.idle_timeout)
        for key, value in self.session.items():
            config.set(key, value)
        return t_env

    def _pipeline(self, feed: Path, tables_dir: Path, monitor_interval: str | None):
        t_env = self._environment()
        for table in COLUMNS:
            self._declare_source(t_env, feed / table, table, monitor_interval)
        for step in self.steps:
            if isinstance(step, MaterializedTable):
                self._create_table(t_env, step, tables_dir)
        return t_env

    # -- what a table's query keeps (tests) -------------------------------------------------------------------

    def compiled_plan(self, name: str) -> dict:
        """Flink's compiled plan (JSON) of ``name``'s query, reading the tables before it as their catalog tables
        (their topics), into a sink that discards: each stateful operator with the TTL of its state.

        Rows flowing through a view cannot be compiled into a plan, so the upstream tables are read as created."""
        import json

        from pyflink.table import Schema, TableDescriptor

        step = self.tables[name]
        with tempfile.TemporaryDirectory(prefix="flink-plan-") as workdir:
            t_env = self._environment()
            for table in COLUMNS:
                self._declare_source(t_env, Path(workdir) / "feed" / table, table, None)
            for upstream in self.steps[:self.steps.index(step)]:
                if isinstance(upstream, MaterializedTable):
                    with flink_errors(upstream):
                        t_env.execute_sql(local_table(upstream, Path(workdir) / "tables").create_sql)
            with flink_errors(step):
                schema = Schema.new_builder().from_resolved_schema(t_env.sql_query(step.query).get_resolved_schema())
                t_env.create_temporary_table("`compiled plan sink`", TableDescriptor.for_connector("blackhole")
                                             .schema(schema.build()).build())
                plan = t_env.compile_plan_sql(f"INSERT INTO `compiled plan sink` {step.query}")
                return json.loads(plan.as_json_string())

    def _declare_source(self, t_env, path: Path, table: str, monitor_interval: str | None) -> None:
        """Rule 1 of flink_local.sql: the CDC topic's table, as Confluent infers it, over Debezium JSON envelopes."""
        path.mkdir(parents=True, exist_ok=True)
        columns = column_types(table, self.whole_numbers)

        def declared(name: str, kind: str) -> str:
            return f"`{name}` {'BIGINT' if kind == TIMESTAMP else kind}{' NOT NULL' if name in REQUIRED[table] else ''}"

        monitor = f", 'source.monitor-interval' = '{monitor_interval}'" if monitor_interval else ""
        changes = f"`{topic(table)}__changes`"
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE {changes} ({', '.join(declared(n, k) for n, k in columns.items())}) WITH ("
            f"'connector' = 'filesystem', 'path' = '{path.as_posix()}', 'format' = 'debezium-json'{monitor})"
        )
        typed = ", ".join(
            f"TO_TIMESTAMP_LTZ(`{name}`, 3) AS `{name}`" if kind == TIMESTAMP else f"`{name}`"
            for name, kind in columns.items()
        )
        t_env.execute_sql(f"CREATE TEMPORARY VIEW `{topic(table)}` AS SELECT {typed} FROM {changes}")

    def _create_table(self, t_env, step: MaterializedTable, tables_dir: Path) -> None:
        """Rules 3 and 4: the table in Flink's catalog, its query planned into it, and the view downstream reads."""
        from pyflink.table import ChangelogMode, Schema

        local = local_table(step, tables_dir)
        with flink_errors(step):
            t_env.execute_sql(local.create_sql)
            t_env.explain_sql(local.insert_sql)
            rows = t_env.sql_query(step.query)
            schema = Schema.new_builder().from_resolved_schema(rows.get_resolved_schema())
            if step.watermark:
                schema = schema.watermark(*step.watermark)
            if local.changelog_mode == "upsert":
                keyed = (schema.primary_key(*step.primary_key) if step.primary_key else schema).build()
                # What an upsert topic's reader sees, planned only: Flink refuses it without a key, or with a key
                # that is not the query's own. The rows themselves flow as the query's changelog.
                t_env.from_changelog_stream(
                    t_env.to_changelog_stream(rows, keyed, ChangelogMode.upsert()), keyed, ChangelogMode.upsert()
                ).explain()
            if step.watermark:
                # A view cannot declare a watermark; a round trip through a DataStream can (same job, no copy).
                rows = (t_env.from_data_stream(t_env.to_data_stream(rows), schema.build())
                        if local.changelog_mode == "append"
                        else t_env.from_changelog_stream(t_env.to_changelog_stream(rows), schema.build()))
            t_env.create_temporary_view(f"`{step.table}`", rows)

    @staticmethod
    def _collect_table(t_env, name: str):
        """The table with TIMESTAMP_LTZ columns as UTC TIMESTAMP(3): PyFlink cannot hand java.time.Instant to Python."""
        from pyflink.table.types import LocalZonedTimestampType

        schema = t_env.from_path(name).get_resolved_schema()
        columns = [
            f"CAST(`{column}` AS TIMESTAMP(3)) AS `{column}`" if isinstance(data_type, LocalZonedTimestampType)
            else f"`{column}`"
            for column, data_type in zip(schema.get_column_names(), schema.get_column_data_types())
        ]
        return t_env.sql_query(f"SELECT {', '.join(columns)} FROM `{name}`")

    @staticmethod
    def _changes(result) -> Iterator[Change]:
        names = result.get_resolved_schema().get_column_names()
        with result.collect() as rows:
            for row in rows:
                values = {
                    name: value.replace(tzinfo=timezone.utc) if isinstance(value, datetime) else value
                    for name, value in zip(names, row)
                }
                yield Change(str(row.get_row_kind()), values, time.time())


@contextmanager
def flink_errors(step: MaterializedTable) -> Iterator[None]:
    """Re-raise what Flink refuses as ``LocalFlinkError`` naming the file and the table (Flink's message kept)."""
    from py4j.protocol import Py4JJavaError
    from pyflink.util.exceptions import JavaException

    try:
        yield
    except (Py4JJavaError, JavaException) as error:
        raise LocalFlinkError(f"flink/{step.file}: table {step.table}: {flink_message(error)}") from error


def flink_message(error: Exception) -> str:
    """The innermost Flink message of a Java exception chain (what Flink says, not where)."""
    text = str(error)
    found = (re.match(r"\s*(?::\s*|Caused by:\s*)?[\w.$]+(?:Exception|Error):\s*(.*)", line) for line in text.splitlines())
    messages = [match.group(1).strip() for match in found if match]
    messages = [message for message in messages if not message.startswith("Could not execute")]
    return messages[-1] if messages else text.strip().splitlines()[0]
