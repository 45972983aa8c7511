"""`manage.py seed`: demo customers, the admin (only with DJANGO_ADMIN_PASSWORD) and a few transactions.

Idempotent: a second run with the same input writes nothing.
"""
import os
from collections.abc import Mapping
import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from transactions import seeding

DEFAULT_USERS = 1000
MAX_USERS = 100_000


def user_count(option: object, environ: Mapping[str, str]) -> int:
    """--users wins over SEED_USERS; both must be a whole number from 1 to MAX_USERS."""
    if option is not None:
        name, raw = "--users", str(option)
    elif "SEED_USERS" in environ:
        name, raw = "SEED_USERS", environ["SEED_USERS"]
    else:
        return DEFAULT_USERS
    value = raw.strip()
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_USERS:
        raise CommandError(f"{name} must be a whole number from 1 to {MAX_USERS}, got {raw!r}")
    return int(value)


class Command(BaseCommand):
    help = "Create the demo customers, the admin superuser (when DJANGO_ADMIN_PASSWORD is set) and sample transactions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--users", help=f"number of customers (default: env SEED_USERS, else {DEFAULT_USERS})"
        )

    def handle(self, *args, users=None, **options):
        count = user_count(users, os.environ)
        password = os.environ.get("DJANGO_ADMIN_PASSWORD")
        if password is not None:
            if not password.strip():
                raise CommandError("DJANGO_ADMIN_PASSWORD is set but empty: give a strong password or unset it")
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(f"DJANGO_ADMIN_PASSWORD is too weak: {' '.join(exc.messages)}") from None

        with transaction.atomic():
            created = seeding.ensure_customers(count)
            admin = seeding.ensure_admin(password) if password is not None else None
            samples = seeding.ensure_sample_transactions()

        self.stdout.write(f"customers: {created} created, {count - created} already present")
        if admin is None:
            self.stdout.write(self.style.WARNING(
                "admin: skipped, DJANGO_ADMIN_PASSWORD is not set (set it to create the superuser "
                f"'{seeding.ADMIN_USERNAME}')"
            ))
        else:
            self.stdout.write(f"admin: '{seeding.ADMIN_USERNAME}' {admin}")
        self.stdout.write(f"sample transactions: {samples} created")
