"""The Oracle readiness gate's polling against moto's SSM, and its provider's diff and pickling."""
from __future__ import annotations


import boto3
import pytest
from moto import mock_aws

from components.oracle_readiness import (
    OracleNotReady,
    OracleReadyProvider,
    parse_status,
    wait_for_ready,
)
from tests.system import provider_class_in_a_fresh_interpreter

PARAMETER = "/fraud-test/oracle/status"
INSTANCE = "i-0123456789abcdef0"
REGION = "eu-central-1"


class FakeClock:
    """Time that only moves when the poller sleeps, so timeouts are exact and instant."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ssm(monkeypatch):
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(variable, value)
    with mock_aws():
        client = boto3.client("ssm", region_name=REGION)
        client.put_parameter(Name=PARAMETER, Type="String", Value="pending")
        yield client


def set_status(client, value: str) -> None:
    client.put_parameter(Name=PARAMETER, Type="String", Value=value, Overwrite=True)


def test_ready(ssm):
    set_status(ssm, f"{INSTANCE} ready")
    clock = FakeClock()
    assert wait_for_ready(ssm, PARAMETER, INSTANCE, 60, 5, sleep=clock.sleep, clock=clock) == "ready"
    assert clock.sleeps == []


def test_failed_reports_the_log_tail_at_once(ssm):
    tail = "2025-01-01T00:00:00 == users\nORA-01031: insufficient privileges\nusers.sql: error in output"
    set_status(ssm, f"{INSTANCE} failed: {tail}")
    clock = FakeClock()
    with pytest.raises(OracleNotReady) as raised:
        wait_for_ready(ssm, PARAMETER, INSTANCE, 600, 5, sleep=clock.sleep, clock=clock)
    message = str(raised.value)
    assert "Oracle setup failed on i-0123456789abcdef0" in message
    assert "ORA-01031: insufficient privileges" in message and "users.sql: error in output" in message
    assert "aws ssm start-session --target i-0123456789abcdef0" in message
    assert clock.sleeps == []


def test_timeout_names_the_setting_and_the_last_value(ssm):
    clock = FakeClock()
    with pytest.raises(OracleNotReady) as raised:
        wait_for_ready(ssm, PARAMETER, INSTANCE, 30, 10, sleep=clock.sleep, clock=clock)
    message = str(raised.value)
    assert "did not report ready within 0.5 minutes (oracleReadyTimeoutMinutes)" in message
    assert "'pending'" in message
    assert clock.sleeps == [10, 10, 10]  # bounded: stops at the deadline


def test_timeout_with_real_time_is_bounded(ssm):
    with pytest.raises(OracleNotReady, match="did not report ready"):
        wait_for_ready(ssm, PARAMETER, INSTANCE, 0.2, 0.05)


def test_pending_then_ready(ssm):
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 3:  # the host finishes while the gate waits
            set_status(ssm, f"{INSTANCE} ready")

    assert wait_for_ready(ssm, PARAMETER, INSTANCE, 600, 15, sleep=sleep, clock=clock) == "ready"
    assert clock.sleeps == [15, 15, 15]


def test_a_replaced_hosts_old_status_is_not_taken_for_the_new_one(ssm):
    set_status(ssm, "i-0oldoldoldoldold0 ready")
    clock = FakeClock()
    with pytest.raises(OracleNotReady, match="did not report ready"):
        wait_for_ready(ssm, PARAMETER, INSTANCE, 20, 10, sleep=clock.sleep, clock=clock)
    set_status(ssm, "i-0oldoldoldoldold0 failed: old trouble")
    with pytest.raises(OracleNotReady, match="did not report ready"):
        wait_for_ready(ssm, PARAMETER, INSTANCE, 20, 10, sleep=clock.sleep, clock=clock)


def test_missing_parameter_counts_as_not_ready(ssm):
    ssm.delete_parameter(Name=PARAMETER)
    clock = FakeClock()
    with pytest.raises(OracleNotReady, match="<parameter missing>"):
        wait_for_ready(ssm, PARAMETER, INSTANCE, 10, 5, sleep=clock.sleep, clock=clock)


def test_parse_status():
    assert parse_status(f"{INSTANCE} ready", INSTANCE) == ("ready", "")
    assert parse_status(f"{INSTANCE} failed: line 3\nboom", INSTANCE) == ("failed", "line 3\nboom")
    assert parse_status("pending", INSTANCE) == ("pending", "")
    assert parse_status(f"{INSTANCE}x ready", INSTANCE) == ("pending", "")


def test_provider_create_polls_ssm_in_the_given_region(ssm):
    set_status(ssm, f"{INSTANCE} ready")
    props = {
        "instance_id": INSTANCE,
        "parameter_name": PARAMETER,
        "region": REGION,
        "timeout_seconds": 5.0,
        "poll_seconds": 1.0,
        "status": None,
    }
    result = OracleReadyProvider().create(props)
    assert result.id == f"{INSTANCE}-ready"
    assert result.outs["status"] == "ready"
    assert result.outs["instance_id"] == INSTANCE


def test_provider_create_fails_with_the_log_tail(ssm):
    set_status(ssm, f"{INSTANCE} failed: SP2-0310: unable to open file")
    props = {"instance_id": INSTANCE, "parameter_name": PARAMETER, "region": REGION,
             "timeout_seconds": 5.0, "poll_seconds": 1.0}
    with pytest.raises(OracleNotReady, match="SP2-0310"):
        OracleReadyProvider().create(props)


def test_a_new_instance_replaces_the_gate_but_a_new_timeout_does_not():
    provider = OracleReadyProvider()
    olds = {"instance_id": "i-1", "parameter_name": PARAMETER, "region": REGION, "timeout_seconds": 60.0,
            "poll_seconds": 15.0, "status": "ready", "__provider": "x"}
    replaced = provider.diff("i-1-ready", olds, {**olds, "instance_id": "i-2", "status": None})
    assert replaced.changes and replaced.replaces == ["instance_id"]
    retimed = provider.diff("i-1-ready", olds, {**olds, "timeout_seconds": 120.0, "status": None})
    assert retimed.changes and retimed.replaces == []
    assert provider.update("i-1-ready", olds, {**olds, "timeout_seconds": 120.0}).outs["status"] == "ready"
    unchanged = provider.diff("i-1-ready", olds, {**olds, "status": None})
    assert not unchanged.changes


def test_provider_pickles_and_loads_in_a_fresh_interpreter():
    assert provider_class_in_a_fresh_interpreter(OracleReadyProvider()) == "OracleReadyProvider"
