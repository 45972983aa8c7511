"""The fraud scenarios of the demo, in one place.

The web app writes these transactions to the database and the Flink SQL in ``flink/`` must flag
them, so the thresholds, the IP allow list and the shape of each scenario live here and nowhere else.
This module is pure Python (no Django import) so the Flink tests and benchmarks can use it as is.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

# Detection rules (what the Flink statements encode).
WINDOW_MINUTES = 10
MAX_TOTAL_AMOUNT = Decimal("1000.00")  # a total strictly above this within the window is flagged
MAX_TRANSACTION_COUNT = 10  # a count strictly above this within the window is flagged

# Addresses the demo treats as the customers' usual ones. Documentation ranges (RFC 5737), never routed.
ALLOWED_IPS: tuple[str, ...] = tuple(f"192.0.2.{host}" for host in range(10, 20))
FOREIGN_IPS: tuple[str, ...] = tuple(f"203.0.113.{host}" for host in range(50, 60))

NORMAL_AMOUNT_RANGE = (Decimal("0.25"), Decimal("50.00"))
BURST_AMOUNT_RANGE = (Decimal("50.00"), Decimal("1000.00"))
LARGE_AMOUNT_RANGE = (Decimal("1000.01"), Decimal("5000.00"))

BURST_COUNT = 11
BURST_AMOUNT_TOTAL = Decimal("1500.00")
# A burst's transactions are stamped this far apart: the whole burst spans about a second, well inside the 3 s
# by which Flink's watermark trails the newest transaction, so none of them is ever late.
BURST_SPACING_SECONDS = 0.1

FRAUD_TYPES: tuple[str, ...] = ("burst_count", "burst_amount", "large_amount", "foreign_ip")


@dataclass(frozen=True)
class TransactionSpec:
    """One transaction to write: the account is chosen by the caller."""

    amount: Decimal
    ip_address: str
    offset_seconds: float = 0.0  # time after the scenario's start


def _amount(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    cents = rng.randint(int(low * 100), int(high * 100))
    return Decimal(cents) / 100


def normal_transaction(rng: random.Random) -> TransactionSpec:
    """A small amount from one of the customer's usual addresses."""
    return TransactionSpec(_amount(rng, *NORMAL_AMOUNT_RANGE), rng.choice(ALLOWED_IPS))


def burst_count(rng: random.Random) -> list[TransactionSpec]:
    """More small transactions than allowed within the window (total stays far below the limit)."""
    return [
        TransactionSpec(_amount(rng, *NORMAL_AMOUNT_RANGE), rng.choice(ALLOWED_IPS), i * BURST_SPACING_SECONDS)
        for i in range(BURST_COUNT)
    ]


def burst_amount(rng: random.Random) -> list[TransactionSpec]:
    """A few mid-sized transactions that add up to more than the limit, each below it."""
    specs: list[TransactionSpec] = []
    total = Decimal(0)
    while total <= BURST_AMOUNT_TOTAL - BURST_AMOUNT_RANGE[1]:
        amount = _amount(rng, *BURST_AMOUNT_RANGE)
        specs.append(TransactionSpec(amount, rng.choice(ALLOWED_IPS), len(specs) * BURST_SPACING_SECONDS))
        total += amount
    # Close the burst so that the total lands above the limit with a mid-sized amount.
    last = max(BURST_AMOUNT_RANGE[0], BURST_AMOUNT_TOTAL - total)
    specs.append(TransactionSpec(last, rng.choice(ALLOWED_IPS), len(specs) * BURST_SPACING_SECONDS))
    return specs


def large_amount(rng: random.Random) -> list[TransactionSpec]:
    """One transaction above the limit."""
    return [TransactionSpec(_amount(rng, *LARGE_AMOUNT_RANGE), rng.choice(ALLOWED_IPS))]


def foreign_ip(rng: random.Random) -> list[TransactionSpec]:
    """One small transaction from an address outside the allow list."""
    return [TransactionSpec(_amount(rng, *NORMAL_AMOUNT_RANGE), rng.choice(FOREIGN_IPS))]


GENERATORS = {
    "burst_count": burst_count,
    "burst_amount": burst_amount,
    "large_amount": large_amount,
    "foreign_ip": foreign_ip,
}


def fraud_transactions(fraud_type: str, rng: random.Random) -> list[TransactionSpec]:
    """The transactions of one fraud scenario; ValueError names the valid types."""
    try:
        generator = GENERATORS[fraud_type]
    except KeyError:
        raise ValueError(
            f"unknown fraud type {fraud_type!r}; expected one of: {', '.join(FRAUD_TYPES)}"
        ) from None
    return generator(rng)
