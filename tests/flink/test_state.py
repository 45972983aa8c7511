"""What flagged_user keeps, as Flink compiles its query: bounded state, and no operator that waits for a watermark.

Per transaction, only the interval join (cleaned as the watermark passes) and the sums of the pairs (cleaned by the
query's STATE_TTL hint) hold anything; the rest is one row per account or per customer, kept for good because a
rename or a deletion of the customer must still reach an old flag."""
from __future__ import annotations

import re

import pytest

from flink_local.sql import FLINK_DIR

pytestmark = pytest.mark.flink

WINDOW_MS = 10 * 60 * 1000


def stateful_operators(plan: dict) -> list[dict]:
    kinds = ("group-aggregate", "rank", "join", "interval-join", "over-aggregate", "window", "deduplicate")
    return [node for node in plan["nodes"] if re.match(rf"stream-exec-({'|'.join(kinds)})", node["type"])]


def kind(node: dict) -> str:
    return node["type"].removeprefix("stream-exec-").rsplit("_", 1)[0]


@pytest.fixture(scope="module")
def operators(local_flink) -> list[dict]:
    return stateful_operators(local_flink.compiled_plan("flagged_user"))


def test_only_the_sums_per_transaction_expire_and_after_the_files_ttl(operators):
    hint = re.search(r"STATE_TTL\(\s*'pairs'\s*=\s*'([^']+)'\s*\)", (FLINK_DIR / "06_flagged_user.sql").read_text())
    assert hint, "flink/06_flagged_user.sql must bound the per-transaction sums with a STATE_TTL hint"
    sums = [node for node in operators if kind(node) == "group-aggregate"]
    assert [[state["ttl"] for state in node["state"]] for node in sums] == [[hint.group(1)]]
    for node in operators:
        if kind(node) in ("rank", "join"):  # per account or per customer: must not expire
            assert {state["ttl"] for state in node["state"]} == {"0 ms"}, node["type"]


def test_the_pairs_come_from_an_event_time_interval_join_and_nothing_waits_for_a_watermark(operators):
    assert sorted(kind(node) for node in operators) == ["group-aggregate", "interval-join", "join", "rank", "rank"]
    (join,) = [node for node in operators if kind(node) == "interval-join"]
    bounds = join["intervalJoinSpec"]["windowBounds"]
    assert (bounds["isEventTime"], bounds["leftLowerBound"], bounds["leftUpperBound"]) == (True, 0, WINDOW_MS)


def test_the_newest_flag_per_account_keeps_one_row(operators):
    """A rank over an append-only input keeps its top row only; over an updating one it would keep every flag."""
    strategies = sorted(node["rankStrategy"]["type"] for node in operators if kind(node) == "rank")
    assert strategies == ["AppendFast", "Retract"]  # the flags per account; the customers' one live row per id
