"""A local stand-in for Oracle XStream CDC, for `make demo` only (no cloud, no Kafka).

With LOCAL_CDC_FEED=<dir> set, every committed change to a customer (auth_user) or a transaction
(user_transaction) is written as a Debezium-style change record, shaped like the Oracle XStream source
connector's (upper-case Oracle column names, decimal.handling.mode=double, timestamps as epoch millis),
into ``<dir>/AUTH_USER/`` or ``<dir>/USER_TRANSACTION/``: one JSON line per change, one new file per
commit, written under a hidden name and renamed, so a directory-watching reader (Flink's filesystem
source) only ever sees whole files. An update carries the row as it was in ``before`` (read from the
database just before the save), as the connector's does for tables that log all columns; Flink's
Debezium decoding needs it to retract the old row. ``snapshot()`` writes the existing rows as op "r"
like the connector's initial snapshot. Unset, nothing is connected and nothing is written.
"""
from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from transactions.models import UserTransaction

FEED_ENV = "LOCAL_CDC_FEED"
SCHEMA = "SAMPLE"
_sequence = itertools.count()
_lock = threading.Lock()


def feed_dir(environ=os.environ) -> Path | None:
    raw = environ.get(FEED_ENV, "").strip()
    return Path(raw) if raw else None


def _millis(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def user_row(user) -> dict:
    return {
        "ID": user.pk,
        "USERNAME": user.username,
        "FIRST_NAME": user.first_name,
        "LAST_NAME": user.last_name,
        "EMAIL": user.email,
        "IS_STAFF": int(user.is_staff),
        "IS_ACTIVE": int(user.is_active),
        "IS_SUPERUSER": int(user.is_superuser),
        "DATE_JOINED": _millis(user.date_joined),
        "LAST_LOGIN": _millis(user.last_login),
    }


def transaction_row(row: UserTransaction) -> dict:
    return {
        "ID": row.pk,
        "AMOUNT": float(row.amount),
        "RECEIVED_AT": _millis(row.received_at),
        "IP_ADDRESS": row.ip_address,
        "ACCOUNT_ID": row.account_id,
    }


TABLES = {"AUTH_USER": user_row, "USER_TRANSACTION": transaction_row}


def envelope(table: str, op: str, before: dict | None, after: dict | None) -> dict:
    now = int(time.time() * 1000)
    return {
        "before": before,
        "after": after,
        "source": {"connector": "local", "db": "XEPDB1", "schema": SCHEMA, "table": table, "ts_ms": now},
        "op": op,
        "ts_ms": now,
    }


def write(directory: Path, table: str, records: Iterable[dict]) -> Path | None:
    """One new whole file of JSON lines under ``directory/table``; None when there is nothing to write."""
    lines = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records)
    if not lines:
        return None
    target_dir = directory / table
    target_dir.mkdir(parents=True, exist_ok=True)
    with _lock:
        name = f"{time.time_ns()}-{os.getpid()}-{next(_sequence):06d}.json"
    hidden = target_dir / f".{name}.tmp"
    hidden.write_text(lines)
    final = target_dir / name
    os.replace(hidden, final)
    return final


_BEFORE = "_local_cdc_before"  # attribute holding the row as it was before an update


def _before_save(table: str):
    def handler(sender, instance, raw=False, **kwargs):
        if feed_dir() is None or raw or instance.pk is None:
            return
        old = sender.objects.filter(pk=instance.pk).first()
        setattr(instance, _BEFORE, None if old is None else TABLES[table](old))

    return handler


def _on_save(table: str):
    def handler(sender, instance, created, raw=False, **kwargs):
        directory = feed_dir()
        if directory is None or raw:
            return
        before = None if created else getattr(instance, _BEFORE, None)
        record = envelope(table, "c" if created or before is None else "u", before, TABLES[table](instance))
        transaction.on_commit(lambda: write(directory, table, [record]))

    return handler


def _on_delete(table: str):
    def handler(sender, instance, **kwargs):
        directory = feed_dir()
        if directory is None:
            return
        record = envelope(table, "d", TABLES[table](instance), None)
        transaction.on_commit(lambda: write(directory, table, [record]))

    return handler


_HANDLERS = {table: (_before_save(table), _on_save(table), _on_delete(table)) for table in TABLES}


def connect() -> bool:
    """Connect the change handlers when LOCAL_CDC_FEED is set (called from the app's ready())."""
    if feed_dir() is None:
        return False
    models = {"AUTH_USER": get_user_model(), "USER_TRANSACTION": UserTransaction}
    for table, (saving, saved, deleted) in _HANDLERS.items():
        pre_save.connect(saving, sender=models[table], dispatch_uid=f"local-cdc-before-{table}")
        post_save.connect(saved, sender=models[table], dispatch_uid=f"local-cdc-save-{table}")
        post_delete.connect(deleted, sender=models[table], dispatch_uid=f"local-cdc-delete-{table}")
    return True


def snapshot(directory: Path) -> dict[str, int]:
    """The existing rows as snapshot records (op "r"), users first, as the connector's initial snapshot."""
    counts = {}
    users = get_user_model().objects.order_by("pk")
    counts["AUTH_USER"] = _write_all(directory, "AUTH_USER", users, user_row)
    rows = UserTransaction.objects.order_by("pk")
    counts["USER_TRANSACTION"] = _write_all(directory, "USER_TRANSACTION", rows, transaction_row)
    return counts


def _write_all(directory: Path, table: str, queryset, to_row) -> int:
    count = 0
    for chunk in _chunks(queryset.iterator(chunk_size=1000), 1000):
        write(directory, table, [envelope(table, "r", None, to_row(item)) for item in chunk])
        count += len(chunk)
    return count


def _chunks(items, size):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
