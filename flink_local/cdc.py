"""The CDC records the Oracle XStream source connector writes, as the local runner reads and checks them.

Connector modes assumed (as the statement files state): decimal.handling.mode=double, so a scaled NUMBER (AMOUNT,
NUMBER(12,2)) is a DOUBLE, while whole-number NUMBER(p) columns (the ids and flags) arrive as Avro int/long as
Confluent's XStream change-event docs show; ``WHOLE_NUMBER_TYPES`` lets a run declare them BIGINT (the default)
or DOUBLE, and the SQL must work with both. time.precision.mode=connect: a TIMESTAMP is an Avro long with the
timestamp-millis logical type, which Confluent Cloud Flink reads as TIMESTAMP_LTZ(3); in the local JSON envelopes
it is the same long, epoch milliseconds. Values are Debezium envelopes: before, after, source, op (c, r, u, d),
ts_ms; an update carries the row before it (the captured tables log all columns), a delete only ``before``.

``FeedBuilder`` makes envelopes from the app's scenario generators; ``validate`` names what is wrong with a
record (its table, position and field) so that the runner can report it instead of feeding it to Flink.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

TOPIC_PREFIX, SCHEMA = "fd", "SAMPLE"
TIMESTAMP = "TIMESTAMP_LTZ(3)"
WHOLE = "WHOLE"  # a whole-number NUMBER(p): BIGINT or DOUBLE, as the run declares
WHOLE_NUMBER_TYPES = ("BIGINT", "DOUBLE")

# Column -> Flink type of the connector's value schema (upper-case Oracle names, see FACTS.md).
COLUMNS: dict[str, dict[str, str]] = {
    "AUTH_USER": {
        "ID": WHOLE, "PASSWORD": "STRING", "LAST_LOGIN": TIMESTAMP, "IS_SUPERUSER": WHOLE,
        "USERNAME": "STRING", "FIRST_NAME": "STRING", "LAST_NAME": "STRING", "EMAIL": "STRING",
        "IS_STAFF": WHOLE, "IS_ACTIVE": WHOLE, "DATE_JOINED": TIMESTAMP,
    },
    "USER_TRANSACTION": {
        "ID": WHOLE, "AMOUNT": "DOUBLE", "RECEIVED_AT": TIMESTAMP, "IP_ADDRESS": "STRING", "ACCOUNT_ID": WHOLE,
    },
}
# NOT NULL columns, NOT NULL in the inferred tables too (a non-optional Avro field is a NOT NULL column). Django
# on Oracle stores '' as NULL, so names and email may be null; the password hash is not needed downstream and
# the app's local feed leaves it out.
REQUIRED = {
    "AUTH_USER": {"ID", "USERNAME", "IS_SUPERUSER", "IS_STAFF", "IS_ACTIVE", "DATE_JOINED"},
    "USER_TRANSACTION": {"ID", "AMOUNT", "RECEIVED_AT", "IP_ADDRESS", "ACCOUNT_ID"},
}
OPERATIONS = ("c", "r", "u", "d")
ENVELOPE_FIELDS = {"before", "after", "source", "op", "ts_ms", "transaction"}


def topic(table: str) -> str:
    return f"{TOPIC_PREFIX}.{SCHEMA}.{table}"


@dataclass(frozen=True)
class RecordError:
    """A record that was not fed to Flink, and why."""

    table: str
    position: int  # index in the table's record list
    reason: str
    dead_letter_table: str | None = None  # the source's 'error-handling.log.target'

    def __str__(self) -> str:
        return f"{topic(self.table)} record {self.position}: {self.reason}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def column_types(table: str, whole_numbers: str) -> dict[str, str]:
    """The table's columns with whole-number columns typed ``whole_numbers`` (BIGINT or DOUBLE)."""
    if whole_numbers not in WHOLE_NUMBER_TYPES:
        raise ValueError(f"whole_numbers: expected one of {', '.join(WHOLE_NUMBER_TYPES)}, got {whole_numbers!r}")
    return {column: whole_numbers if kind == WHOLE else kind for column, kind in COLUMNS[table].items()}


def _check_row(table: str, name: str, row, whole_numbers: str) -> list[str]:
    if not isinstance(row, Mapping):
        return [f"{name}: expected an object with the {table} columns, got {type(row).__name__}"]
    columns = column_types(table, whole_numbers)
    problems = [f"{name}.{key}: unexpected column; expected some of {', '.join(columns)}" for key in row if key not in columns]
    for column, kind in columns.items():
        value = row.get(column)
        if value is None:
            if column in REQUIRED[table]:
                problems.append(f"{name}.{column}: required, got nothing")
        elif kind == "STRING" and not isinstance(value, str):
            problems.append(f"{name}.{column}: expected a string, got {value!r}")
        elif kind == "DOUBLE" and not _is_number(value):
            problems.append(f"{name}.{column}: expected a number (decimal.handling.mode=double), got {value!r}")
        elif kind == "BIGINT" and not _is_integer(value):
            problems.append(f"{name}.{column}: expected a whole number (NUMBER(p) as Avro int/long), got {value!r}")
        elif kind == TIMESTAMP and not _is_integer(value):
            problems.append(f"{name}.{column}: expected epoch milliseconds (time.precision.mode=connect), got {value!r}")
    return problems


def validate(table: str, record, whole_numbers: str = "BIGINT") -> tuple[dict | None, list[str]]:
    """The envelope as a dict and no problems, or None and what is wrong (a raw str is parsed as JSON first)."""
    if isinstance(record, (str, bytes)):
        try:
            record = json.loads(record)
        except ValueError as error:
            return None, [f"not valid JSON ({error})"]
    if not isinstance(record, Mapping):
        return None, [f"expected a Debezium envelope object, got {type(record).__name__}"]
    problems = [f"{key}: unexpected envelope field; expected {', '.join(sorted(ENVELOPE_FIELDS))}"
                for key in record if key not in ENVELOPE_FIELDS]
    op = record.get("op")
    if op not in OPERATIONS:
        problems.append(f"op: expected one of {', '.join(OPERATIONS)}, got {op!r}")
    ts_ms = record.get("ts_ms")
    if not (isinstance(ts_ms, int) and not isinstance(ts_ms, bool)):
        problems.append(f"ts_ms: expected epoch milliseconds, got {ts_ms!r}")
    before, after = record.get("before"), record.get("after")
    if op == "d":
        if after is not None:
            problems.append("after: a delete carries no after image")
        problems += _check_row(table, "before", before, whole_numbers)
    elif op == "u":
        problems += _check_row(table, "after", after, whole_numbers)
        problems += _check_row(table, "before", before, whole_numbers)  # all columns are logged: the old row
    elif op in OPERATIONS:
        problems += _check_row(table, "after", after, whole_numbers)
        if before is not None:
            problems.append("before: an insert or snapshot row carries no before image")
    return (None, problems) if problems else (dict(record), [])


def write_feed(directory: Path, records: Mapping[str, Sequence], error_targets: Mapping[str, str | None],
               whole_numbers: str = "BIGINT") -> tuple[dict[str, int], list[RecordError]]:
    """Valid envelopes as JSON lines in ``directory/<TABLE>/`` (counted per table); the others as errors."""
    unknown = set(records) - set(COLUMNS)
    if unknown:
        raise ValueError(f"records for unknown tables {sorted(unknown)}; expected {', '.join(COLUMNS)}")
    errors: list[RecordError] = []
    written: dict[str, int] = {}
    for table in COLUMNS:
        target = Path(directory) / table
        target.mkdir(parents=True, exist_ok=True)
        lines = []
        for position, record in enumerate(records.get(table, ())):
            envelope, problems = validate(table, record, whole_numbers)
            if problems:
                errors.append(RecordError(table, position, "; ".join(problems), error_targets.get(table)))
            else:
                lines.append(json.dumps(envelope, separators=(",", ":")))
        (target / "records.json").write_text("".join(line + "\n" for line in lines))
        written[table] = len(lines)
    return written, errors


def envelope(table: str, op: str, row: dict, ts_ms: int, before: dict | None = None) -> dict:
    """A Debezium envelope as the connector writes it: deletes carry the old row in ``before``."""
    source = {"connector": "oracle", "db": "XEPDB1", "schema": SCHEMA, "table": table, "ts_ms": ts_ms}
    if op == "d":
        return {"before": row, "after": None, "source": source, "op": op, "ts_ms": ts_ms}
    return {"before": before, "after": row, "source": source, "op": op, "ts_ms": ts_ms}


@dataclass
class FeedBuilder:
    """CDC records for users and their transactions, with increasing ids; times are epoch milliseconds.

    Whole-number columns are written as ``whole_numbers`` says: BIGINT as JSON integers, DOUBLE as JSON floats.
    """

    records: dict[str, list] = field(default_factory=lambda: {table: [] for table in COLUMNS})
    next_ids: dict[str, int] = field(default_factory=lambda: {table: 1 for table in COLUMNS})
    whole_numbers: str = "BIGINT"

    def _whole(self, value: int) -> int | float:
        return float(value) if self.whole_numbers == "DOUBLE" else int(value)

    def _id(self, table: str) -> int | float:
        value = self.next_ids[table]
        self.next_ids[table] += 1
        return self._whole(value)

    def user(self, at_ms: int, username: str | None = None, op: str = "c") -> dict:
        user_id = self._id("AUTH_USER")
        name = username or f"customer{int(user_id)}"
        row = {
            "ID": user_id, "USERNAME": name, "FIRST_NAME": name.capitalize(), "LAST_NAME": "Example",
            "EMAIL": f"{name}@example.com", "IS_STAFF": self._whole(0), "IS_ACTIVE": self._whole(1),
            "IS_SUPERUSER": self._whole(0), "DATE_JOINED": at_ms, "LAST_LOGIN": None,
        }
        self.records["AUTH_USER"].append(envelope("AUTH_USER", op, row, at_ms))
        return row

    def transactions(self, account: Mapping, specs: Iterable, start_ms: int, op: str = "c") -> list[dict]:
        """One record per ``scenarios.TransactionSpec``, stamped ``start_ms + offset``, as the app writes them."""
        rows = []
        for spec in specs:
            received = start_ms + round(spec.offset_seconds * 1000)
            rows.append(self.transaction(account, spec.amount, spec.ip_address, received, op=op))
        return rows

    def transaction(self, account: Mapping, amount: Decimal | float, ip_address: str, received_ms: int,
                    op: str = "c", captured_ms: int | None = None) -> dict:
        row = {"ID": self._id("USER_TRANSACTION"), "AMOUNT": float(amount), "RECEIVED_AT": received_ms,
               "IP_ADDRESS": ip_address, "ACCOUNT_ID": account["ID"]}
        self.records["USER_TRANSACTION"].append(envelope("USER_TRANSACTION", op, row, captured_ms or received_ms))
        return row

    def update(self, table: str, row: dict, changes: Mapping, at_ms: int) -> dict:
        new = {**row, **changes}
        self.records[table].append(envelope(table, "u", new, at_ms, before=row))
        return new

    def delete(self, table: str, row: dict, at_ms: int) -> None:
        self.records[table].append(envelope(table, "d", row, at_ms))

    def raw(self, table: str, record) -> None:
        """Append anything (e.g. a malformed record) as it is."""
        self.records[table].append(record)
