"""Writing transactions: shared by the API views and the seed command."""
from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from transactions.models import UserTransaction
from transactions.scenarios import TransactionSpec


class NoCustomers(Exception):
    """There is nobody to write a transaction for."""


def customers() -> QuerySet[User]:
    """The demo's customer accounts: everyone except staff and admins."""
    return User.objects.filter(is_active=True, is_staff=False, is_superuser=False)


def random_customer(rng: random.Random) -> User:
    accounts = customers().order_by("pk")
    count = accounts.count()
    if not count:
        raise NoCustomers("no customer accounts yet: run `python manage.py seed` first")
    return accounts[rng.randrange(count)]


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
