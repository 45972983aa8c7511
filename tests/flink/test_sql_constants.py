"""The literals of flink/ agree with the app's scenario constants (parsed from the SQL, comments excluded)."""
from __future__ import annotations

import random
import re
from decimal import Decimal

from flink_local.sql import FLINK_DIR, MaterializedTable, load_steps
from sql_text import strip_comments
from transactions import scenarios


def detection_code(table: str) -> str:
    return next(strip_comments(step.query) for step in load_steps() if isinstance(step, MaterializedTable) and step.table == table)


def test_window_is_the_scenarios_window():
    """Each transaction pairs with the account's transactions of the WINDOW_MINUTES up to it, both ends included."""
    code = detection_code("flagged_user")
    windows = re.findall(r"INTERVAL\s+'(\d+)'\s+MINUTE", code, re.I)
    assert windows and {int(value) for value in windows} == {scenarios.WINDOW_MINUTES}
    assert re.search(r"(\w+)\.received_at\s+BETWEEN\s+(\w+)\.received_at\s*-\s*INTERVAL\s+'\d+'\s+MINUTE\s+"
                     r"AND\s+\2\.received_at", code, re.I)


def test_thresholds_are_the_scenarios_thresholds():
    code = detection_code("flagged_user")
    totals = re.findall(r"total_amount\s*(>=?)\s*([\d.]+)", code)
    counts = re.findall(r"transaction_count\s*(>=?)\s*(\d+)", code)
    assert totals == [(">", totals[0][1])] and Decimal(totals[0][1]) == scenarios.MAX_TOTAL_AMOUNT
    assert counts == [(">", counts[0][1])] and int(counts[0][1]) == scenarios.MAX_TRANSACTION_COUNT


def test_allow_list_is_the_scenarios_allow_list():
    code = detection_code("flagged_transaction")
    match = re.search(r"ip_address\s+NOT\s+IN\s*\(([^)]*)\)", code, re.I)
    assert match, "flagged_transaction must compare ip_address with the allow list"
    listed = re.findall(r"'([^']*)'", match.group(1))
    assert len(listed) == len(set(listed)) and set(listed) == set(scenarios.ALLOWED_IPS)
    assert not set(listed) & set(scenarios.FOREIGN_IPS)


def test_watermark_delay_covers_the_spread_of_a_scenario():
    """The app stamps a scenario's transactions ahead of its commit; a shorter delay would drop others as late."""
    (step,) = [s for s in load_steps() if isinstance(s, MaterializedTable) and s.watermark]
    column, expression = step.watermark
    assert (step.table, column) == ("user_transaction", "received_at")
    delay = int(re.fullmatch(rf"{column}\s*-\s*INTERVAL\s+'(\d+)'\s+SECOND", expression, re.I).group(1))
    spread = max(
        spec.offset_seconds
        for seed in range(50)
        for kind in scenarios.FRAUD_TYPES
        for spec in scenarios.fraud_transactions(kind, random.Random(seed))
    )
    assert spread < delay < 60


def test_each_file_says_what_it_does_and_the_connector_modes_agree():
    for name, text in ((p.name, p.read_text()) for p in sorted(FLINK_DIR.glob("*.sql"))):
        assert text.startswith("-- "), f"flink/{name} must start with a comment saying what it does and why"
    stated = re.findall(r"(decimal\.handling\.mode|time\.precision\.mode)\s*=\s*(\w+)",
                        "\n".join(p.read_text() for p in FLINK_DIR.glob("*.sql")))
    assert set(stated) == {("decimal.handling.mode", "double"), ("time.precision.mode", "connect")}
