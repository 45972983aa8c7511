"""Issue 18.8: the random customer of a write comes from a per-process pool, not from a COUNT and an OFFSET.

The pick stays uniform over the customers, and a new customer is seen within the pool's bound. Time is an
injected clock and randomness an injected generator, so nothing here depends on the wall clock.
"""
import collections
import random

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from transactions.models import UserTransaction
from transactions.scenarios import normal_transaction
from transactions.services import CustomerPool, NoCustomers, customers, record_for_random_customer
from transactions.views import customer_pool

MAX_AGE = 10.0


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class EveryIndex:
    """A generator whose randrange(n) returns 0, 1, ..., n-1 in turn: one pass picks each index once."""

    def __init__(self):
        self.calls: list[int] = []

    def randrange(self, n: int) -> int:
        self.calls.append(n)
        return (len(self.calls) - 1) % n


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pool(clock):
    return CustomerPool(max_age=MAX_AGE, clock=clock)


def picks(pool, count: int, rng) -> list[str]:
    return [pool.pick(rng).username for _ in range(count)]


def test_each_customer_is_one_outcome_of_a_uniform_draw(pool, seeded):
    """randrange is asked for exactly as many outcomes as there are customers, and outcome i is customer i:
    so a uniform generator gives every customer the same chance."""
    everyone = sorted(customers().values_list("username", flat=True))
    rng = EveryIndex()
    assert sorted(picks(pool, len(everyone), rng)) == everyone
    assert set(rng.calls) == {len(everyone)}


def test_frequencies_of_a_seeded_generator_are_flat(pool, seeded):
    counts = collections.Counter(picks(pool, 20_000, random.Random(18)))
    assert len(counts) == 20
    # 1,000 expected per customer; the 99.9% band of a binomial(20000, 1/20) is about +-100.
    assert all(880 <= n <= 1120 for n in counts.values()), counts


def test_staff_admins_and_inactive_accounts_are_never_picked(pool, db):
    User.objects.create(username="staff", is_staff=True)
    User.objects.create(username="root", is_superuser=True)
    User.objects.create(username="gone", is_active=False)
    User.objects.create(username="customer")
    assert set(picks(pool, 8, EveryIndex())) == {"customer"}


def test_picks_within_the_bound_run_no_query(pool, seeded, django_assert_num_queries):
    pool.pick(random.Random(1))
    with django_assert_num_queries(0):
        picks(pool, 100, random.Random(2))


def test_a_new_customer_is_seen_once_the_bound_has_passed_and_not_later(pool, clock, seeded):
    rng = EveryIndex()
    picks(pool, 1, rng)
    User.objects.create(username="newcomer")
    clock.now += MAX_AGE - 0.001
    assert "newcomer" not in picks(pool, 40, rng)  # two full passes over the 20 known customers
    clock.now += 0.001
    assert "newcomer" in picks(pool, 21, rng)


def test_the_bound_holds_from_any_moment_a_customer_appears(pool, clock, seeded):
    """Whenever a customer is created, every pick at least MAX_AGE later can choose it."""
    rng = EveryIndex()
    for step in range(25):
        picks(pool, 1, rng)
        User.objects.create(username=f"new-{step}")
        created_at = clock.now
        clock.now += 3.7  # pool reads and creations fall at every phase of the refresh interval
        while clock.now - created_at < MAX_AGE:
            clock.now += 3.7
            picks(pool, 1, rng)
        assert f"new-{step}" in picks(pool, customers().count(), rng)


def test_no_customers_is_not_remembered(pool, db):
    with pytest.raises(NoCustomers):
        pool.pick(random.Random(1))
    User.objects.create(username="first")
    assert pool.pick(random.Random(1)).username == "first"  # at once, not after the bound


def test_a_picked_customer_carries_its_id_and_loads_the_rest_on_demand(pool, seeded, django_assert_num_queries):
    pool.pick(random.Random(1))
    account = pool.pick(random.Random(3))
    stored = User.objects.get(pk=account.pk)
    with django_assert_num_queries(0):
        assert account.username == stored.username
    with django_assert_num_queries(1):
        assert account.email == stored.email


@pytest.mark.django_db(transaction=True)
def test_a_customer_deleted_since_the_last_read_costs_one_re_read_not_the_write(pool, monkeypatch):
    from django.core.management import call_command
    import io

    monkeypatch.delenv("DJANGO_ADMIN_PASSWORD", raising=False)
    call_command("seed", users=5, stdout=io.StringIO())
    UserTransaction.objects.all().delete()
    rng = EveryIndex()
    doomed = pool.pick(rng)  # index 0; the pool now holds all five
    User.objects.filter(pk=doomed.pk).delete()
    rng.calls.clear()  # the next pick is index 0 again: the deleted customer
    account, rows = record_for_random_customer(pool, rng, [normal_transaction(random.Random(1))])
    assert account.pk != doomed.pk and User.objects.filter(pk=account.pk).exists()
    assert [(row.account_id, row.pk) for row in UserTransaction.objects.all()] == [(account.pk, rows[0].pk)]
    assert rng.calls == [5, 4]  # the second pick chose among the four customers that remain


def test_a_stream_write_runs_no_select(client, seeded):
    """Once the pool is read, a write is the INSERT alone: no COUNT, no OFFSET, no customer fetch."""
    def write():
        return client.post("/api/transactions/stream", content_type="application/json").status_code

    assert write() == 201
    with CaptureQueriesContext(connection) as captured:
        assert write() == 201
    statements = [query["sql"].split()[0].upper() for query in captured]
    assert "SELECT" not in statements and statements.count("INSERT") == 1, statements


def test_the_views_pool_uses_the_configured_bound(settings):
    assert customer_pool.max_age == settings.CUSTOMER_REFRESH_SECONDS == 10
