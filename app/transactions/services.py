"""Writing transactions: shared by the API views and the seed command."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from transactions.models import UserTransaction
from transactions.scenarios import TransactionSpec


class NoCustomers(Exception):
    """There is nobody to write a transaction for."""


def customers() -> QuerySet[User]:
    """The demo's customer accounts: everyone except staff and admins."""
    return User.objects.filter(is_active=True, is_staff=False, is_superuser=False)


class CustomerPool:
    """The customers a process picks from at random, re-read at most `max_age` seconds after the last read.

    A write then needs no query to choose its customer (the per-write COUNT and OFFSET are gone), the pick
    stays uniform over the customers read, and a customer committed more than `max_age` seconds before a
    pick is always among them. A customer removed since the last read is dropped by `forget()`; an empty
    read is never kept, so the first customers are seen at once.
    """

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: tuple[tuple[int, str], ...] = ()
        self._database = DEFAULT_DB_ALIAS
        self._read_at: float | None = None

    def pick(self, rng: random.Random) -> User:
        accounts = self._current()
        if not accounts:
            raise NoCustomers("no customer accounts yet: run `python manage.py seed` first")
        pk, username = accounts[rng.randrange(len(accounts))]
        # Only the id and username are known; any other field is loaded from the database when read.
        return User.from_db(self._database, ["id", "username"], [pk, username])

    def forget(self) -> None:
        with self._lock:
            self._read_at = None

    def _current(self) -> tuple[tuple[int, str], ...]:
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self.max_age:
                accounts = customers().order_by("pk")
                self._accounts, self._database = tuple(accounts.values_list("pk", "username")), accounts.db
                self._read_at = now if self._accounts else None
            return self._accounts


def record(account: User, specs: Iterable[TransactionSpec], start: datetime | None = None) -> list[UserTransaction]:
    """Write one scenario's transactions for one account, all or nothing."""
    start = start or timezone.now()
    with transaction.atomic():
        return [
            UserTransaction.objects.create(
                account=account,
                amount=spec.amount,
                ip_address=spec.ip_address,
                received_at=start + timedelta(seconds=spec.offset_seconds),
            )
            for spec in specs
        ]


def record_for_random_customer(
    pool: CustomerPool, rng: random.Random, specs: Iterable[TransactionSpec]
) -> tuple[User, list[UserTransaction]]:
    """record() for a customer picked from the pool.

    A customer deleted since the pool's last read fails the write on its foreign key, so nothing is
    written; the pool is then re-read and the write made once more, for a customer that exists.
    """
    specs = list(specs)
    account = pool.pick(rng)
    try:
        return account, record(account, specs)
    except IntegrityError:
        pool.forget()
    account = pool.pick(rng)
    return account, record(account, specs)
