"""Deterministic demo data: the same customers for the same count, on every run and every machine."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.utils import timezone

from transactions import scenarios
from transactions.models import UserTransaction
from transactions.services import customers

ADMIN_USERNAME = "admin"
SAMPLE_TRANSACTIONS = 20
_SAMPLE_SEED = 20240601

FIRST_NAMES = (
    "Ada", "Amir", "Anna", "Bruno", "Carla", "Chen", "Dara", "David", "Elena", "Emil", "Fatima", "Felix",
    "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jonas", "Julia", "Kai", "Lara", "Leon", "Lina", "Luca",
    "Maya", "Mateo", "Nadia", "Noah", "Olga", "Omar", "Priya", "Rafael", "Rosa", "Sami", "Sofia", "Tariq",
    "Uma", "Victor", "Wen", "Yara", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Alvarez", "Andersen", "Banerjee", "Becker", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia",
    "Hansen", "Ito", "Jansen", "Kowalski", "Lambert", "Larsen", "Martin", "Moreau", "Nakamura", "Novak",
    "Okafor", "Oliveira", "Petrov", "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Tanaka", "Torres",
    "Vargas", "Weber", "Wright", "Yilmaz", "Zhang",
)


@dataclass(frozen=True)
class Customer:
    username: str
    first_name: str
    last_name: str
    email: str


def customer(index: int) -> Customer:
    """Customer number `index` (from 1); depends on nothing but the index."""
    rng = random.Random(index)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    username = f"{first}.{last}.{index:04d}".lower()
    return Customer(username, first, last, f"{username}@example.com")


def ensure_customers(count: int) -> int:
    """Create customers 1..count that do not exist yet; returns how many were created."""
    wanted = [customer(index) for index in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=[c.username for c in wanted]).values_list("username", flat=True))
    missing = [
        # Customers never log in: an unusable password costs nothing to hash.
        User(username=c.username, first_name=c.first_name, last_name=c.last_name, email=c.email,
             password=make_password(None))
        for c in wanted
        if c.username not in existing
    ]
    User.objects.bulk_create(missing, batch_size=500)
    return len(missing)


def ensure_admin(password: str) -> str:
    """Create the superuser, or bring it back to the given password; returns what was done."""
    admin, created = User.objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": f"{ADMIN_USERNAME}@example.com"}
    )
    if not created and admin.is_superuser and admin.is_staff and admin.is_active and admin.check_password(password):
        return "unchanged"
    admin.is_superuser = admin.is_staff = admin.is_active = True
    admin.set_password(password)
    admin.save()
    return "created" if created else "updated"


def ensure_sample_transactions() -> int:
    """A few normal transactions spread over the last hour, only into an empty table."""
    if UserTransaction.objects.exists():
        return 0
    accounts = list(customers().order_by("pk")[:100])
    if not accounts:
        return 0
    rng = random.Random(_SAMPLE_SEED)
    now = timezone.now()
    rows = []
    for index in range(SAMPLE_TRANSACTIONS):
        spec = scenarios.normal_transaction(rng)
        rows.append(UserTransaction(
            account=rng.choice(accounts),
            amount=spec.amount,
            ip_address=spec.ip_address,
            received_at=now - timedelta(minutes=3 * (SAMPLE_TRANSACTIONS - index)),
        ))
    UserTransaction.objects.bulk_create(rows)
    return len(rows)
