"""The local demo's change feed (LOCAL_CDC_FEED) and flags endpoint (LOCAL_FLINK_RESULTS)."""
import json

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from transactions import local_cdc, local_flags
from transactions.models import UserTransaction

FRAUD = "/api/fraud"


@pytest.fixture
def feed(tmp_path, monkeypatch):
    directory = tmp_path / "feed"
    monkeypatch.setenv(local_cdc.FEED_ENV, str(directory))
    assert local_cdc.connect()
    return directory


def records(directory, table):
    files = sorted((directory / table).glob("*.json"))
    return [json.loads(line) for path in files for line in path.read_text().splitlines()]


def test_feed_is_off_without_the_variable(seeded, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.delenv(local_cdc.FEED_ENV, raising=False)
    assert local_cdc.connect() is False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        UserTransaction.objects.create(account=User.objects.first(), amount="1.00", ip_address="192.0.2.10")
    assert callbacks == []


def test_committed_fraud_scenario_is_fed_as_change_records(client, seeded, feed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FRAUD, data=json.dumps({"type": "burst_count"}), content_type="application/json")
    assert response.status_code == 201
    written = records(feed, "USER_TRANSACTION")
    rows = response.json()["transactions"]
    assert [r["after"]["ID"] for r in written] == [row["id"] for row in rows]
    first = written[0]
    assert first["op"] == "c" and first["before"] is None
    assert first["source"]["schema"] == "SAMPLE" and first["source"]["table"] == "USER_TRANSACTION"
    assert set(first["after"]) == {"ID", "AMOUNT", "RECEIVED_AT", "IP_ADDRESS", "ACCOUNT_ID"}
    account = User.objects.get(username=rows[0]["username"])
    assert first["after"]["ACCOUNT_ID"] == account.pk
    assert first["after"]["AMOUNT"] == float(rows[0]["amount"])
    assert not [p for p in (feed / "USER_TRANSACTION").iterdir() if p.name.startswith(".")]


def test_an_update_carries_the_row_before_it(seeded, feed, django_capture_on_commit_callbacks):
    user = User.objects.first()
    old_email = user.email
    with django_capture_on_commit_callbacks(execute=True):
        user.email = "renamed@example.com"
        user.save()
    [record] = records(feed, "AUTH_USER")
    assert record["op"] == "u"
    assert (record["before"]["EMAIL"], record["after"]["EMAIL"]) == (old_email, "renamed@example.com")
    assert record["before"]["ID"] == record["after"]["ID"] == user.pk


def test_rolled_back_writes_are_not_fed(seeded, feed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                UserTransaction.objects.create(account=User.objects.first(), amount="1.00", ip_address="192.0.2.10")
                raise RuntimeError("abort")
    assert records(feed, "USER_TRANSACTION") == []


def test_snapshot_writes_existing_rows_as_reads(seeded, feed):
    counts = local_cdc.snapshot(feed)
    users = records(feed, "AUTH_USER")
    assert counts["AUTH_USER"] == len(users) == User.objects.count()
    assert {r["op"] for r in users} == {"r"}
    assert {r["after"]["USERNAME"] for r in users} == set(User.objects.values_list("username", flat=True))
    assert counts["USER_TRANSACTION"] == len(records(feed, "USER_TRANSACTION")) == UserTransaction.objects.count()


def test_flags_endpoint_is_off_without_the_variable(client, db, monkeypatch):
    monkeypatch.delenv(local_flags.RESULTS_ENV, raising=False)
    assert client.get("/api/local/flags").status_code == 404
    assert b"local-flags" not in client.get("/").content


def test_flags_endpoint_returns_committed_results_only(client, db, tmp_path, monkeypatch):
    monkeypatch.setenv(local_flags.RESULTS_ENV, str(tmp_path))
    (tmp_path / "flagged_users").mkdir()
    (tmp_path / "flagged_users" / "part-0").write_text('{"USERNAME": "alice", "FRAUD_TYPE": "burst_count"}\n')
    (tmp_path / "flagged_users" / ".part-1.inprogress").write_text('{"USERNAME": "bob"}\n')
    (tmp_path / "flagged_transactions").mkdir()
    (tmp_path / "flagged_transactions" / "part-0").write_text('{"ID": 7}\nnot json\n')
    body = client.get("/api/local/flags").json()
    assert body == {"flagged_users": [{"USERNAME": "alice", "FRAUD_TYPE": "burst_count"}],
                    "flagged_transactions": [{"ID": 7}]}
    assert client.post("/api/local/flags").status_code == 405
    assert b'id="local-flags"' in client.get("/").content
