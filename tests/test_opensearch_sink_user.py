"""The OpenSearch sink user against a real HTTP server on 127.0.0.1 that answers like the security plugin's
REST API (roles, internal users, role mappings) behind the master user's basic auth, and enforces what the
plugin would: a user logs in with its own password and may act only on the indexes its roles name."""
from __future__ import annotations

import base64
import fnmatch
import json
from urllib.parse import urlparse

import pytest

from components.opensearch_sink_user import (
    INDEX_ACTIONS,
    OpenSearchSinkUserProvider,
    apply_user,
    remove_user,
    security_objects,
)
from components.opensearch_api import OpenSearchError, OpenSearchRefused
from tests.local_http import JsonHandler, LocalServer
from tests.opensearch_domain import DOMAIN, REGION, UNUSABLE, opensearch_domain, unusable_api, warnings  # noqa: F401 (a fixture)
from tests.system import provider_class_in_a_fresh_interpreter

ADMIN, ADMIN_PASSWORD = "fraud_admin", "Mx7#master-Password_1"
USER, PASSWORD = "fraud_sink", "Sk9#sink-Password_2"
INDEXES = ["flagged_transaction", "flagged_user"]
PREFIX = "/_plugins/_security/api/"


class FakeSecurityApi(LocalServer):
    """Stores roles, internal users and role mappings; answers 401 to any other login than the master's."""

    def __init__(self):
        self.objects: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.failures: dict[int, int] = {}
        fake = self

        class Handler(JsonHandler):
            def _start(self) -> tuple[str, str] | None:
                fake.requests.append((self.command, self.path))
                expected = "Basic " + base64.b64encode(f"{ADMIN}:{ADMIN_PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.answer(401, {"status": "UNAUTHORIZED"})
                    return None
                if len(fake.requests) in fake.failures:
                    self.answer(fake.failures[len(fake.requests)], {"status": "error"})
                    return None
                path = urlparse(self.path).path
                if not path.startswith(PREFIX) or path.count("/") != 5:
                    self.answer(404, {"status": "NOT_FOUND"})
                    return None
                kind, name = path[len(PREFIX):].split("/")
                return kind, name

            def do_PUT(self):
                key = self._start()
                if key is None:
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if key[0] == "rolesmapping" and ("roles", key[1]) not in fake.objects:
                    return self.answer(404, {"status": "NOT_FOUND", "message": f"role '{key[1]}' not found."})
                created = key not in fake.objects
                fake.objects[key] = body
                self.answer(201 if created else 200, {"status": "CREATED" if created else "OK"})

            def do_DELETE(self):
                key = self._start()
                if key is None:
                    return
                if fake.objects.pop(key, None) is None:
                    return self.answer(404, {"status": "NOT_FOUND", "message": f"'{key[1]}' not found."})
                self.answer(200, {"status": "OK"})

        super().__init__(Handler)

    def allows(self, user: str, password: str, action: str, index: str) -> bool:
        """What the plugin would decide for ``user``: its password, its mapped roles, their index actions."""
        stored = self.objects.get(("internalusers", user))
        if stored is None or stored["password"] != password:
            return False
        roles = [name for (kind, name), body in self.objects.items() if kind == "rolesmapping" and user in body["users"]]
        for role in roles:
            for grant in self.objects[("roles", role)]["index_permissions"]:
                if any(fnmatch.fnmatch(index, pattern) for pattern in grant["index_patterns"]) and action in grant["allowed_actions"]:
                    return True
        return False


@pytest.fixture
def fake():
    with FakeSecurityApi() as server:
        yield server


def props(fake: FakeSecurityApi, **changes) -> dict:
    return at(fake.url, **{"timeout_seconds": 5, "poll_seconds": 0.01, **changes})


def at(url: str, **changes) -> dict:
    return {"opensearch_url": url, "admin_username": ADMIN, "admin_password": ADMIN_PASSWORD, "username": USER,
            "password": PASSWORD, "indexes": INDEXES, "domain_name": DOMAIN, "region": REGION, "timeout_seconds": 0.1,
            "poll_seconds": 0.05, **changes}


def test_create_puts_the_role_then_the_user_then_the_mapping(fake):
    result = OpenSearchSinkUserProvider().create(props(fake))
    assert result.outs["objects"] == ["roles/fraud_sink_writer", "internalusers/fraud_sink", "rolesmapping/fraud_sink_writer"]
    assert [(m, p.removeprefix(PREFIX)) for m, p in fake.requests] == [
        ("PUT", "roles/fraud_sink_writer"), ("PUT", "internalusers/fraud_sink"), ("PUT", "rolesmapping/fraud_sink_writer")]
    assert fake.objects[("rolesmapping", "fraud_sink_writer")] == {"users": ["fraud_sink"]}
    assert result.id.startswith("fraud_sink@")


def test_the_sink_may_write_its_indexes_and_nothing_else(fake):
    apply_user(props(fake))
    role = fake.objects[("roles", "fraud_sink_writer")]
    assert role["cluster_permissions"] == ["cluster_monitor", "cluster_composite_ops"]
    assert "all_access" not in json.dumps(role) and "*" not in json.dumps(role)
    for index in INDEXES:
        for action in ("crud", "create_index", "indices:admin/mapping/put"):
            assert fake.allows(USER, PASSWORD, action, index), (action, index)
    assert not fake.allows(USER, PASSWORD, "crud", ".kibana")
    assert not fake.allows(USER, PASSWORD, "crud", "flagged_user_archive")
    assert not fake.allows(USER, PASSWORD, "indices:admin/delete", "flagged_user")
    assert not fake.allows(USER, "another-password", "crud", "flagged_user")
    assert "indices:admin/delete" not in INDEX_ACTIONS and "manage" not in INDEX_ACTIONS


def test_running_again_converges_and_a_new_password_replaces_the_old(fake):
    provider = OpenSearchSinkUserProvider()
    provider.create(props(fake))
    provider.update("id", props(fake), props(fake))
    assert len(fake.objects) == 3
    provider.update("id", props(fake), props(fake, password="Rotated#Password_3"))
    assert fake.allows(USER, "Rotated#Password_3", "crud", "flagged_user")
    assert not fake.allows(USER, PASSWORD, "crud", "flagged_user")


def test_delete_removes_the_mapping_user_and_role_and_tolerates_what_is_gone(fake):
    apply_user(props(fake))
    fake.requests.clear()
    OpenSearchSinkUserProvider().delete("id", props(fake))
    assert fake.objects == {}
    assert [(m, p.removeprefix(PREFIX)) for m, p in fake.requests] == [
        ("DELETE", "rolesmapping/fraud_sink_writer"), ("DELETE", "internalusers/fraud_sink"), ("DELETE", "roles/fraud_sink_writer")]
    remove_user(props(fake))  # all three already gone: every DELETE answers 404
    assert [m for m, _ in fake.requests[-3:]] == ["DELETE"] * 3


def test_a_refused_master_login_fails_at_once_without_either_password(fake):
    with pytest.raises(OpenSearchRefused) as raised:
        apply_user(props(fake, admin_password="wrong-password"))
    message = str(raised.value)
    assert "HTTP 401" in message and not any(secret in message for secret in ("wrong-password", ADMIN_PASSWORD, PASSWORD))
    assert len(fake.requests) == 1  # not retried


def test_a_starting_domain_is_retried_and_puts_converge(fake):
    fake.failures = {1: 503, 3: 502}
    assert apply_user(props(fake))[-1] == "rolesmapping/fraud_sink_writer"
    assert len(fake.objects) == 3 and fake.allows(USER, PASSWORD, "crud", "flagged_transaction")


def test_a_domain_that_never_answers_times_out(fake):
    fake.failures = {n: 503 for n in range(1, 10_000)}
    with pytest.raises(OpenSearchError, match="OpenSearch sink user: .*within 0.2 s.*HTTP 503"):
        apply_user(props(fake, timeout_seconds=0.2, poll_seconds=0.05))


def test_diff_replaces_for_another_domain_or_user_and_updates_otherwise(fake):
    provider = OpenSearchSinkUserProvider()
    base = props(fake)
    assert provider.diff("id", base, dict(base)).changes is False
    assert provider.diff("id", base, {**base, "username": "other"}).replaces == ["username"]
    assert provider.diff("id", base, {**base, "opensearch_url": "https://b"}).replaces == ["opensearch_url"]
    rotated = provider.diff("id", base, {**base, "password": "new"})
    assert rotated.changes is True and rotated.replaces == []


def test_no_indexes_is_refused_before_any_request():
    with pytest.raises(ValueError, match="indexes"):
        security_objects(USER, PASSWORD, [])


@pytest.mark.parametrize("state", ["gone", "being deleted"])
@pytest.mark.parametrize("kind", UNUSABLE)
def test_delete_finishes_with_a_warning_when_the_api_cannot_be_used_and_the_domain_goes(kind, state, warnings, monkeypatch):
    with unusable_api(kind, monkeypatch) as url, opensearch_domain(state, monkeypatch):
        OpenSearchSinkUserProvider().delete("id", at(url))
    [warning] = warnings
    assert f"OpenSearch domain {DOMAIN} is {state}" in warning and "deleting the OpenSearch sink user" in warning
    assert ADMIN_PASSWORD not in warning and PASSWORD not in warning


@pytest.mark.parametrize("kind", UNUSABLE)
def test_delete_fails_when_the_api_cannot_be_used_but_the_domain_lives(kind, warnings, monkeypatch):
    expected = OpenSearchRefused if kind == "403" else OpenSearchError
    with unusable_api(kind, monkeypatch) as url, opensearch_domain("active", monkeypatch), pytest.raises(expected):
        OpenSearchSinkUserProvider().delete("id", at(url))
    assert warnings == []


@pytest.mark.parametrize("kind", UNUSABLE)
def test_create_and_update_fail_loudly_even_with_the_domain_gone(kind, warnings, monkeypatch):
    expected = OpenSearchRefused if kind == "403" else OpenSearchError
    with unusable_api(kind, monkeypatch) as url, opensearch_domain("gone", monkeypatch):
        with pytest.raises(expected):
            OpenSearchSinkUserProvider().create(at(url))
        with pytest.raises(expected):
            OpenSearchSinkUserProvider().update("id", at(url), at(url, password="Rotated#Password_3"))
    assert warnings == []


def test_provider_pickles_and_loads_in_a_fresh_interpreter():
    assert provider_class_in_a_fresh_interpreter(OpenSearchSinkUserProvider()) == "OpenSearchSinkUserProvider"
