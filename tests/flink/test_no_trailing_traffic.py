"""A fraud scenario is flagged with nothing written after it: the statements of flink/ run continuously on a feed
directory (as in the demo and the benchmark), each scenario is written for a customer of its own, and the next
one is written only once the previous one is flagged. A flag that waited for later traffic (a watermark moved on
by a newer transaction) would never come; the bound below only keeps a broken run from hanging."""
from __future__ import annotations

import json
import os
import random
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from flink_local.cdc import FeedBuilder
from transactions import scenarios

pytestmark = pytest.mark.flink

GIVE_UP_SECONDS = 120  # not a latency target (bench/flink_bench.py measures that): a hung run fails instead
USER_FLAGGED = {"burst_count": "count", "burst_amount": "amount", "large_amount": "amount"}


class Flags:
    """Every change of the flagged tables as it arrives, followed by one thread per table."""

    def __init__(self, running: dict):
        self.rows: dict[str, list[dict]] = {name: [] for name in running}
        self.changed = threading.Condition()
        self.failures: list[BaseException] = []
        for name, (changes, _client) in running.items():
            threading.Thread(target=self._follow, args=(name, changes), daemon=True).start()

    def _follow(self, name: str, changes) -> None:
        try:
            for change in changes:
                with self.changed:
                    if change.kind in ("+I", "+U"):
                        self.rows[name].append(change.row)
                    self.changed.notify_all()
        except BaseException as error:  # noqa: BLE001 - reported by wait() below, unless the run was cancelled
            self.failures.append(error)

    def wait(self, table: str, what: str, matches) -> dict:
        """The first row of ``table`` that ``matches``; fails naming ``what`` if none comes."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: self.failures or any(matches(row) for row in self.rows[table]), timeout=GIVE_UP_SECONDS)
            assert not self.failures, f"a Flink job failed: {self.failures[0]}"
            assert found, f"no {table} row for {what} with nothing written after it; got {self.rows[table]}"
            return next(row for row in self.rows[table] if matches(row))


def write(feed: Path, table: str, records: list) -> None:
    """One new file, whole when it appears (the sources skip hidden files), as the app's local feed writes."""
    directory = feed / table
    directory.mkdir(parents=True, exist_ok=True)
    hidden = directory / f".{time.time_ns()}.tmp"
    hidden.write_text("".join(json.dumps(record) + "\n" for record in records))
    os.replace(hidden, directory / f"{time.time_ns()}.json")
    records.clear()


def test_each_scenario_is_flagged_with_no_transaction_after_it(local_flink, tmp_path):
    feed = tmp_path / "feed"
    builder = FeedBuilder()
    now_ms = int(time.time() * 1000)
    customers = {kind: builder.user(now_ms - 86_400_000, username=kind.replace("_", ""), op="r")
                 for kind in scenarios.FRAUD_TYPES}
    write(feed, "AUTH_USER", builder.records["AUTH_USER"])
    running = local_flink.start(feed, monitor_interval="100 ms")
    try:
        flags = Flags(running)
        rng = random.Random(20)
        for kind, customer in customers.items():
            specs = scenarios.fraud_transactions(kind, rng)
            rows = builder.transactions(customer, specs, int(time.time() * 1000))
            write(feed, "USER_TRANSACTION", builder.records["USER_TRANSACTION"])
            account, last = int(customer["ID"]), datetime.fromtimestamp(rows[-1]["RECEIVED_AT"] / 1000, timezone.utc)
            if kind in USER_FLAGGED:  # the flag of the window that ends with the scenario's last transaction
                flag = flags.wait("flagged_user", kind, lambda row: (row["account_id"], row["last_transaction_at"])
                                  == (account, last))
                assert (flag["reason"], flag["transaction_count"]) == (USER_FLAGGED[kind], len(rows))
            else:
                flag = flags.wait("flagged_transaction", kind, lambda row: row["account_id"] == account)
                assert flag["transaction_id"] == int(rows[0]["ID"])
    finally:
        for _changes, client in running.values():
            client.cancel().result()


def test_a_late_transaction_is_ignored_and_one_out_of_order_within_the_delay_counts(local_flink, tmp_path):
    """The watermark trails the newest transaction by 3 s: a transaction older than that is late and ignored
    (as the OVER window ignored it); one that arrives out of order but within the 3 s still joins its windows."""
    feed = tmp_path / "feed"
    builder = FeedBuilder()
    day_ago = int(time.time() * 1000) - 86_400_000
    pacer, late, shuffled = (builder.user(day_ago, username=name, op="r") for name in ("pacer", "late", "shuffled"))
    write(feed, "AUTH_USER", builder.records["AUTH_USER"])
    allowed = scenarios.ALLOWED_IPS[0]
    running = local_flink.start(feed, monitor_interval="100 ms")
    try:
        flags = Flags(running)

        def flag_of(customer, what, last_ms):
            account, last = int(customer["ID"]), datetime.fromtimestamp(last_ms / 1000, timezone.utc)
            return flags.wait("flagged_user", what, lambda row: (row["account_id"], row["last_transaction_at"])
                              == (account, last))

        # Moves the watermark to 3 s before now; its flag says it has been read.
        first = builder.transaction(pacer, Decimal("1500.00"), allowed, int(time.time() * 1000))
        write(feed, "USER_TRANSACTION", builder.records["USER_TRANSACTION"])
        flag_of(pacer, "the pacer", first["RECEIVED_AT"])
        time.sleep(1)  # a periodic watermark (every 200 ms) has gone out

        # 10 s behind the newest transaction: late. Counted, it would be flagged on its own (over 1000.00) and
        # would join the window of this account's next transactions.
        now = int(time.time() * 1000)
        ignored = builder.transaction(late, Decimal("1500.00"), allowed, now - 10_000)
        builder.transaction(late, Decimal("600.00"), allowed, now)
        write(feed, "USER_TRANSACTION", builder.records["USER_TRANSACTION"])
        last = builder.transaction(late, Decimal("500.00"), allowed, now + 1)
        write(feed, "USER_TRANSACTION", builder.records["USER_TRANSACTION"])
        flag = flag_of(late, "the two on-time transactions", last["RECEIVED_AT"])
        assert (flag["transaction_count"], flag["total_amount"]) == (2, Decimal("1100.00"))
        late_time = datetime.fromtimestamp(ignored["RECEIVED_AT"] / 1000, timezone.utc)
        assert not [row for row in flags.rows["flagged_user"] if row["last_transaction_at"] == late_time]

        # 1 s older than the newest transaction when it arrives: out of order, not late.
        now = int(time.time() * 1000)
        newer = builder.transaction(shuffled, Decimal("600.00"), allowed, now)
        write(feed, "USER_TRANSACTION", builder.records["USER_TRANSACTION"])
        builder.transaction(shuffled, Decimal("500.00"), allowed, now - 1_000)
        write(feed, "USER_TRANSACTION", builder.records["USER_TRANSACTION"])
        flag = flag_of(shuffled, "the out-of-order transaction", newer["RECEIVED_AT"])
        assert (flag["transaction_count"], flag["total_amount"]) == (2, Decimal("1100.00"))
    finally:
        for _changes, client in running.values():
            client.cancel().result()
