"""The statement files of ``flink/`` as local steps: the rewrite rules, in one place.

The files are Confluent Cloud Flink SQL and are deployed verbatim. Apache Flink 2.3 parses and validates the same
``CREATE OR ALTER MATERIALIZED TABLE`` statements (columns, primary key, watermark, ``START_MODE``) and runs the same
queries (``TO_CHANGELOG`` included), so locally only what has no Apache Flink counterpart is replaced, by these
rules (anything else is an error naming the file, never a silent change):

1. CDC source tables. Confluent infers ```fd.SAMPLE.<TABLE>``` from the topic and its Debezium Avro schema; locally
   the runner declares it: a ``filesystem`` table in Flink's ``debezium-json`` format over the same envelopes (as
   JSON), so it has the same shape as Confluent's documented interpretation: the after-image columns, NOT NULL
   where the column is, and a retract changelog (c and r are INSERTs, u an UPDATE_BEFORE/UPDATE_AFTER pair, d a
   DELETE). A view over it reads the epoch-millisecond TIMESTAMP columns as TIMESTAMP_LTZ(3), as Confluent does
   with Avro's timestamp-millis. Confluent's system column ``$rowtime`` is not modelled (the files do not use it).
2. ``ALTER TABLE <cdc table> SET (...)`` only sets Kafka/Schema Registry options. Locally the options must be those
   the local source already behaves like ('value.format' = 'avro-debezium-registry', 'changelog.mode' = 'retract',
   'error-handling.mode' 'log' or 'fail' with a 'error-handling.log.target'), so the step only records the
   error-handling mode: with 'log' a malformed record is reported under the target's name, otherwise it fails the run.
3. ``CREATE OR ALTER MATERIALIZED TABLE``: the statement runs in Flink as written, except that its WITH options (Kafka
   topic settings: 'changelog.mode', 'value.format', 'kafka.*', ...) become a local ``filesystem`` backing that keeps
   Flink's own changelog check, and ``DISTRIBUTED BY`` (Kafka partitions, which a file sink cannot have: Flink says
   so) is left out. 'changelog.mode' (default: 'upsert' with a PRIMARY KEY, else 'append', as in Confluent) picks the
   backing format: 'append' -> 'json', which refuses updating input; 'upsert' and 'retract' -> 'debezium-json'. The
   table is created in Flink's catalog with its declared columns, key and watermark, and its query is planned into
   it (``INSERT INTO``, explained, not run): Flink rejects a nullable key, a watermark on a column that is not a
   time attribute and an append table fed by an updating query there.
4. Reading a materialized table. Downstream statements (and the runner's collectors) read a temporary view of the
   same name that shadows the catalog table (Flink lets temporary objects shadow permanent ones), so rows flow as
   they are produced rather than through files. The view is the query with the declared watermark. For 'upsert',
   a read of the table as its topic holds it (an upsert changelog keyed by the PRIMARY KEY) is planned too, where
   Flink refuses a missing key ("... produces a changelog stream that contains UPDATE_AFTER but no UPDATE_BEFORE.
   This requires defining a primary key constraint on the table.") and a key that is not the query's own; the
   rows still flow as the query's changelog, which a reader folds by key to the same rows.
5. ``START_MODE`` has no local effect: every local run is a first creation and reads the feed from its start, which
   is what RESUME_OR_FROM_BEGINNING and FROM_BEGINNING do on creation.
6. ``SET 'sql.state-ttl' = '...'`` before a statement becomes Flink's 'table.exec.state.ttl' (one value per run);
   other session options are refused.

Every Flink error raised by rules 3 and 4 is re-raised as ``LocalFlinkError`` with the file and the table named.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sql_text
from sql_text import AlterOptions, MaterializedTable, SqlTextError

FLINK_DIR = Path(__file__).resolve().parent.parent / "flink"

# Rule 2: options of the CDC source tables and the values the local source implements.
SOURCE_OPTIONS = {"value.format": {"avro-debezium-registry"}, "changelog.mode": {"retract"},
                  "error-handling.mode": {"log", "fail"}}
FREE_SOURCE_OPTIONS = {"error-handling.log.target"}
# Rule 3: Confluent table options that only configure the Kafka topic and its schemas (no local effect).
TOPIC_OPTIONS = {"value.format", "key.format", "value.fields-include", "kafka.cleanup-policy", "kafka.retention.time",
                 "kafka.retention.size", "kafka.compaction.time", "kafka.max-message-size"}
BACKING_FORMATS = {"append": "json", "upsert": "debezium-json", "retract": "debezium-json"}
# Rule 6: Confluent session option -> Apache Flink configuration.
SESSION_OPTIONS = {"sql.state-ttl": "table.exec.state.ttl"}

Step = AlterOptions | MaterializedTable


class LocalRewriteError(ValueError):
    """A statement file the local rules cannot translate; the message names the file and what was expected."""


class LocalFlinkError(ValueError):
    """Flink refused a statement; the message names the file and the table, then gives Flink's own message."""


def parse_statement(file: str, text: str) -> Step:
    try:
        return sql_text.parse_file(file, text)
    except SqlTextError as error:
        raise LocalRewriteError(str(error)) from error


def load_steps(sql_dir: Path = FLINK_DIR) -> list[Step]:
    """Every ``*.sql`` file of ``sql_dir`` in file-name order, as local steps."""
    files = sorted(Path(sql_dir).glob("*.sql"))
    if not files:
        raise LocalRewriteError(f"no Flink SQL files (*.sql) in {sql_dir}")
    steps = [parse_statement(path.name, path.read_text()) for path in files]
    for step in steps:
        unknown = set(step.session_options) - set(SESSION_OPTIONS)
        if unknown:
            raise LocalRewriteError(f"flink/{step.file}: session option(s) {', '.join(sorted(unknown))} have no local "
                                    f"equivalent; expected {', '.join(SESSION_OPTIONS)}")
    return steps


def check_source_options(step: AlterOptions, sources: set[str]) -> None:
    """Rule 2: the statement must alter a CDC source and set only options the local source implements."""
    if step.table not in sources:
        raise LocalRewriteError(
            f"flink/{step.file}: the local runner applies ALTER TABLE ... SET only to the CDC sources "
            f"({', '.join(sorted(sources))}); got {step.table}"
        )
    for key, value in step.options.items():
        if key in FREE_SOURCE_OPTIONS:
            continue
        if value not in SOURCE_OPTIONS.get(key, ()):
            expected = ", ".join(f"'{k}' in {sorted(v)}" for k, v in SOURCE_OPTIONS.items())
            raise LocalRewriteError(
                f"flink/{step.file}: option '{key}' = '{value}' has no local equivalent; expected {expected} "
                f"or {', '.join(sorted(FREE_SOURCE_OPTIONS))}"
            )


@dataclass(frozen=True)
class LocalTable:
    """Rule 3: what a materialized table file becomes locally."""

    step: MaterializedTable
    changelog_mode: str  # append, upsert or retract
    create_sql: str  # the statement as Flink runs it, with the local backing
    insert_sql: str  # its query planned into it


def local_table(step: MaterializedTable, directory: Path) -> LocalTable:
    """The file's statement with its WITH options replaced by a filesystem backing under ``directory``."""
    mode = step.options.get("changelog.mode") or ("upsert" if step.primary_key else "append")
    if mode not in BACKING_FORMATS:
        raise LocalRewriteError(f"flink/{step.file}: 'changelog.mode' = '{mode}', expected one of "
                                f"{', '.join(BACKING_FORMATS)}")
    unknown = set(step.options) - TOPIC_OPTIONS - {"changelog.mode"}
    if unknown:
        raise LocalRewriteError(f"flink/{step.file}: table option(s) {', '.join(sorted(unknown))} have no local "
                                f"equivalent; expected 'changelog.mode' and Kafka topic settings "
                                f"({', '.join(sorted(TOPIC_OPTIONS))})")
    path = (Path(directory) / step.table).as_posix()
    elements = f" (\n{step.elements}\n)" if step.elements else ""
    start_mode = ""
    if step.start_mode:
        mode_text = step.start_mode.kind
        if step.start_mode.interval:
            mode_text += f"(INTERVAL '{step.start_mode.interval[0]}' {step.start_mode.interval[1]})"
        elif step.start_mode.timestamp:
            mode_text += f"(TIMESTAMP '{step.start_mode.timestamp}')"
        start_mode = f"\nSTART_MODE = {mode_text}"
    create = (
        f"CREATE OR ALTER MATERIALIZED TABLE `{step.table}`{elements}\n"
        f"WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = '{BACKING_FORMATS[mode]}'){start_mode}\n"
        f"AS {step.query}"
    )
    return LocalTable(step, mode, create, f"INSERT INTO `{step.table}` {step.query}")
