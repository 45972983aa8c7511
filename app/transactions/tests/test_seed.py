"""`manage.py seed`: deterministic, idempotent, admin only with a secret, clear errors."""
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from transactions import scenarios, seeding
from transactions.models import UserTransaction

pytestmark = pytest.mark.django_db

STRONG = "correct-horse-battery-staple-42"


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("DJANGO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SEED_USERS", raising=False)


def snapshot():
    users = list(User.objects.order_by("pk").values_list(
        "pk", "username", "first_name", "last_name", "email", "password", "is_superuser"))
    rows = list(UserTransaction.objects.order_by("pk").values_list("pk", "amount", "ip_address", "received_at", "account"))
    return users, rows


def test_default_is_1000_customers_and_sample_transactions():
    output = seed()
    assert User.objects.count() == 1000
    assert UserTransaction.objects.count() == seeding.SAMPLE_TRANSACTIONS
    assert "customers: 1000 created, 0 already present" in output
    for row in UserTransaction.objects.all():  # normal transactions only
        assert scenarios.NORMAL_AMOUNT_RANGE[0] <= row.amount <= scenarios.NORMAL_AMOUNT_RANGE[1]
        assert row.ip_address in scenarios.ALLOWED_IPS


def test_second_run_changes_nothing(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", STRONG)
    seed(users=50)
    before = snapshot()
    output = seed(users=50)
    assert snapshot() == before
    assert "customers: 0 created, 50 already present" in output
    assert "admin: 'admin' unchanged" in output and "sample transactions: 0 created" in output


def test_customers_are_deterministic_and_grow_by_index():
    seed(users=30)
    first = list(User.objects.order_by("username").values_list("username", "first_name", "last_name", "email"))
    User.objects.all().delete()
    seed(users=30)
    again = list(User.objects.order_by("username").values_list("username", "first_name", "last_name", "email"))
    assert first == again
    assert {username for username, *_ in first} == {seeding.customer(i).username for i in range(1, 31)}
    seed(users=40)  # a larger N keeps the first 30 and adds 10
    assert User.objects.count() == 40
    assert set(User.objects.values_list("username", flat=True)) == {seeding.customer(i).username for i in range(1, 41)}


def test_customers_cannot_log_in():
    seed(users=3)
    assert not any(user.has_usable_password() for user in User.objects.all())


def test_no_admin_without_the_secret():
    output = seed(users=5)
    assert not User.objects.filter(is_superuser=True).exists()
    assert "admin: skipped, DJANGO_ADMIN_PASSWORD is not set" in output


def test_admin_from_the_secret_and_password_rotation(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", STRONG)
    assert "admin: 'admin' created" in seed(users=5)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(STRONG)
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", STRONG + "-rotated")
    output = seed(users=5)
    assert "admin: 'admin' updated" in output and STRONG not in output
    assert User.objects.get(username="admin").check_password(STRONG + "-rotated")


@pytest.mark.parametrize("password", ["", "   ", "admin", "12345678901234"])
def test_empty_or_weak_admin_password_is_refused_before_writing(monkeypatch, password):
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", password)
    with pytest.raises(CommandError, match="DJANGO_ADMIN_PASSWORD"):
        seed(users=5)
    assert User.objects.count() == 0


@pytest.mark.parametrize("bad", ["0", "-3", "ten", "1.5", "", "100001"])
def test_bad_user_count_option(bad):
    with pytest.raises(CommandError, match=r"--users must be a whole number from 1 to 100000"):
        seed(users=bad)
    assert User.objects.count() == 0


def test_user_count_from_env_and_its_errors(monkeypatch):
    monkeypatch.setenv("SEED_USERS", "7")
    seed()
    assert User.objects.count() == 7
    monkeypatch.setenv("SEED_USERS", "many")
    with pytest.raises(CommandError, match="SEED_USERS must be a whole number"):
        seed()
    seed(users=8)  # the option wins over the environment
    assert User.objects.count() == 8


def test_sample_transactions_only_into_an_empty_table():
    seed(users=5)
    UserTransaction.objects.all().delete()
    assert "sample transactions: 20 created" in seed(users=5)
