"""The SQL text scanner shared by FlinkPool, the local Flink runner and the policy pack.

It knows only the text of Confluent Cloud Flink SQL: comments (``--``, ``/* */``; a ``/*+ ... */`` hint is code and
stays in the query), string literals (``'...'`` with ``''``), backticked identifiers (```a.b```), balanced
parentheses, the table names a statement creates, alters or reads (not the names a WITH clause gives its
subqueries), and the parts of the two statement forms ``flink/`` holds: ``ALTER TABLE <t> SET (...)`` and
``CREATE [OR ALTER] MATERIALIZED TABLE <t> [(...)] [DISTRIBUTED BY ...] [WITH (...)] [START_MODE = ...] AS <query>``,
optionally preceded by ``SET 'key' = 'value';`` session options.

Hand-written on purpose. sqlglot (30.30.0, the maintained Python SQL parser; no Flink dialect) was tried on every
file of ``flink/`` on 2026-12-01 with its default and Spark dialects: it gives up on ``CREATE OR ALTER MATERIALIZED
TABLE`` (an unparsed "Command": no table names, no parts), fails with "Expecting )" on ``WATERMARK FOR`` and on
``TO_CHANGELOG(input => TABLE ...)`` even in the query alone, and parses ``ALTER TABLE ... SET`` only as Spark.
So no part of this module could use it, and it is not a dependency. Flink's own parser (Calcite) runs in the
local engine, which is where the statements are validated; this module only finds the parts, and any text it
does not expect is an error naming the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PART = r"(?:`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_$]*)"
IDENT = rf"(?:{PART}(?:\s*\.\s*{PART})*)"  # a possibly qualified name

_CREATES = re.compile(
    rf"\bCREATE\s+(?:OR\s+(?:REPLACE|ALTER)\s+)?(?:TEMPORARY\s+)?(?:MATERIALIZED\s+)?(TABLE|VIEW)\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?({IDENT})",
    re.I,
)
_ALTERS = re.compile(rf"\bALTER\s+(?:MATERIALIZED\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
_DROPS = re.compile(rf"\bDROP\s+(?:TEMPORARY\s+)?(?:MATERIALIZED\s+)?(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
_NAME_ENDS = r"(?![A-Za-z0-9_$`])(?!\s*[(.])"  # the whole name, and not a function call
_READS = (
    re.compile(rf"\b(?:FROM|JOIN)\s+({IDENT}){_NAME_ENDS}", re.I),
    re.compile(rf"\bINSERT\s+(?:INTO|OVERWRITE)\s+({IDENT}){_NAME_ENDS}", re.I),
    # table arguments: TO_CHANGELOG(input => TABLE t), TUMBLE(TABLE t, ...)
    re.compile(rf"(?:\(|=>|,)\s*TABLE\s+({IDENT}){_NAME_ENDS}", re.I),
)
_KEYWORDS = {"TABLE", "VIEW", "MATERIALIZED", "SELECT", "LATERAL", "UNNEST", "IF"}
# Names a WITH clause gives its subqueries (WITH a AS (...), b AS (...)): read like tables, but the query's own.
_DEFINED = re.compile(rf"(?:\bWITH|,)\s*({PART})\s+AS\s*\(", re.I)


class SqlTextError(ValueError):
    """Text the scanner does not expect; the message names the file and the expected form."""


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
    raise SqlTextError(f"unterminated {quote} at offset {start}")


def _scan(sql: str, keep_literals: bool) -> str:
    out: list[str] = []
    i = 0
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
        elif sql.startswith("/*", i) and not sql.startswith("/*+", i):  # /*+ ... */ is a hint: code, kept
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
            out.append(" ")
        elif sql[i] in "'`":
            end = _literal_end(sql, i)
            out.append(sql[i:end] if keep_literals or sql[i] == "`" else "''")
            i = end
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


def strip_comments(sql: str) -> str:
    """The SQL without comments; string literals, backticked names and hints are kept as they are."""
    return _scan(sql, keep_literals=True)


def code_only(sql: str) -> str:
    """The SQL without comments and with string literals emptied, so only code is matched (backticks kept)."""
    return _scan(sql, keep_literals=False)


def mask(sql: str) -> str:
    """Same length as ``sql``, the insides of literals and backticked names blanked, so structure can be matched."""
    out, i = list(sql), 0
    while i < len(sql):
        if sql[i] in "'`":
            end = _literal_end(sql, i)
            out[i + 1:end - 1] = "_" * (end - i - 2)
            i = end
        else:
            i += 1
    return "".join(out)


def closing_paren(masked: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(masked)):
        if masked[i] == "(":
            depth += 1
        elif masked[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise SqlTextError("unbalanced parentheses")


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Parts of ``text`` between separators outside parentheses, literals and backticks."""
    masked, parts, depth, start = mask(text), [], 0, 0
    for i, char in enumerate(masked):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def unquote(identifier: str) -> str:
    return identifier[1:-1].replace("``", "`") if identifier.startswith("`") else identifier


def table_name(identifier: str) -> str:
    """The table part of a possibly qualified name, without backticks."""
    return unquote(re.findall(PART, identifier)[-1])


def _names(pattern: re.Pattern, sql: str) -> set[str]:
    return {table_name(match.group(1)) for match in pattern.finditer(code_only(sql))}


def created_tables(sql: str) -> set[str]:
    """Tables and views a statement creates (a materialized table included)."""
    return {table_name(ident) for _, ident in _CREATES.findall(code_only(sql))}


def altered_tables(sql: str) -> set[str]:
    return _names(_ALTERS, sql)


def dropped_tables(sql: str) -> set[str]:
    return _names(_DROPS, sql)


def read_tables(sql: str) -> set[str]:
    """Tables a statement reads (FROM, JOIN, table arguments) or writes into (INSERT), besides what it creates and
    the subqueries its WITH clause names."""
    code = code_only(sql)
    found = {table_name(match.group(1)) for pattern in _READS for match in pattern.finditer(code)}
    defined = {unquote(match.group(1)) for match in _DEFINED.finditer(code)}
    return {name for name in found if name.upper() not in _KEYWORDS and name not in defined}


def parse_options(body: str, where: str) -> dict[str, str]:
    """``'key' = 'value', ...`` as a dict."""
    options = {}
    for part in split_top_level(body):
        match = re.fullmatch(r"'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'", part, re.S)
        if not match:
            raise SqlTextError(f"{where}: expected options as 'key' = 'value', got {part!r}")
        options[match.group(1).replace("''", "'")] = match.group(2).replace("''", "'")
    return options


@dataclass(frozen=True)
class AlterOptions:
    """``ALTER TABLE <table> SET (...)``: options of a table the stack does not create (a CDC source)."""

    file: str
    table: str
    options: dict[str, str]
    session_options: dict[str, str] = field(default_factory=dict)

    @property
    def reads(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class StartMode:
    kind: str  # FROM_BEGINNING, RESUME_OR_FROM_BEGINNING, FROM_NOW, ...
    interval: tuple[int, str] | None = None  # (value, unit) of FROM_NOW(INTERVAL 'n' UNIT)
    timestamp: str | None = None  # of FROM_TIMESTAMP('...')


@dataclass(frozen=True)
class MaterializedTable:
    """``CREATE [OR ALTER] MATERIALIZED TABLE``: a table (its topic) and the continuous query that fills it."""

    file: str
    table: str
    query: str
    columns: tuple[Column, ...] = ()
    watermark: tuple[str, str] | None = None  # (column, expression)
    primary_key: tuple[str, ...] = ()
    distribution: tuple[tuple[str, ...], int | None] | None = None  # (keys, buckets)
    options: dict[str, str] = field(default_factory=dict)
    start_mode: StartMode | None = None
    session_options: dict[str, str] = field(default_factory=dict)
    elements: str = ""  # the text between the parentheses after the name, as written

    @property
    def reads(self) -> frozenset[str]:
        return frozenset(read_tables(self.query) - {self.table})


Statement = AlterOptions | MaterializedTable
START_MODES = ("FROM_BEGINNING", "FROM_NOW", "FROM_TIMESTAMP", "RESUME_OR_FROM_BEGINNING", "RESUME_OR_FROM_NOW",
               "RESUME_OR_FROM_TIMESTAMP")
_SET = re.compile(r"\s*SET\s+'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'\s*$", re.I | re.S)


def parse_file(file: str, text: str) -> Statement:
    """One statement file of ``flink/`` (leading ``SET`` session options allowed) into its parts."""
    sql = strip_comments(text).strip()
    pieces = split_top_level(sql, ";")
    if not pieces:
        raise SqlTextError(f"flink/{file}: expected one SQL statement, found none")
    session: dict[str, str] = {}
    for piece in pieces[:-1]:
        match = _SET.fullmatch(piece)
        if not match:
            raise SqlTextError(f"flink/{file}: expected one SQL statement per file (SET 'key' = 'value'; lines "
                               f"may precede it), found several")
        session[match.group(1).replace("''", "'")] = match.group(2).replace("''", "'")
    statement = pieces[-1]
    masked = mask(statement)
    alter = re.match(rf"ALTER\s+TABLE\s+({IDENT})\s+SET\s*\(", masked, re.I)
    if alter:
        close = closing_paren(masked, alter.end() - 1)
        if statement[close + 1:].strip():
            raise SqlTextError(f"flink/{file}: unexpected text after the options: {statement[close + 1:].strip()!r}")
        table = table_name(statement[alter.start(1):alter.end(1)])
        return AlterOptions(file, table, parse_options(statement[alter.end():close], f"flink/{file}"), session)
    create = re.match(rf"CREATE\s+(?:OR\s+ALTER\s+)?MATERIALIZED\s+TABLE\s+({IDENT})\s*", masked, re.I)
    if create:
        table = table_name(statement[create.start(1):create.end(1)])
        return _materialized_table(file, statement, masked, table, create.end(), session)
    raise SqlTextError(
        f"flink/{file}: expected ALTER TABLE <cdc table> SET (...) or CREATE OR ALTER MATERIALIZED TABLE ... AS "
        f"<query>; got {statement[:60]!r}"
    )


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _materialized_table(file: str, sql: str, masked: str, table: str, at: int, session: dict) -> MaterializedTable:
    where = f"flink/{file}"
    elements, options, distribution, start_mode = "", {}, None, None
    if masked.startswith("(", at):
        close = closing_paren(masked, at)
        elements = sql[at + 1:close].strip()
        at = _skip_space(masked, close + 1)
    distributed = re.match(r"DISTRIBUTED\s+BY\s+(?:HASH\s*)?\(([^)]*)\)\s*(?:INTO\s+(\d+)\s+BUCKETS\s*)?", masked[at:], re.I)
    if distributed:
        keys = tuple(table_name(key.strip()) for key in sql[at:at + distributed.end()].split("(", 1)[1].split(")")[0].split(","))
        distribution = (keys, int(distributed.group(2)) if distributed.group(2) else None)
        at += distributed.end()
    with_clause = re.match(r"WITH\s*\(", masked[at:], re.I)
    if with_clause:
        open_at = at + with_clause.end() - 1
        close = closing_paren(masked, open_at)
        options = parse_options(sql[open_at + 1:close], where)
        at = _skip_space(masked, close + 1)
    mode = re.match(r"START_MODE\s*=\s*([A-Z_]+)\s*", masked[at:], re.I)
    if mode:
        kind = mode.group(1).upper()
        if kind not in START_MODES:
            raise SqlTextError(f"{where}: START_MODE {kind}; expected one of {', '.join(START_MODES)}")
        at += mode.end()
        interval = timestamp = None
        if masked.startswith("(", at):
            close = closing_paren(masked, at)
            argument = sql[at + 1:close].strip()
            at = _skip_space(masked, close + 1)
            by_interval = re.fullmatch(r"INTERVAL\s+'(\d+)'\s+([A-Z]+)", argument, re.I)
            by_time = re.fullmatch(r"(?:TIMESTAMP\s+)?'([^']+)'", argument, re.I)
            if by_interval:
                interval = (int(by_interval.group(1)), by_interval.group(2).upper())
            elif by_time:
                timestamp = by_time.group(1)
            else:
                raise SqlTextError(f"{where}: START_MODE {kind}({argument}): expected INTERVAL 'n' UNIT or a timestamp")
        start_mode = StartMode(kind, interval, timestamp)
    query = re.match(r"AS\s+", masked[at:], re.I)
    if not query:
        raise SqlTextError(
            f"{where}: expected CREATE OR ALTER MATERIALIZED TABLE {table} [(...)] [DISTRIBUTED BY ...] [WITH (...)] "
            f"[START_MODE = ...] AS <query>; got {sql[at:at + 40]!r}"
        )
    columns, watermark, key = [], None, ()
    for part in split_top_level(elements):
        wm = re.fullmatch(rf"WATERMARK\s+FOR\s+({IDENT})\s+AS\s+(.+)", part, re.I | re.S)
        pk = re.fullmatch(r"(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY\s*\(([^)]*)\)\s*NOT\s+ENFORCED", part, re.I | re.S)
        column = re.fullmatch(rf"({PART})\s+([A-Za-z][\w\s(),]*?)", part, re.S)
        if wm:
            watermark = (unquote(wm.group(1)), wm.group(2).strip())
        elif pk:
            key = tuple(unquote(column.strip()) for column in pk.group(1).split(","))
        elif column and not re.search(r"\b(AS|METADATA)\b", part, re.I):
            columns.append(Column(unquote(column.group(1)), column.group(2).strip()))
        else:
            raise SqlTextError(
                f"{where}: in MATERIALIZED TABLE {table} (...) expected physical columns (name TYPE), a WATERMARK and "
                f"a PRIMARY KEY; got {part!r}"
            )
    return MaterializedTable(file, table, sql[at + query.end():].strip(), tuple(columns), watermark, key,
                             distribution, options, start_mode, session, elements)
