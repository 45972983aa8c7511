"""Execute the statements of ``flink/`` on a local Apache Flink (PyFlink, Java 17) and collect what they produce.

Bounded use (tests)::

    result = LocalFlink().run(feed.records)      # records: {"AUTH_USER": [...], "USER_TRANSACTION": [...]}
    result.tables["flagged_user"]                # current rows, upserted by the declared primary key
    result.errors                                # records that were not fed, with table, position and reason

Each run writes the valid envelopes as JSON files, declares the CDC sources over them and applies the statement
files by the rules in ``flink_local.sql``. Every requested table is collected by its own job; the jobs run at the
same time and end with their bounded input. ``start`` runs the same pipeline on a directory that keeps receiving
files (as the app's LOCAL_CDC_FEED does) and hands out the changes as they come, for the benchmark.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flink_local.cdc import COLUMNS, TIMESTAMP, RecordError, topic, write_feed
from flink_local.sql import FLINK_DIR, LocalRewriteError, SourceOptions, TableAsQuery, check_source_options, load_steps

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

    def __init__(self, sql_dir: Path = FLINK_DIR, parallelism: int = 1, idle_timeout: str = "1 s"):
        self.steps = load_steps(sql_dir)
        self.parallelism, self.idle_timeout = parallelism, idle_timeout
        # Rule 2: per CDC table, fail on a malformed record (Confluent's default) or report it under the DLQ name.
        self.error_mode = {table: "fail" for table in COLUMNS}
        self.error_target: dict[str, str | None] = {table: None for table in COLUMNS}
        for step in self.steps:
            if isinstance(step, SourceOptions):
                check_source_options(step, {topic(table) for table in COLUMNS})
                table = step.table.rsplit(".", 1)[-1]
                self.error_mode[table] = step.options.get("error-handling.mode", self.error_mode[table])
                self.error_target[table] = step.options.get("error-handling.log.target", self.error_target[table])
        self.tables = {step.table: step for step in self.steps if isinstance(step, TableAsQuery)}

    # -- bounded runs -------------------------------------------------------------------------------------------

    def run(self, records: Mapping[str, Sequence], tables: Sequence[str] = RESULT_TABLES) -> RunResult:
        """Feed ``records`` (envelopes as dicts, or raw JSON text) and collect ``tables`` once the input ends."""
        with tempfile.TemporaryDirectory(prefix="flink-local-") as workdir:
            feed = Path(workdir) / "feed"
            fed, errors = write_feed(feed, records, self.error_target)
            fatal = [error for error in errors if self.error_mode[error.table] != "log"]
            if fatal:
                raise MalformedRecordsError(fatal)
            t_env = self._pipeline(feed, monitor_interval=None)
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
        """
        t_env = self._pipeline(Path(feed), monitor_interval)
        running = {}
        for name in tables:
            result = self._collect_table(t_env, name).execute()
            running[name] = (self._changes(result), result.get_job_client())
        return running

    # -- the pipeline ---------------------------------------------------------------------------------------------

    def _pipeline(self, feed: Path, monitor_interval: str | None):
        _java_available()
        from pyflink.datastream import StreamExecutionEnvironment
        from pyflink.table import EnvironmentSettings, Schema, StreamTableEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(self.parallelism)
        t_env = StreamTableEnvironment.create(env, EnvironmentSettings.in_streaming_mode())
        config = t_env.get_config()
        config.set("table.local-time-zone", "UTC")
        config.set("table.exec.source.idle-timeout", self.idle_timeout)
        for table in COLUMNS:
            self._declare_source(t_env, feed / table, table, monitor_interval)
        for step in self.steps:
            if isinstance(step, TableAsQuery):
                view = t_env.sql_query(step.query)
                if step.watermark:
                    column, expression = step.watermark
                    # A view cannot declare a watermark; a round trip through a DataStream can (same job, no copy).
                    view = t_env.from_data_stream(
                        t_env.to_data_stream(view), Schema.new_builder().watermark(column, expression).build()
                    )
                if step.options.get("changelog.mode") == "append":
                    _require_insert_only(step, view)
                t_env.create_temporary_view(step.table, view)
        return t_env

    @staticmethod
    def _declare_source(t_env, path: Path, table: str, monitor_interval: str | None) -> None:
        """Rule 1 of flink_local.sql: the CDC topic's table over JSON envelopes, typed as Confluent infers it."""
        path.mkdir(parents=True, exist_ok=True)
        columns = COLUMNS[table]
        raw_type = ", ".join(f"`{name}` {'BIGINT' if kind == TIMESTAMP else kind}" for name, kind in columns.items())
        row_type = ", ".join(f"`{name}` {kind}" for name, kind in columns.items())
        monitor = f", 'source.monitor-interval' = '{monitor_interval}'" if monitor_interval else ""
        raw = f"`{topic(table)}__json`"
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE {raw} (`before` ROW<{raw_type}>, `after` ROW<{raw_type}>, `op` STRING, "
            f"`ts_ms` BIGINT) WITH ('connector' = 'filesystem', 'path' = '{path.as_posix()}', 'format' = 'json'{monitor})"
        )

        def image(column: str) -> str:
            fields = ", ".join(
                f"TO_TIMESTAMP_LTZ(`{column}`.`{name}`, 3)" if kind == TIMESTAMP else f"`{column}`.`{name}`"
                for name, kind in columns.items()
            )
            return f"CASE WHEN `{column}` IS NULL THEN NULL ELSE CAST(ROW({fields}) AS ROW<{row_type}>) END AS `{column}`"

        t_env.execute_sql(
            f"CREATE TEMPORARY VIEW `{topic(table)}` AS SELECT {image('before')}, {image('after')}, `op`, `ts_ms`, "
            f"TO_TIMESTAMP_LTZ(`ts_ms`, 3) AS `$rowtime` FROM {raw}"
        )

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


def _require_insert_only(step: TableAsQuery, view) -> None:
    """'changelog.mode' = 'append': Confluent rejects a query that produces updates; so does the local run."""
    from pyflink.table import ExplainDetail

    plan = view.explain(ExplainDetail.CHANGELOG_MODE)
    optimized = plan.split("== Optimized Physical Plan ==", 1)[1].strip().splitlines()[0]
    mode = re.search(r"changelogMode=\[([^\]]*)\]", optimized)
    if mode is None or mode.group(1) != "I":
        raise LocalRewriteError(
            f"flink/{step.file}: {step.table} is declared 'changelog.mode' = 'append' but its query produces "
            f"[{mode.group(1) if mode else '?'}] changes"
        )
