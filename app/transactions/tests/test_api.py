"""The JSON API: writes, reads and every kind of bad input."""
import json
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from transactions import scenarios
from transactions.models import UserTransaction

STREAM, FRAUD, RECENT = "/api/transactions/stream", "/api/fraud", "/api/transactions"


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body) if not isinstance(body, (str, bytes)) else body,
                       content_type="application/json")


@pytest.fixture
def fresh(seeded):
    """Seeded customers, no transactions yet."""
    UserTransaction.objects.all().delete()


def new_rows():
    return list(UserTransaction.objects.select_related("account").order_by("id"))


def test_stream_writes_one_normal_transaction_for_a_customer(client, fresh):
    response = post_json(client, STREAM, {})
    assert response.status_code == 201
    (row,) = new_rows()
    body = response.json()["transaction"]
    assert body == {"id": row.id, "username": row.account.username, "amount": f"{row.amount:.2f}",
                    "ip_address": row.ip_address, "received_at": row.received_at.isoformat()}
    assert scenarios.NORMAL_AMOUNT_RANGE[0] <= row.amount <= scenarios.NORMAL_AMOUNT_RANGE[1]
    assert row.ip_address in scenarios.ALLOWED_IPS
    assert not row.account.is_staff
    assert abs((timezone.now() - row.received_at).total_seconds()) < 60


def test_stream_spreads_over_customers(client, fresh):
    for _ in range(30):
        assert post_json(client, STREAM, {}).status_code == 201
    assert len({row.account_id for row in new_rows()}) > 1


def test_stream_never_picks_the_admin(client, fresh):
    User.objects.create_superuser("admin", password="x" * 20)
    User.objects.exclude(username="admin").delete()
    response = post_json(client, STREAM, {})
    assert response.status_code == 409
    assert "seed" in response.json()["error"]


def test_stream_without_customers_is_409_not_500(client, db):
    response = post_json(client, STREAM, {})
    assert response.status_code == 409
    assert response.json() == {"error": "no customer accounts yet: run `python manage.py seed` first"}
    assert post_json(client, FRAUD, {"type": "large_amount"}).status_code == 409


def test_burst_count_goes_to_one_account_with_offsets(client, fresh):
    before = timezone.now()
    response = post_json(client, FRAUD, {"type": "burst_count"})
    assert response.status_code == 201
    rows = new_rows()
    assert len(rows) == scenarios.BURST_COUNT > scenarios.MAX_TRANSACTION_COUNT
    assert {row.account.username for row in rows} == {response.json()["username"]}
    offsets = [(row.received_at - rows[0].received_at).total_seconds() for row in rows]
    assert offsets == pytest.approx([i * scenarios.BURST_SPACING_SECONDS for i in range(scenarios.BURST_COUNT)])
    assert rows[0].received_at >= before.replace(microsecond=0)
    assert [tx["id"] for tx in response.json()["transactions"]] == [row.id for row in rows]


def test_burst_amount_sums_above_the_limit_with_each_below_it(client, fresh):
    response = post_json(client, FRAUD, {"type": "burst_amount"})
    assert response.status_code == 201
    rows = new_rows()
    assert len({row.account_id for row in rows}) == 1
    assert sum(row.amount for row in rows) > scenarios.MAX_TOTAL_AMOUNT
    assert all(row.amount <= scenarios.MAX_TOTAL_AMOUNT for row in rows)


def test_large_amount(client, fresh):
    assert post_json(client, FRAUD, {"type": "large_amount"}).status_code == 201
    (row,) = new_rows()
    assert row.amount > scenarios.MAX_TOTAL_AMOUNT


def test_foreign_ip_for_a_named_customer(client, fresh):
    username = User.objects.order_by("pk").last().username
    response = post_json(client, FRAUD, {"type": "foreign_ip", "username": username})
    assert response.status_code == 201
    (row,) = new_rows()
    assert row.account.username == username == response.json()["username"]
    assert row.ip_address in scenarios.FOREIGN_IPS and row.ip_address not in scenarios.ALLOWED_IPS


def test_recent_lists_newest_first_with_limit(client, fresh):
    post_json(client, FRAUD, {"type": "burst_count"})
    response = client.get(RECENT, {"limit": "5"})
    assert response.status_code == 200
    listed = response.json()["transactions"]
    newest = new_rows()[-5:][::-1]
    assert [tx["id"] for tx in listed] == [row.id for row in newest]
    assert len(client.get(RECENT).json()["transactions"]) == scenarios.BURST_COUNT  # default limit is 50


def test_unknown_fraud_type_lists_the_valid_ones(client, fresh):
    response = post_json(client, FRAUD, {"type": "phishing"})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "type" and body["valid_types"] == list(scenarios.FRAUD_TYPES)
    assert "phishing" in body["error"] and "burst_count" in body["error"]
    assert not new_rows()


@pytest.mark.parametrize(("body", "field"), [
    ("{not json", "body"),
    ("", "body"),
    (b"\xff\xfe", "body"),
    ("[]", "body"),
    ('"burst_count"', "body"),
    ({}, "type"),
    ({"type": 7}, "type"),
    ({"type": ["burst_count"]}, "type"),
    ({"type": None}, "type"),
    ({"type": "large_amount", "username": 42}, "username"),
    ({"type": "large_amount", "username": "nobody"}, "username"),
    ({"type": "large_amount", "amount": 5}, "amount"),
])
def test_bad_fraud_requests_name_the_field_and_write_nothing(client, fresh, body, field):
    response = post_json(client, FRAUD, body)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["error"]
    assert not new_rows()


def test_fraud_for_the_admin_account_is_refused(client, fresh):
    User.objects.create_superuser("admin", password="x" * 20)
    response = post_json(client, FRAUD, {"type": "large_amount", "username": "admin"})
    assert response.status_code == 400 and response.json()["field"] == "username"


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5", ""])
def test_bad_limit(client, fresh, limit):
    response = client.get(RECENT, {"limit": limit})
    assert response.status_code == 400
    assert response.json()["field"] == "limit" and "limit must be a whole number from 1 to 200" in response.json()["error"]


@pytest.mark.parametrize(("method", "url", "allowed"), [
    ("get", STREAM, "POST"), ("put", STREAM, "POST"), ("get", FRAUD, "POST"), ("delete", FRAUD, "POST"),
    ("post", RECENT, "GET"), ("post", "/", "GET"),
])
def test_wrong_method_is_405_with_allow_header(client, fresh, method, url, allowed):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == allowed and response.json()["error"].startswith(f"method {method.upper()} not allowed")


def test_a_failing_burst_writes_nothing(client, fresh):
    """The 4th insert of a burst fails: the 3 before it are rolled back and the caller gets a JSON 503."""
    original = UserTransaction.objects.create
    calls = []

    def flaky_create(**kwargs):
        calls.append(kwargs)
        if len(calls) == 4:
            raise OperationalError("disk I/O error")
        return original(**kwargs)

    with mock.patch.object(UserTransaction.objects, "create", side_effect=flaky_create):
        response = post_json(client, FRAUD, {"type": "burst_count"})
    assert len(calls) == 4
    assert response.status_code == 503 and "nothing was written" in response.json()["error"]
    assert not new_rows()


def test_csrf_is_enforced_and_the_page_token_works(fresh):
    client = Client(enforce_csrf_checks=True)
    refused = post_json(client, FRAUD, {"type": "large_amount"})
    assert refused.status_code == 403 and refused.json()["error"].startswith("CSRF check failed")
    assert not new_rows()

    page = client.get("/")
    token = page.context["csrf_token"]
    accepted = client.post(FRAUD, data=json.dumps({"type": "large_amount"}), content_type="application/json",
                           headers={"X-CSRFToken": str(token)})
    assert accepted.status_code == 201
    assert [row.amount > scenarios.MAX_TOTAL_AMOUNT for row in new_rows()] == [True]
