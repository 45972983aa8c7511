"""The Oracle readiness gate's polling against moto's SSM and EC2 (the status parameter and the instance's console
output), and its provider's diff and pickling."""
from __future__ import annotations


import boto3
import pytest
from moto import mock_aws

from components.oracle_readiness import (
    CONSOLE_END,
    CONSOLE_HEADER,
    CONSOLE_LINE,
    OracleNotReady,
    OracleReadyProvider,
    console_failure,
    parse_status,
    wait_for_ready,
)
from tests.fake_clock import FakeClock
from tests.system import provider_class_in_a_fresh_interpreter

PARAMETER = "/fraud-test/oracle/status"
INSTANCE = "i-0123456789abcdef0"
REGION = "eu-central-1"


@pytest.fixture
def ssm(monkeypatch):
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # moto's catalogue of public AMIs is not needed here
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


# --- the console: a failure the host could not write to the parameter -------------------------------------------------

BOOT_NOISE = "[  OK  ] Started cloud-final.service - Execute cloud user/final scripts.\r\n"
TAIL = ["2026-12-01T10:00:03+00:00 == passwords from Parameter Store",
        "Unable to locate credentials. You can configure credentials by running \"aws configure\".",
        "gave up after 8 attempts: aws ssm get-parameter",
        "2026-12-01T10:03:05+00:00 FAILED at line 113: SYS_PASSWORD=$(secret '/t/oracle/sys-password')"]


def console_report(lines: list[str]) -> str:
    """The report as the boot script writes it, with the serial console's CR LF line ends and boot noise around it."""
    return "".join(line + "\r\n" for line in [CONSOLE_HEADER, *(CONSOLE_LINE + line for line in lines), CONSOLE_END])


@pytest.fixture
def instance(ssm):
    """A running instance in moto's EC2 (inside the same mocked account as ``ssm``): its id and an EC2 client."""
    ec2 = boto3.client("ec2", region_name=REGION)
    launched = ec2.run_instances(ImageId="ami-0123456789abcdef0", InstanceType="t3.large", MinCount=1, MaxCount=1)
    return launched["Instances"][0]["InstanceId"], ec2


def show_on_console(monkeypatch, text: str) -> None:
    """What moto's GetConsoleOutput returns for every instance (it has no console of its own to show)."""
    monkeypatch.setattr("moto.ec2.responses.general.SAMPLE_CONSOLE_OUTPUT", text)


def test_a_failure_on_the_console_fails_the_gate_at_once_with_the_log_tail(ssm, instance, monkeypatch):
    instance_id, ec2 = instance
    show_on_console(monkeypatch, BOOT_NOISE + console_report(TAIL) + BOOT_NOISE)
    clock = FakeClock()
    with pytest.raises(OracleNotReady) as raised:
        wait_for_ready(ssm, PARAMETER, instance_id, 40 * 60, 15, sleep=clock.sleep, clock=clock, ec2=ec2)
    message = str(raised.value)
    assert f"Oracle setup failed on {instance_id} (reported on the instance's console" in message
    assert "\n".join(TAIL) in message and "\r" not in message and "cloud-final" not in message
    assert f"{PARAMETER} still says 'pending'" in message
    assert clock.sleeps == []


def test_a_console_failure_ends_the_wait_within_a_poll_not_at_the_timeout(ssm, instance, monkeypatch):
    """The host gives up on AWS after about 3 minutes; the gate, told to wait 40, stops at its next poll."""
    instance_id, ec2 = instance
    show_on_console(monkeypatch, BOOT_NOISE)
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 180:
            show_on_console(monkeypatch, BOOT_NOISE + console_report(TAIL))

    with pytest.raises(OracleNotReady, match="gave up after 8 attempts"):
        wait_for_ready(ssm, PARAMETER, instance_id, 40 * 60, 15, sleep=sleep, clock=clock, ec2=ec2)
    assert clock.now == 180 and clock.sleeps == [15] * 12


def test_the_parameter_still_wins_when_it_was_written(ssm, instance, monkeypatch):
    instance_id, ec2 = instance
    show_on_console(monkeypatch, console_report(["an older failure"]))
    set_status(ssm, f"{instance_id} failed: ORA-01031: insufficient privileges")
    with pytest.raises(OracleNotReady, match=f"(?s)reported to {PARAMETER}.*ORA-01031") as raised:
        wait_for_ready(ssm, PARAMETER, instance_id, 60, 5, ec2=ec2)
    assert "an older failure" not in str(raised.value)


def test_a_console_without_a_report_keeps_the_gate_waiting(ssm, instance, monkeypatch):
    instance_id, ec2 = instance
    show_on_console(monkeypatch, BOOT_NOISE * 50)
    clock = FakeClock()
    with pytest.raises(OracleNotReady, match="did not report ready within 0.5 minutes"):
        wait_for_ready(ssm, PARAMETER, instance_id, 30, 10, sleep=clock.sleep, clock=clock, ec2=ec2)
    assert clock.sleeps == [10, 10, 10]


def test_an_unreadable_console_is_named_in_the_timeout(ssm):
    ec2 = boto3.client("ec2", region_name=REGION)
    clock = FakeClock()
    with pytest.raises(OracleNotReady) as raised:
        wait_for_ready(ssm, PARAMETER, INSTANCE, 20, 10, sleep=clock.sleep, clock=clock, ec2=ec2)  # no such instance
    assert "did not report ready" in str(raised.value)
    assert "the console could not be read" in str(raised.value) and "InvalidInstanceID.NotFound" in str(raised.value)


def test_console_failure_reads_the_last_report_only():
    console = console_report(["first boot trouble"]) + BOOT_NOISE + console_report(["second", "lines"]) + BOOT_NOISE
    assert console_failure(console) == "second\nlines"
    assert console_failure(BOOT_NOISE) is None
    assert console_failure(CONSOLE_HEADER + "\r\n" + CONSOLE_LINE + "cut short") == "cut short"


def test_provider_create_reads_the_console_too(ssm, instance, monkeypatch):
    instance_id, _ = instance
    show_on_console(monkeypatch, console_report(TAIL))
    props = {"instance_id": instance_id, "parameter_name": PARAMETER, "region": REGION,
             "timeout_seconds": 5.0, "poll_seconds": 1.0}
    with pytest.raises(OracleNotReady, match="reported on the instance's console"):
        OracleReadyProvider().create(props)
