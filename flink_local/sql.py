"""The statement files of ``flink/`` as local steps: the rewrite rules, in one place.

The files are Confluent Cloud Flink SQL and are deployed verbatim. Locally only what has no Apache Flink
counterpart is replaced, by these rules (anything else is an error naming the file, never a silent change):

1. CDC source tables. Confluent infers ```fd.SAMPLE.<TABLE>``` from the topic and its Avro schema; locally the
   runner declares it (see ``cdc``): a ``filesystem`` table reading JSON envelopes, viewed with the types Confluent
   derives (timestamp-millis -> TIMESTAMP_LTZ(3)) and with ``$rowtime`` (the Kafka record time) taken from ts_ms.
2. ``ALTER TABLE <cdc table> SET (...)`` only sets Kafka/Schema Registry options. Locally the options must be ones
   the local source already behaves like ('value.format' = 'avro-registry': the raw envelope, 'changelog.mode' =
   'append', 'error-handling.mode' = 'log' with a 'error-handling.log.target'), so the step only records the
   error-handling mode: with 'log' a malformed record is reported under the target's name, otherwise it fails the run.
3. ``CREATE TABLE <name> [(<watermark> | <primary key>)] [DISTRIBUTED BY ...] [WITH (...)] AS <query>`` creates a
   Kafka topic in Confluent. Locally <name> becomes a view over <query>; a declared WATERMARK is applied to that
   view (as the topic's table has it), a declared PRIMARY KEY is the key the collected changelog is upserted by.
   DISTRIBUTED BY and the WITH options are Kafka topic settings and have no local effect, except that
   'changelog.mode' = 'append' requires an insert-only query and 'upsert' a primary key (as Confluent does).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FLINK_DIR = Path(__file__).resolve().parent.parent / "flink"

# Options of rule 2 and the values the local source implements.
SOURCE_OPTIONS = {"value.format": {"avro-registry"}, "changelog.mode": {"append"}, "error-handling.mode": {"log", "fail"}}
FREE_SOURCE_OPTIONS = {"error-handling.log.target"}

_IDENT = r"(`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*)"


class LocalRewriteError(ValueError):
    """A statement file the local rules cannot translate; the message names the file and what was expected."""


@dataclass(frozen=True)
class SourceOptions:
    """Rule 2: options set on a CDC source table."""

    file: str
    table: str
    options: dict[str, str]


@dataclass(frozen=True)
class TableAsQuery:
    """Rule 3: a table created from a query."""

    file: str
    table: str
    query: str
    watermark: tuple[str, str] | None = None  # (column, expression)
    primary_key: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


Step = SourceOptions | TableAsQuery


def strip_comments(sql: str) -> str:
    """The SQL without ``--`` and ``/* */`` comments; string literals and backticked names are kept as they are."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
            out.append(" ")
        elif sql[i] in "'`":
            end = _literal_end(sql, i)
            out.append(sql[i:end])
            i = end
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


def _literal_end(sql: str, start: int) -> int:
    """Index after the string literal or backticked name opening at ``start`` ('' and `` escape their quote)."""
    quote, i = sql[start], start + 1
    while i < len(sql):
        if sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    raise LocalRewriteError(f"unterminated {quote} at offset {start}")


def _mask(sql: str) -> str:
    """Same length as ``sql`` with the insides of literals and backticked names blanked, so structure can be matched."""
    out = list(sql)
    i = 0
    while i < len(sql):
        if sql[i] in "'`":
            end = _literal_end(sql, i)
            for j in range(i + 1, end - 1):
                out[j] = "_"
            i = end
        else:
            i += 1
    return "".join(out)


def _closing_paren(masked: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(masked)):
        if masked[i] == "(":
            depth += 1
        elif masked[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise LocalRewriteError("unbalanced parentheses")


def _split_top_level(text: str) -> list[str]:
    masked, parts, depth, start = _mask(text), [], 0, 0
    for i, char in enumerate(masked):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def unquote(identifier: str) -> str:
    return identifier[1:-1].replace("``", "`") if identifier.startswith("`") else identifier


def parse_options(body: str, file: str) -> dict[str, str]:
    options = {}
    for part in _split_top_level(body):
        match = re.fullmatch(r"'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'", part, re.S)
        if not match:
            raise LocalRewriteError(f"flink/{file}: expected table options as 'key' = 'value', got {part!r}")
        options[match.group(1).replace("''", "'")] = match.group(2).replace("''", "'")
    return options


def parse_statement(file: str, text: str) -> Step:
    """One statement file as a local step, by the rules above."""
    sql = strip_comments(text).strip().rstrip(";").strip()
    masked = _mask(sql)
    if ";" in masked:
        raise LocalRewriteError(f"flink/{file}: expected one statement per file, found several")
    alter = re.match(rf"ALTER\s+TABLE\s+{_IDENT}\s+SET\s*\(", masked, re.I)
    if alter:
        close = _closing_paren(masked, alter.end() - 1)
        if sql[close + 1:].strip():
            raise LocalRewriteError(f"flink/{file}: unexpected text after the options: {sql[close + 1:].strip()!r}")
        table = unquote(sql[alter.start(1):alter.end(1)])
        return SourceOptions(file, table, parse_options(sql[alter.end():close], file))
    create = re.match(rf"CREATE\s+TABLE\s+{_IDENT}\s*", masked, re.I)
    if create:
        return _table_as_query(file, sql, masked, unquote(sql[create.start(1):create.end(1)]), create.end())
    raise LocalRewriteError(
        f"flink/{file}: the local runner supports ALTER TABLE <cdc table> SET (...) and CREATE TABLE ... AS SELECT; "
        f"got {sql[:60]!r}"
    )


def _table_as_query(file: str, sql: str, masked: str, table: str, at: int) -> TableAsQuery:
    parts, options = [], {}
    if masked.startswith("(", at):
        close = _closing_paren(masked, at)
        parts = _split_top_level(sql[at + 1:close])
        at = _skip_space(masked, close + 1)
    distributed = re.match(r"DISTRIBUTED\s+(?:BY\s+(?:HASH\s*)?\([^)]*\)\s+)?INTO\s+\d+\s+BUCKETS\s*", masked[at:], re.I)
    if distributed:
        at += distributed.end()
    with_clause = re.match(r"WITH\s*\(", masked[at:], re.I)
    if with_clause:
        open_at = at + with_clause.end() - 1
        close = _closing_paren(masked, open_at)
        options = parse_options(sql[open_at + 1:close], file)
        at = _skip_space(masked, close + 1)
    query = re.match(r"AS\s+", masked[at:], re.I)
    if not query:
        raise LocalRewriteError(f"flink/{file}: expected CREATE TABLE {table} ... AS <query> (a table created from a query)")
    watermark, primary_key = None, ()
    for part in parts:
        wm = re.fullmatch(rf"WATERMARK\s+FOR\s+{_IDENT}\s+AS\s+(.+)", part, re.I | re.S)
        pk = re.fullmatch(r"(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY\s*\(([^)]*)\)\s*NOT\s+ENFORCED", part, re.I | re.S)
        if wm:
            watermark = (unquote(wm.group(1)), wm.group(2).strip())
        elif pk:
            primary_key = tuple(unquote(column.strip()) for column in pk.group(1).split(","))
        else:
            raise LocalRewriteError(
                f"flink/{file}: in CREATE TABLE {table} ... AS the local runner takes only a WATERMARK and a "
                f"PRIMARY KEY (the columns come from the query); got {part!r}"
            )
    mode = options.get("changelog.mode")
    if mode == "upsert" and not primary_key:
        raise LocalRewriteError(f"flink/{file}: 'changelog.mode' = 'upsert' needs a PRIMARY KEY")
    if mode not in (None, "append", "upsert"):
        raise LocalRewriteError(f"flink/{file}: the local runner models 'changelog.mode' append or upsert, got {mode!r}")
    return TableAsQuery(file, table, sql[at + query.end():].strip(), watermark, primary_key, options)


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def load_steps(sql_dir: Path = FLINK_DIR) -> list[Step]:
    """Every ``*.sql`` file of ``sql_dir`` in file-name order, as local steps."""
    files = sorted(Path(sql_dir).glob("*.sql"))
    if not files:
        raise LocalRewriteError(f"no Flink SQL files (*.sql) in {sql_dir}")
    return [parse_statement(path.name, path.read_text()) for path in files]


def check_source_options(step: SourceOptions, sources: set[str]) -> None:
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
