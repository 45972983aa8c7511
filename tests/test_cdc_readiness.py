"""The CDC readiness gate against a real HTTP server on 127.0.0.1 that answers like Schema Registry's subjects API."""
from __future__ import annotations

import base64

import pytest

from components.cdc_readiness import (
    CdcNotReady,
    CdcReadyProvider,
    SchemaRegistryAuthError,
    list_subjects,
    wait_for_subjects,
)
from tests.fake_clock import FakeClock
from tests.local_http import JsonHandler, LocalServer
from tests.system import provider_class_in_a_fresh_interpreter

KEY, SECRET = "SRKEY123", "sr-secret-value"
WANTED = ["fd.SAMPLE.AUTH_USER-value", "fd.SAMPLE.USER_TRANSACTION-value"]


class FakeRegistry(LocalServer):
    """A subjects endpoint whose subjects appear after a given number of requests; can fail or refuse keys."""

    def __init__(self):
        self.schedule: list[tuple[int, str]] = []  # (request number from which it is listed, subject)
        self.failures: dict[int, int] = {}  # request number -> HTTP status to answer instead
        self.requests: list[tuple[str, str | None]] = []  # (path, Authorization header)
        registry = self

        class Handler(JsonHandler):
            content_type = "application/vnd.schemaregistry.v1+json"

            def do_GET(self):
                registry.requests.append((self.path, self.headers.get("Authorization")))
                number = len(registry.requests)
                expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.answer(401, {"error_code": 401, "message": "Unauthorized"})
                if number in registry.failures:
                    return self.answer(registry.failures[number], {"error_code": 50001, "message": "unavailable"})
                if self.path != "/subjects":
                    return self.answer(404, {"error_code": 404, "message": "not found"})
                listed = ["other-topic-value"] + [s for start, s in registry.schedule if number >= start]
                return self.answer(200, listed)

        super().__init__(Handler)
        self.endpoint = self.url


@pytest.fixture
def registry():
    with FakeRegistry() as server:
        yield server


def test_subjects_that_appear_late_are_waited_for(registry):
    registry.schedule = [(2, WANTED[0]), (4, WANTED[1])]
    found = wait_for_subjects(registry.endpoint, KEY, SECRET, WANTED, timeout_seconds=10, poll_seconds=0.01)
    assert found == sorted(WANTED)
    assert len(registry.requests) == 4
    assert all(path == "/subjects" for path, _ in registry.requests)


def test_already_registered_returns_after_one_request(registry):
    registry.schedule = [(1, WANTED[0]), (1, WANTED[1])]
    assert wait_for_subjects(registry.endpoint + "/", KEY, SECRET, WANTED, 10, 0.01) == sorted(WANTED)
    assert len(registry.requests) == 1


def test_never_appearing_subject_times_out_naming_it(registry):
    registry.schedule = [(1, WANTED[0])]
    clock = FakeClock()
    with pytest.raises(CdcNotReady) as raised:
        wait_for_subjects(registry.endpoint, KEY, SECRET, WANTED, timeout_seconds=60, poll_seconds=15,
                          sleep=clock.sleep, clock=clock)
    message = str(raised.value)
    assert "fd.SAMPLE.USER_TRANSACTION-value" in message
    assert "fd.SAMPLE.AUTH_USER-value" not in message  # it did appear
    assert "within 1 minutes (cdcReadyTimeoutMinutes)" in message
    assert clock.sleeps == [15, 15, 15, 15]  # it kept polling until the deadline, and no longer
    assert len(registry.requests) == 5


def test_refused_key_fails_at_once_naming_the_key(registry):
    registry.schedule = [(1, WANTED[0]), (1, WANTED[1])]
    with pytest.raises(SchemaRegistryAuthError) as raised:
        wait_for_subjects(registry.endpoint, "WRONGKEY", SECRET, WANTED, timeout_seconds=30, poll_seconds=0.01)
    assert "WRONGKEY" in str(raised.value) and "HTTP 401" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert len(registry.requests) == 1  # not retried


def test_forbidden_is_an_auth_failure_too(registry):
    registry.failures = {1: 403}
    with pytest.raises(SchemaRegistryAuthError, match="HTTP 403"):
        wait_for_subjects(registry.endpoint, KEY, SECRET, WANTED, 30, 0.01)
    assert len(registry.requests) == 1


def test_transient_server_errors_are_retried(registry):
    registry.failures = {1: 503, 2: 500}
    registry.schedule = [(1, WANTED[0]), (1, WANTED[1])]
    assert wait_for_subjects(registry.endpoint, KEY, SECRET, WANTED, 10, 0.01) == sorted(WANTED)
    assert len(registry.requests) == 3


def test_timeout_while_the_registry_errors_reports_the_error(registry):
    registry.failures = {n: 503 for n in range(1, 1000)}
    clock = FakeClock()
    with pytest.raises(CdcNotReady, match="503"):
        wait_for_subjects(registry.endpoint, KEY, SECRET, WANTED, 60, 15, sleep=clock.sleep, clock=clock)
    assert len(registry.requests) == 5  # retried until the deadline


def test_list_subjects_sends_basic_auth(registry):
    registry.schedule = [(1, WANTED[0])]
    assert list_subjects(registry.endpoint, KEY, SECRET) == {"other-topic-value", WANTED[0]}
    assert registry.requests[0][1] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


def test_provider_create_waits_and_records_what_it_found(registry):
    registry.schedule = [(2, WANTED[0]), (2, WANTED[1])]
    props = {
        "endpoint": registry.endpoint,
        "api_key": KEY,
        "api_secret": SECRET,
        "subjects": WANTED,
        "timeout_seconds": 5,
        "poll_seconds": 0.01,
        "found": None,
    }
    result = CdcReadyProvider().create(props)
    assert result.outs["found"] == sorted(WANTED)
    assert len(registry.requests) == 2


def test_provider_diff_replaces_only_for_other_subjects_or_registry():
    provider = CdcReadyProvider()
    old = {"endpoint": "https://sr", "api_key": "A", "api_secret": "s", "subjects": WANTED, "timeout_seconds": 60, "poll_seconds": 15}
    assert provider.diff("id", old, dict(old)).changes is False
    assert provider.diff("id", old, {**old, "subjects": WANTED[:1]}).replaces == ["subjects"]
    assert provider.diff("id", old, {**old, "endpoint": "https://other"}).replaces == ["endpoint"]
    rotated = provider.diff("id", old, {**old, "api_key": "B", "api_secret": "t"})
    assert rotated.changes is True and rotated.replaces == []
    assert provider.update("id", {**old, "found": WANTED}, {**old, "api_key": "B"}).outs["found"] == WANTED


def test_provider_pickles_and_loads_in_a_fresh_interpreter():
    assert provider_class_in_a_fresh_interpreter(CdcReadyProvider()) == "CdcReadyProvider"
