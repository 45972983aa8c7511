"""The CDC records the Oracle XStream source connector writes, as the local runner reads and checks them.

Connector modes assumed (as the statement files state): decimal.handling.mode=double, so every NUMBER is a
DOUBLE; time.precision.mode=connect, so a TIMESTAMP is an Avro long with the timestamp-millis logical type,
which Confluent Cloud Flink reads as TIMESTAMP_LTZ(3). In the local JSON envelopes such a field is the same
long: epoch milliseconds. Values are Debezium envelopes: before, after, source, op (c, r, u, d), ts_ms.

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

# Column -> Flink type of the connector's value schema (upper-case Oracle names, see FACTS.md).
COLUMNS: dict[str, dict[str, str]] = {
    "AUTH_USER": {
        "ID": "DOUBLE", "PASSWORD": "STRING", "LAST_LOGIN": TIMESTAMP, "IS_SUPERUSER": "DOUBLE",
        "USERNAME": "STRING", "FIRST_NAME": "STRING", "LAST_NAME": "STRING", "EMAIL": "STRING",
        "IS_STAFF": "DOUBLE", "IS_ACTIVE": "DOUBLE", "DATE_JOINED": TIMESTAMP,
    },
    "USER_TRANSACTION": {
        "ID": "DOUBLE", "AMOUNT": "DOUBLE", "RECEIVED_AT": TIMESTAMP, "IP_ADDRESS": "STRING", "ACCOUNT_ID": "DOUBLE",
    },
}
# NOT NULL columns (Django on Oracle stores '' as NULL, so names and email may be null; the password hash is
# not needed downstream and the app's local feed leaves it out).
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


def _check_row(table: str, name: str, row) -> list[str]:
    if not isinstance(row, Mapping):
        return [f"{name}: expected an object with the {table} columns, got {type(row).__name__}"]
    columns = COLUMNS[table]
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
        elif kind == TIMESTAMP and not (isinstance(value, int) and not isinstance(value, bool)):
            problems.append(f"{name}.{column}: expected epoch milliseconds (time.precision.mode=connect), got {value!r}")
    return problems


def validate(table: str, record) -> tuple[dict | None, list[str]]:
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
        problems += _check_row(table, "before", before)
    elif op in OPERATIONS:
        problems += _check_row(table, "after", after)
        if before is not None:
            problems += _check_row(table, "before", before)
    return (None, problems) if problems else (dict(record), [])


def write_feed(directory: Path, records: Mapping[str, Sequence],
               error_targets: Mapping[str, str | None]) -> tuple[dict[str, int], list[RecordError]]:
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
            envelope, problems = validate(table, record)
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
    """CDC records for users and their transactions, with increasing ids; times are epoch milliseconds."""

    records: dict[str, list] = field(default_factory=lambda: {table: [] for table in COLUMNS})
    next_ids: dict[str, int] = field(default_factory=lambda: {table: 1 for table in COLUMNS})

    def _id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] += 1
        return value

    def user(self, at_ms: int, username: str | None = None, op: str = "c") -> dict:
        user_id = self._id("AUTH_USER")
        name = username or f"customer{user_id}"
        row = {
            "ID": float(user_id), "USERNAME": name, "FIRST_NAME": name.capitalize(), "LAST_NAME": "Example",
            "EMAIL": f"{name}@example.com", "IS_STAFF": 0.0, "IS_ACTIVE": 1.0, "IS_SUPERUSER": 0.0,
            "DATE_JOINED": at_ms, "LAST_LOGIN": None,
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
        row = {"ID": float(self._id("USER_TRANSACTION")), "AMOUNT": float(amount), "RECEIVED_AT": received_ms,
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
