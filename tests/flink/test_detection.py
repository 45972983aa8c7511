"""The statements of flink/ on a real local Apache Flink: what they flag and what they must not flag.

All cases share one run (one Flink job per result table): each case has its own customer and its own hour of
event time, and the records are in transaction-time order as the CDC topic carries them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from flink_local.cdc import FeedBuilder
from transactions import scenarios

pytestmark = pytest.mark.flink

BASE = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SECOND, MINUTE, HOUR, DAY = 1_000, 60_000, 3_600_000, 86_400_000
ALLOWED = scenarios.ALLOWED_IPS[0]
FOREIGN = scenarios.FOREIGN_IPS[0]
# Sums to exactly 1000.00, but as doubles to 1000.0000000000001: a DOUBLE sum would flag it.
EXACTLY_1000 = [Decimal("329.93"), Decimal("322.10"), Decimal("127.93"), Decimal("78.96"), Decimal("141.08")]


@dataclass
class Batch:
    feed: FeedBuilder = field(default_factory=FeedBuilder)
    accounts: dict[str, dict] = field(default_factory=dict)  # case -> AUTH_USER row
    transactions: dict[str, list[dict]] = field(default_factory=dict)  # case -> USER_TRANSACTION rows
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (position, field named in the error)
    slot: int = 0

    def case(self, name: str) -> tuple[dict, int]:
        """A new customer (snapshot row) and the start of its own hour of event time."""
        self.slot += 1
        self.accounts[name] = self.feed.user(BASE - DAY, username=name.replace("_", ""), op="r")
        self.transactions[name] = []
        return self.accounts[name], BASE + self.slot * HOUR

    def add(self, name: str, amount, received_ms: int, ip: str = ALLOWED, op: str = "c", captured_ms=None) -> dict:
        row = self.feed.transaction(self.accounts[name], amount, ip, received_ms, op=op, captured_ms=captured_ms)
        self.transactions[name].append(row)
        return row

    def scenario(self, name: str, specs, start: int) -> None:
        self.transactions[name] += self.feed.transactions(self.accounts[name], specs, start)


def build_batch() -> Batch:
    rng = random.Random(20240101)
    batch = Batch()

    # The connector's initial snapshot: two old transactions two days apart, captured at the same moment.
    batch.case("snapshot_days_apart")
    for days_ago in (3, 1):
        batch.add("snapshot_days_apart", Decimal("600.00"), BASE - days_ago * DAY, op="r", captured_ms=BASE - HOUR)

    for kind in scenarios.FRAUD_TYPES:
        _, start = batch.case(f"scenario_{kind}")
        batch.scenario(f"scenario_{kind}", scenarios.fraud_transactions(kind, rng), start)

    _, start = batch.case("normal")  # an hour of usual activity: one small transaction every two minutes
    for index in range(30):
        spec = scenarios.normal_transaction(rng)
        batch.add("normal", spec.amount, start + index * 2 * MINUTE, ip=spec.ip_address)

    for count in (10, 11):
        _, start = batch.case(f"count_{count}")
        for index in range(count):
            batch.add(f"count_{count}", scenarios.normal_transaction(rng).amount, start + index * SECOND)

    for name, extra in (("total_1000", Decimal("0")), ("total_1000_01", Decimal("0.01"))):
        _, start = batch.case(name)
        amounts = EXACTLY_1000[:-1] + [EXACTLY_1000[-1] + extra]
        for index, amount in enumerate(amounts):
            batch.add(name, amount, start + index * 10 * SECOND)

    for name, gap in (("apart_amount", 10 * MINUTE + SECOND), ("within_amount", 10 * MINUTE - SECOND)):
        _, start = batch.case(name)
        batch.add(name, Decimal("600.00"), start)
        batch.add(name, Decimal("600.00"), start + gap)

    _, start = batch.case("apart_count")  # 11 transactions 61 s apart: at most 10 within any 10 minutes
    for index in range(11):
        batch.add("apart_count", Decimal("5.00"), start + index * 61 * SECOND)

    # A burst spread over 11 minutes: 11 transactions of 100.00, 66 s apart, so any 10 minutes hold at most 10
    # of them, totalling at most 1000.00.
    _, start = batch.case("spread_over_11_minutes")
    for index in range(11):
        batch.add("spread_over_11_minutes", Decimal("100.00"), start + index * 66 * SECOND)

    # Ten transactions in ten seconds, then an eleventh exactly 10 minutes after the first (both ends of the window
    # count) or half a second later (the first one has left the window).
    for name, last in (("count_window_end_in", 10 * MINUTE), ("count_window_end_out", 10 * MINUTE + 500)):
        _, start = batch.case(name)
        for index in range(10):
            batch.add(name, Decimal("5.00"), start + index * SECOND)
        batch.add(name, Decimal("5.00"), start + last)

    # 600.00 twice within 5 minutes is flagged; 300.00 a second after the first 600.00 has left the window counts
    # only the second one (900.00): no new flag, and the account's flag stays the one of the second transaction.
    _, start = batch.case("total_leaves_window")
    for offset, amount in ((0, "600.00"), (5 * MINUTE, "600.00"), (10 * MINUTE + SECOND, "300.00")):
        batch.add("total_leaves_window", Decimal(amount), start + offset)

    # Ten transactions, then five updates (to a large amount from a foreign address) and three deletes: counted
    # as changes, these would make 15 transactions totalling more than 4500 and a foreign-address transaction.
    _, start = batch.case("updates_and_deletes")
    rows = [batch.add("updates_and_deletes", Decimal("20.00"), start + index * SECOND) for index in range(10)]
    for index, row in enumerate(rows[:5]):
        batch.feed.update("USER_TRANSACTION", row, {"AMOUNT": 900.0, "IP_ADDRESS": FOREIGN}, start + 20 * SECOND + index)
    for index, row in enumerate(rows[5:8]):
        batch.feed.delete("USER_TRANSACTION", row, start + 30 * SECOND + index)

    _, start = batch.case("foreign_then_deleted")
    foreign = batch.add("foreign_then_deleted", Decimal("12.00"), start, ip=FOREIGN)
    batch.feed.delete("USER_TRANSACTION", foreign, start + SECOND)

    account, start = batch.case("renamed_after_flag")
    batch.scenario("renamed_after_flag", scenarios.fraud_transactions("burst_count", rng), start)
    batch.feed.update("AUTH_USER", account, {"EMAIL": "renamed@example.com", "FIRST_NAME": "Renamed"}, start + MINUTE)

    account, start = batch.case("deleted_after_flag")
    batch.scenario("deleted_after_flag", scenarios.fraud_transactions("large_amount", rng), start)
    batch.feed.delete("AUTH_USER", account, start + MINUTE)

    _, start = batch.case("flagged_twice")
    batch.add("flagged_twice", Decimal("1500.00"), start)
    batch.add("flagged_twice", Decimal("2500.00"), start + 30 * MINUTE)

    # Malformed records between valid ones: reported with their position, the rest still processed.
    _, start = batch.case("next_to_malformed")
    records = batch.feed.records["USER_TRANSACTION"]
    batch.malformed.append((len(records), "JSON"))
    batch.feed.raw("USER_TRANSACTION", '{"before": null, "after": {"ID": 1.0,')
    batch.add("next_to_malformed", Decimal("4000.00"), start)
    batch.malformed.append((len(records), "after.AMOUNT"))
    broken = {**records[-1], "after": {key: value for key, value in records[-1]["after"].items() if key != "AMOUNT"}}
    batch.feed.raw("USER_TRANSACTION", broken)
    batch.malformed.append((len(records), "op"))
    batch.feed.raw("USER_TRANSACTION", {**records[-2], "op": "x"})
    return batch


@dataclass
class Outcome:
    batch: Batch
    flagged_user: dict[int, dict]
    flagged_transaction: list[dict]
    history: dict[str, list[dict]]  # auth_user and user_transaction
    errors: list
    fed: dict[str, int]
    started: datetime
    finished: datetime

    def account(self, case: str) -> int:
        return int(self.batch.accounts[case]["ID"])

    def user_flag(self, case: str) -> dict | None:
        return self.flagged_user.get(self.account(case))


@pytest.fixture(scope="module")
def outcome(local_flink) -> Outcome:
    batch = build_batch()
    started = datetime.now(timezone.utc)
    result = local_flink.run(batch.feed.records, ("flagged_user", "flagged_transaction", "auth_user", "user_transaction"))
    finished = datetime.now(timezone.utc)
    flagged_user = {row["account_id"]: row for row in result.tables["flagged_user"]}
    assert len(flagged_user) == len(result.tables["flagged_user"]), "one row per account"
    history = {table: result.tables[table] for table in ("auth_user", "user_transaction")}
    return Outcome(batch, flagged_user, result.tables["flagged_transaction"], history, result.errors, result.fed,
                   started, finished)


def test_each_fraud_scenario_is_flagged(outcome):
    assert outcome.user_flag("scenario_burst_count")["reason"] == "count"
    assert outcome.user_flag("scenario_burst_count")["transaction_count"] == scenarios.BURST_COUNT
    burst = outcome.user_flag("scenario_burst_amount")
    assert burst["reason"] == "amount"
    assert burst["total_amount"] == sum(Decimal(str(row["AMOUNT"])) for row in outcome.batch.transactions["scenario_burst_amount"])
    large = outcome.user_flag("scenario_large_amount")
    assert large["reason"] == "amount" and large["transaction_count"] == 1
    assert large["total_amount"] > scenarios.MAX_TOTAL_AMOUNT
    foreign = [row for row in outcome.flagged_transaction if row["account_id"] == outcome.account("scenario_foreign_ip")]
    expected = outcome.batch.transactions["scenario_foreign_ip"][0]
    assert [row["transaction_id"] for row in foreign] == [int(expected["ID"])]
    assert foreign[0]["ip_address"] == expected["IP_ADDRESS"] and foreign[0]["ip_address"] not in scenarios.ALLOWED_IPS
    assert outcome.user_flag("scenario_foreign_ip") is None  # one small transaction is not a burst


def test_flagged_user_carries_the_customer_and_the_window(outcome):
    flag = outcome.user_flag("scenario_burst_count")
    account = outcome.batch.accounts["scenario_burst_count"]
    assert (flag["username"], flag["email"]) == (account["USERNAME"], account["EMAIL"])
    assert flag["full_name"] == f"{account['FIRST_NAME']} {account['LAST_NAME']}"
    last = max(row["RECEIVED_AT"] for row in outcome.batch.transactions["scenario_burst_count"])
    assert flag["last_transaction_at"] == datetime.fromtimestamp(last / 1000, timezone.utc)
    assert (flag["last_transaction_at"] - flag["window_start"]).total_seconds() == scenarios.WINDOW_MINUTES * 60


def test_flagged_transaction_says_when_it_was_detected(outcome):
    for row in outcome.flagged_transaction:
        assert outcome.started <= row["detected_at"] <= outcome.finished


def test_normal_traffic_is_not_flagged(outcome):
    assert outcome.user_flag("normal") is None
    normal_ids = {int(row["ID"]) for row in outcome.batch.transactions["normal"]}
    assert not normal_ids & {row["transaction_id"] for row in outcome.flagged_transaction}


def test_ten_transactions_are_not_flagged_but_eleven_are(outcome):
    assert outcome.user_flag("count_10") is None
    flag = outcome.user_flag("count_11")
    assert flag["reason"] == "count" and flag["transaction_count"] == scenarios.MAX_TRANSACTION_COUNT + 1


def test_a_total_of_exactly_1000_is_not_flagged_but_above_is(outcome):
    assert outcome.user_flag("total_1000") is None
    flag = outcome.user_flag("total_1000_01")
    assert flag["reason"] == "amount" and flag["total_amount"] == Decimal("1000.01")


def test_transactions_more_than_10_minutes_apart_are_not_aggregated(outcome):
    assert outcome.user_flag("apart_amount") is None
    assert outcome.user_flag("apart_count") is None
    assert outcome.user_flag("snapshot_days_apart") is None  # event time is RECEIVED_AT, not the capture time
    within = outcome.user_flag("within_amount")
    assert within["total_amount"] == Decimal("1200.00") and within["transaction_count"] == 2


def test_a_transaction_that_leaves_the_window_no_longer_counts(outcome):
    assert outcome.user_flag("spread_over_11_minutes") is None
    assert outcome.user_flag("count_window_end_out") is None
    boundary = outcome.user_flag("count_window_end_in")
    assert (boundary["reason"], boundary["transaction_count"]) == ("count", 11)
    stays = outcome.user_flag("total_leaves_window")
    second = outcome.batch.transactions["total_leaves_window"][1]
    assert stays["last_transaction_at"] == datetime.fromtimestamp(second["RECEIVED_AT"] / 1000, timezone.utc)
    assert (stays["total_amount"], stays["transaction_count"]) == (Decimal("1200.00"), 2)


def test_updates_and_deletes_do_not_create_false_flags(outcome):
    assert outcome.user_flag("updates_and_deletes") is None
    account = outcome.account("updates_and_deletes")
    assert not [row for row in outcome.flagged_transaction if row["account_id"] == account]
    deleted = [row for row in outcome.flagged_transaction if row["account_id"] == outcome.account("foreign_then_deleted")]
    assert len(deleted) == 1  # flagged when it was made; its deletion adds nothing


def test_one_current_row_per_account_follows_the_customer(outcome):
    assert outcome.user_flag("renamed_after_flag")["email"] == "renamed@example.com"
    assert outcome.user_flag("renamed_after_flag")["full_name"].startswith("Renamed")
    assert outcome.user_flag("deleted_after_flag") is None
    twice = outcome.user_flag("flagged_twice")
    second = outcome.batch.transactions["flagged_twice"][1]
    assert twice["last_transaction_at"] == datetime.fromtimestamp(second["RECEIVED_AT"] / 1000, timezone.utc)
    assert twice["total_amount"] == Decimal("2500.00")


def test_exactly_the_expected_accounts_and_transactions_are_flagged(outcome):
    expected_users = {
        "scenario_burst_count", "scenario_burst_amount", "scenario_large_amount", "count_11", "total_1000_01",
        "within_amount", "renamed_after_flag", "flagged_twice", "next_to_malformed", "count_window_end_in",
        "total_leaves_window",
    }
    assert set(outcome.flagged_user) == {outcome.account(case) for case in expected_users}
    assert {row["account_id"] for row in outcome.flagged_transaction} == {
        outcome.account("scenario_foreign_ip"), outcome.account("foreign_then_deleted"),
    }


def test_malformed_records_are_reported_with_their_position(outcome):
    reported = [(error.table, error.position) for error in outcome.errors]
    assert reported == [("USER_TRANSACTION", position) for position, _ in outcome.batch.malformed]
    for error, (_, named) in zip(outcome.errors, outcome.batch.malformed):
        assert named in error.reason
        assert error.dead_letter_table == "cdc_user_transaction_errors"
    assert outcome.user_flag("next_to_malformed")["total_amount"] == Decimal("4000.00")  # the valid one still counts
    for table, records in outcome.batch.feed.records.items():  # every record is either fed or reported
        assert outcome.fed[table] + sum(error.table == table for error in outcome.errors) == len(records)


# The change kinds of the CDC tables' retract changelog as TO_CHANGELOG names them: an insert and a snapshot row
# are both INSERT, an update is an UPDATE_BEFORE (left out of the history) and an UPDATE_AFTER, a delete a DELETE.
CHANGE_KINDS = {"c": "INSERT", "r": "INSERT", "u": "UPDATE_AFTER", "d": "DELETE"}


def test_history_tables_keep_every_change_typed_for_redshift(outcome):
    changes = outcome.history["user_transaction"]
    malformed = {position for position, _ in outcome.batch.malformed}
    valid = [r for i, r in enumerate(outcome.batch.feed.records["USER_TRANSACTION"]) if i not in malformed]
    assert len(changes) == outcome.fed["USER_TRANSACTION"] == len(valid)
    assert sorted(row["cdc_op"] for row in changes) == sorted(CHANGE_KINDS[record["op"]] for record in valid)
    deleted = [row for row in changes if row["cdc_op"] == "DELETE" and row["account_id"] == outcome.account("updates_and_deletes")]
    assert [row["amount"] for row in deleted] == [Decimal("20.00")] * 3  # a delete carries the row as it was
    updated = [row for row in changes if row["cdc_op"] == "UPDATE_AFTER"]
    assert {row["amount"] for row in updated} == {Decimal("900.00")}  # an update carries the row after it
    for row in changes:
        assert isinstance(row["id"], int) and isinstance(row["account_id"], int)
        assert isinstance(row["amount"], Decimal) and row["amount"].as_tuple().exponent == -2
        assert row["received_at"].tzinfo is timezone.utc
    users = outcome.history["auth_user"]
    assert all("password" not in row for row in users)
    removed = [row for row in users if row["cdc_op"] == "DELETE"]
    assert [row["id"] for row in removed] == [outcome.account("deleted_after_flag")] and removed[0]["username"]
    assert all(isinstance(row["is_active"], bool) for row in users)


@pytest.mark.parametrize("whole_numbers", ["DOUBLE"])
def test_whole_number_columns_as_double_flag_the_same(whole_numbers, local_flink):
    """The main run reads NUMBER(p) columns as BIGINT (Avro long); decimal.handling.mode=double may make them DOUBLE."""
    from flink_local.runner import LocalFlink

    rng = random.Random(20240101)
    batch = Batch(feed=FeedBuilder(whole_numbers=whole_numbers))
    for kind in scenarios.FRAUD_TYPES:
        _, start = batch.case(f"scenario_{kind}")
        batch.scenario(f"scenario_{kind}", scenarios.fraud_transactions(kind, rng), start)
    account, start = batch.case("deleted_after_flag")
    batch.scenario("deleted_after_flag", scenarios.fraud_transactions("large_amount", rng), start)
    batch.feed.delete("AUTH_USER", account, start + MINUTE)
    assert all(isinstance(record["after"]["ID"], float) for record in batch.feed.records["AUTH_USER"] if record["after"])
    result = LocalFlink(whole_numbers=whole_numbers).run(batch.feed.records)
    flagged = {row["account_id"]: row["reason"] for row in result.tables["flagged_user"]}
    assert flagged == {int(batch.accounts[f"scenario_{kind}"]["ID"]): reason for kind, reason in (
        ("burst_count", "count"), ("burst_amount", "amount"), ("large_amount", "amount"))}
    assert [row["account_id"] for row in result.tables["flagged_transaction"]] == [
        int(batch.accounts["scenario_foreign_ip"]["ID"])]
