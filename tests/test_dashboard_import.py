"""The dashboard import against a real HTTP server on 127.0.0.1 that answers like OpenSearch (index templates)
and OpenSearch Dashboards (saved objects import and delete) behind basic auth, and against APIs that cannot be
used (403, refused connection, timeout) with the domain as moto's OpenSearch Service reports it."""
from __future__ import annotations

import base64
import json
import socket
import time
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs, urlparse

import pytest

from components.dashboard_import import (
    DashboardImportError,
    DashboardImportProvider,
    delete_saved_objects,
    deletion_order,
    import_saved_objects,
    publish,
    saved_object_ids,
)
from components.opensearch import INDEX_MAPPINGS_FILE, SAVED_OBJECTS_FILE, index_templates
from components.opensearch_api import OpenSearchError, OpenSearchRefused
from tests.local_http import JsonHandler, LocalServer
from tests.opensearch_domain import DOMAIN, REGION, UNUSABLE, opensearch_domain, unusable_api, warnings  # noqa: F401 (a fixture)
from tests.system import provider_class_in_a_fresh_interpreter

USER, PASSWORD = "fraud_admin", "Sx7#secret-Password_1"
NDJSON = SAVED_OBJECTS_FILE.read_text()
TEMPLATES = index_templates(json.loads(INDEX_MAPPINGS_FILE.read_text()), replicas=0)


class FakeOpenSearch(LocalServer):
    """Index templates under /_index_template, saved objects under /_dashboards/api/saved_objects."""

    def __init__(self):
        self.templates: dict[str, dict] = {}
        self.objects: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        self.uploads: list[bytes] = []
        self.failures: dict[int, int] = {}  # request number -> status to answer instead
        self.broken_ids: set[str] = set()  # saved objects the import rejects with an unknown error
        fake = self

        class Handler(JsonHandler):
            def _start(self) -> str | None:
                fake.requests.append((self.command, self.path))
                number = len(fake.requests)
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.answer(401, {"statusCode": 401, "error": "Unauthorized", "message": "Authentication required"})
                    return None
                if number in fake.failures:
                    status = fake.failures[number]
                    self.answer(status, {"message": "User: anonymous is not authorized"} if status == 403 else {"error": "unavailable"})
                    return None
                return urlparse(self.path).path

            def do_PUT(self):
                path = self._start()
                if path is None:
                    return
                if not path.startswith("/_index_template/"):
                    return self.answer(404, {"error": "no handler"})
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.templates[path.rsplit("/", 1)[1]] = body
                self.answer(200, {"acknowledged": True})

            def do_POST(self):
                path = self._start()
                if path is None:
                    return
                if path != "/_dashboards/api/saved_objects/_import":
                    return self.answer(404, {"statusCode": 404, "error": "Not Found"})
                if self.headers.get("osd-xsrf") != "true":
                    return self.answer(400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a osd-xsrf header."})
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw
                )
                [part] = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
                upload = part.get_payload(decode=True)
                fake.uploads.append(upload)
                overwrite = parse_qs(urlparse(self.path).query).get("overwrite") == ["true"]
                self.answer(200, fake.import_objects(upload.decode(), overwrite))

            def do_DELETE(self):
                path = self._start()
                if path is None:
                    return
                if path.startswith("/_index_template/"):
                    name = path.rsplit("/", 1)[1]
                    if fake.templates.pop(name, None) is None:
                        return self.answer(404, {"error": {"type": "index_template_missing_exception"}, "status": 404})
                    return self.answer(200, {"acknowledged": True})
                prefix = "/_dashboards/api/saved_objects/"
                if not path.startswith(prefix):
                    return self.answer(404, {"statusCode": 404})
                if self.headers.get("osd-xsrf") != "true":
                    return self.answer(400, {"statusCode": 400, "message": "Request must contain a osd-xsrf header."})
                object_type, object_id = path[len(prefix):].split("/", 1)
                if fake.objects.pop((object_type, object_id), None) is None:
                    return self.answer(404, {"statusCode": 404, "error": "Not Found",
                                             "message": f"Saved object [{object_type}/{object_id}] not found"})
                self.answer(200, {})

        super().__init__(Handler)
        self.dashboards = f"{self.url}/_dashboards"

    def import_objects(self, ndjson: str, overwrite: bool) -> dict:
        """Like the import API: objects whose references are neither in the file nor stored are rejected."""
        items = [json.loads(line) for line in ndjson.splitlines() if line.strip()]
        known = set(self.objects) | {(item["type"], item["id"]) for item in items}
        errors, results = [], []
        for item in items:
            key = (item["type"], item["id"])
            title = item.get("attributes", {}).get("title")
            missing = [ref for ref in item.get("references", []) if (ref["type"], ref["id"]) not in known]
            if missing:
                errors.append({"id": item["id"], "type": item["type"], "title": title,
                               "error": {"type": "missing_references", "references": [{"type": r["type"], "id": r["id"]} for r in missing]}})
            elif item["id"] in self.broken_ids:
                errors.append({"id": item["id"], "type": item["type"], "title": title,
                               "error": {"type": "unknown", "message": "mapper_parsing_exception", "statusCode": 400}})
            elif key in self.objects and not overwrite:
                errors.append({"id": item["id"], "type": item["type"], "title": title, "error": {"type": "conflict"}})
            else:
                self.objects[key] = item
                results.append({"type": item["type"], "id": item["id"], "meta": {"title": title}})
        answer = {"success": not errors, "successCount": len(results)}
        if results:
            answer["successResults"] = results
        if errors:
            answer["errors"] = errors
        return answer



@pytest.fixture
def fake():
    with FakeOpenSearch() as server:
        yield server


def props(fake: FakeOpenSearch, **changes) -> dict:
    return {
        "opensearch_url": fake.url,
        "dashboards_url": fake.dashboards,
        "username": USER,
        "password": PASSWORD,
        "saved_objects": NDJSON,
        "index_templates": TEMPLATES,
        "domain_name": DOMAIN,
        "region": REGION,
        "timeout_seconds": 5,
        "poll_seconds": 0.01,
        **changes,
    }


def test_create_puts_the_templates_then_imports_every_saved_object(fake):
    result = DashboardImportProvider().create(props(fake))
    expected = saved_object_ids(NDJSON)
    assert set(fake.objects) == set(expected) and len(expected) == 9
    assert result.outs["imported"] == [f"{t}/{i}" for t, i in expected]
    assert fake.templates == TEMPLATES and result.outs["templates"] == sorted(TEMPLATES)
    assert fake.uploads == [NDJSON.encode()]
    methods = [method for method, _ in fake.requests]
    assert methods == ["PUT", "PUT", "POST"]  # templates first: the indexes must not exist before their mappings
    assert fake.requests[-1][1] == "/_dashboards/api/saved_objects/_import?overwrite=true"


def test_import_again_overwrites_instead_of_conflicting(fake):
    import_saved_objects(fake.dashboards, USER, PASSWORD, NDJSON)
    assert len(import_saved_objects(fake.dashboards, USER, PASSWORD, NDJSON)) == 9


def test_partial_import_errors_are_listed_object_by_object(fake):
    fake.broken_ids = {"fraud-flag-reasons", "fraud-flagged-users-table"}
    with pytest.raises(DashboardImportError) as raised:
        import_saved_objects(fake.dashboards, USER, PASSWORD, NDJSON)
    message = str(raised.value)
    assert "2 of 9 saved objects were rejected (7 imported)" in message
    assert "visualization/fraud-flag-reasons (Why accounts were flagged): unknown: mapper_parsing_exception" in message
    assert "visualization/fraud-flagged-users-table" in message


def test_missing_references_name_what_is_missing(fake):
    dashboard_only = next(line for line in NDJSON.splitlines() if '"type":"dashboard"' in line) + "\n"
    with pytest.raises(DashboardImportError, match="missing_references visualization/fraud-flagged-users-count"):
        import_saved_objects(fake.dashboards, USER, PASSWORD, dashboard_only)
    assert fake.objects == {}


def test_a_refused_login_fails_at_once_without_the_password(fake):
    with pytest.raises(OpenSearchRefused) as raised:
        publish(props(fake, password="wrong-password"))
    assert "HTTP 401" in str(raised.value) and USER in str(raised.value)
    assert "wrong-password" not in str(raised.value) and PASSWORD not in str(raised.value)
    assert len(fake.requests) == 1  # not retried


def test_a_denied_address_names_the_config_key(fake):
    fake.failures = {1: 403}
    with pytest.raises(OpenSearchRefused, match="opensearchAccessCidrs"):
        publish(props(fake))
    assert len(fake.requests) == 1


def test_a_starting_domain_is_retried_until_it_answers(fake):
    fake.failures = {1: 503, 2: 502, 4: 503}
    result = publish(props(fake))
    assert len(result["imported"]) == 9
    # 1 and 2 fail the first template, 4 the second after the first succeeded: the templates are put again (idempotent)
    assert [m for m, _ in fake.requests] == ["PUT"] * 6 + ["POST"]


def test_a_domain_that_never_answers_times_out_with_the_last_error(fake):
    fake.failures = {n: 503 for n in range(1, 10_000)}
    started = time.monotonic()
    with pytest.raises(OpenSearchError, match="within 0.3 s; last error: index template .*HTTP 503"):
        publish(props(fake, timeout_seconds=0.3, poll_seconds=0.05))
    assert time.monotonic() - started < 5 and len(fake.requests) >= 2


def test_an_unreachable_domain_times_out():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before use: nothing listens there
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(OpenSearchError, match="did not answer successfully"):
        publish({"opensearch_url": url, "dashboards_url": url + "/_dashboards", "username": USER, "password": PASSWORD,
                 "saved_objects": NDJSON, "index_templates": TEMPLATES, "timeout_seconds": 0.2, "poll_seconds": 0.05})


def test_delete_removes_dependents_first_then_the_templates(fake):
    provider = DashboardImportProvider()
    provider.create(props(fake))
    fake.requests.clear()
    provider.delete("id", props(fake))
    assert fake.objects == {} and fake.templates == {}
    deleted = [path.rsplit("/", 2)[1] for method, path in fake.requests if method == "DELETE" and "saved_objects" in path]
    assert deleted == ["dashboard"] + ["visualization"] * 6 + ["index-pattern"] * 2
    assert [m for m, p in fake.requests][-2:] == ["DELETE", "DELETE"] and "_index_template" in fake.requests[-1][1]


def test_delete_of_objects_already_gone_succeeds(fake):
    assert delete_saved_objects(fake.dashboards, USER, PASSWORD, [("dashboard", "nope")]) == ["dashboard/nope"]
    DashboardImportProvider().delete("id", props(fake))  # nothing there: every DELETE answers 404
    assert fake.requests and all(method == "DELETE" for method, _ in fake.requests)


def test_delete_with_a_wrong_password_fails_clearly_while_the_domain_lives(fake, monkeypatch):
    DashboardImportProvider().create(props(fake))
    with opensearch_domain("active", monkeypatch), pytest.raises(OpenSearchRefused, match="HTTP 401"):
        DashboardImportProvider().delete("id", props(fake, password="stale"))
    assert len(fake.objects) == 9


def test_update_reimports_and_removes_objects_dropped_from_the_file(fake):
    provider = DashboardImportProvider()
    provider.create(props(fake))
    trimmed = "\n".join(
        line for line in NDJSON.splitlines() if "fraud-flag-reasons" not in line or '"type":"dashboard"' in line
    )
    dashboard = json.loads(next(line for line in trimmed.splitlines() if '"type":"dashboard"' in line))
    dashboard["references"] = [r for r in dashboard["references"] if r["id"] != "fraud-flag-reasons"]
    trimmed = "\n".join(line for line in trimmed.splitlines() if '"type":"dashboard"' not in line) + "\n" + json.dumps(dashboard) + "\n"
    fewer_templates = {k: v for k, v in TEMPLATES.items() if k != "fraud-flagged_transaction"}
    result = provider.update("id", props(fake), props(fake, saved_objects=trimmed, index_templates=fewer_templates))
    assert ("visualization", "fraud-flag-reasons") not in fake.objects and len(fake.objects) == 8
    assert set(fake.templates) == {"fraud-flagged_user"}
    assert len(result.outs["imported"]) == 8


def test_diff_replaces_for_another_domain_and_updates_otherwise():
    provider = DashboardImportProvider()
    old = {"opensearch_url": "https://a", "dashboards_url": "https://a/_dashboards", "username": USER, "password": PASSWORD,
           "saved_objects": NDJSON, "index_templates": TEMPLATES, "timeout_seconds": 900, "poll_seconds": 15}
    assert provider.diff("id", old, dict(old)).changes is False
    moved = provider.diff("id", old, {**old, "opensearch_url": "https://b", "dashboards_url": "https://b/_dashboards"})
    assert moved.replaces == ["opensearch_url", "dashboards_url"]
    edited = provider.diff("id", old, {**old, "saved_objects": NDJSON + "\n"})
    assert edited.changes is True and edited.replaces == []
    assert provider.diff("id", old, {**old, "password": "rotated"}).replaces == []


def test_malformed_files_fail_before_any_request(fake):
    with pytest.raises(ValueError, match="line 2: not JSON"):
        DashboardImportProvider().create(props(fake, saved_objects='{"type":"dashboard","id":"d"}\n{oops\n'))
    with pytest.raises(ValueError, match="'type' and 'id'"):
        saved_object_ids('{"id":"x"}\n')
    with pytest.raises(ValueError, match="no objects"):
        saved_object_ids("\n\n")
    assert fake.requests == []


def test_deletion_order_puts_dashboards_first_and_index_patterns_last():
    order = deletion_order([("index-pattern", "p"), ("visualization", "v"), ("dashboard", "d"), ("search", "s")])
    assert order == [("dashboard", "d"), ("visualization", "v"), ("search", "s"), ("index-pattern", "p")]


# --- an API that cannot be used: destroy finishes when the domain goes too, create and update fail ---------------


def unusable(url: str, **changes) -> dict:
    return {"opensearch_url": url, "dashboards_url": url + "/_dashboards", "username": USER, "password": PASSWORD,
            "saved_objects": NDJSON, "index_templates": TEMPLATES, "domain_name": DOMAIN, "region": REGION,
            "timeout_seconds": 0.1, "poll_seconds": 0.05, **changes}


@pytest.mark.parametrize("state", ["gone", "being deleted"])
@pytest.mark.parametrize("kind", UNUSABLE)
def test_delete_finishes_with_a_warning_when_the_api_cannot_be_used_and_the_domain_goes(kind, state, warnings, monkeypatch):
    with unusable_api(kind, monkeypatch) as url, opensearch_domain(state, monkeypatch):
        DashboardImportProvider().delete("id", unusable(url))
    [warning] = warnings
    assert f"OpenSearch domain {DOMAIN} is {state}" in warning and "deleting the dashboard" in warning
    assert {"403": "HTTP 403", "refused": "ConnectionError", "timeout": "Timeout"}[kind] in warning
    assert PASSWORD not in warning


@pytest.mark.parametrize("kind", UNUSABLE)
def test_delete_fails_when_the_api_cannot_be_used_but_the_domain_lives(kind, warnings, monkeypatch):
    """Its objects would stay behind in a domain that stays: the operator must fix the access, not be told it worked."""
    expected = OpenSearchRefused if kind == "403" else OpenSearchError
    with unusable_api(kind, monkeypatch) as url, opensearch_domain("active", monkeypatch), pytest.raises(expected) as raised:
        DashboardImportProvider().delete("id", unusable(url))
    assert "opensearchAccessCidrs" in str(raised.value) if kind == "403" else "within 0.1 s" in str(raised.value)
    assert warnings == []


@pytest.mark.parametrize("state", ["active", "gone"])
@pytest.mark.parametrize("kind", UNUSABLE)
def test_create_and_update_fail_loudly_whatever_the_domain(kind, state, warnings, monkeypatch):
    expected = OpenSearchRefused if kind == "403" else OpenSearchError
    with unusable_api(kind, monkeypatch) as url, opensearch_domain(state, monkeypatch):
        with pytest.raises(expected):
            DashboardImportProvider().create(unusable(url))
        with pytest.raises(expected):
            DashboardImportProvider().update("id", unusable(url), unusable(url, poll_seconds=0.04))
    assert warnings == []


def test_a_delete_that_cannot_look_the_domain_up_fails_with_both_reasons(warnings, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with unusable_api("403", monkeypatch) as url, pytest.raises(OpenSearchError) as raised:
        DashboardImportProvider().delete("id", unusable(url))
    assert "HTTP 403" in str(raised.value) and f"whether domain {DOMAIN} still exists could not be checked" in str(raised.value)
    assert warnings == []


def test_the_import_and_the_sink_user_are_deleted_with_their_domain(dev):
    """When the domain is deleted in the same run, Pulumi skips their deletes (no API call at all)."""
    domain = dev.one("aws:opensearch/domain:Domain")
    for name in ("fraud-dev-opensearch-dashboard", "fraud-dev-opensearch-sink-user"):
        resource = dev.named(name)
        assert resource.options["deleted_with"] == domain.urn
        assert resource.inputs["domain_name"] == domain.inputs["domainName"]
        assert resource.inputs["region"] == REGION


def test_provider_pickles_and_loads_in_a_fresh_interpreter():
    assert provider_class_in_a_fresh_interpreter(DashboardImportProvider()) == "DashboardImportProvider"
