"""Issue 18.7: every error on an API path is JSON, and a rejected request writes nothing.

Cases that Django itself answers (oversized body, bad Host header, too many parameters, CSRF failure, unknown
path, uncaught exception) as well as the views' own checks (a body nested thousands of levels deep).
"""
import json
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from transactions import scenarios
from transactions.models import UserTransaction

STREAM, FRAUD, RECENT = "/api/transactions/stream", "/api/fraud", "/api/transactions"
WRITES = (STREAM, FRAUD)


@pytest.fixture
def fresh(seeded):
    """Seeded customers, no transactions yet."""
    UserTransaction.objects.all().delete()


@pytest.fixture
def api(fresh):
    """A client that passes the CSRF check the way the page does, so only the input under test is wrong."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    token = client.get("/").context["csrf_token"]
    client.defaults["HTTP_X_CSRFTOKEN"] = str(token)
    return client


def rejected(response, status: int) -> dict:
    """The response is a JSON error with this status, and nothing was written."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert isinstance(body["error"], str) and body["error"]
    assert not UserTransaction.objects.exists()
    assert User.objects.count() == 20  # the seeded customers, no more and no fewer
    return body


def test_the_api_client_can_write(api):
    """The baseline the rejections below are measured against: the same client, a good request, a write."""
    response = api.post(FRAUD, data={"type": "large_amount"}, content_type="application/json")
    assert response.status_code == 201 and UserTransaction.objects.count() == 1


@pytest.mark.parametrize("url", WRITES)
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_upload_limit_is_413(api, url, content_type):
    body = b'{"type": "large_amount", "pad": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    answer = rejected(api.post(url, data=body, content_type=content_type), 413)
    assert f"at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes" in answer["error"]


@pytest.mark.parametrize("url", WRITES)
@pytest.mark.parametrize("nested", [
    "[" * 20_000 + "]" * 20_000,
    '{"type": ' + "[" * 20_000 + "]" * 20_000 + "}",
    '{"a":' * 5_000 + "1" + "}" * 5_000,
])
def test_a_body_nested_thousands_deep_is_400_not_500(api, url, nested):
    assert len(nested) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # it reaches the JSON parser
    answer = rejected(api.post(url, data=nested, content_type="application/json"), 400)
    assert answer["field"] == "body" and "nested too deeply" in answer["error"]


@pytest.mark.parametrize(("url", "method"), [(STREAM, "post"), (FRAUD, "post"), (RECENT, "get")])
def test_a_host_this_site_does_not_serve_is_400(api, url, method):
    response = getattr(api, method)(url, headers={"Host": "attacker.example"})
    answer = rejected(response, 400)
    assert "Host header" in answer["error"] and "attacker.example" not in answer["error"]


def test_the_page_keeps_django_s_own_400_page_for_a_bad_host(api):
    response = api.get("/", headers={"Host": "attacker.example"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


def test_too_many_query_parameters_is_400(api):
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    answer = rejected(api.get(f"{RECENT}?{query}"), 400)
    assert "too many query or form parameters" in answer["error"]


@pytest.mark.parametrize("url", WRITES)
@pytest.mark.parametrize("token", [None, "wrong" * 8])
def test_a_csrf_failure_is_403(fresh, url, token):
    client = Client(enforce_csrf_checks=True)
    client.get("/")  # the cookie, without using its token
    headers = {} if token is None else {"X-CSRFToken": token}
    answer = rejected(client.post(url, data={"type": "large_amount"}, content_type="application/json",
                                  headers=headers), 403)
    assert answer["error"].startswith("CSRF check failed")


def test_the_admin_keeps_django_s_own_csrf_page(fresh):
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/nothing-here"), ("post", "/api/nothing-here"), ("get", "/api/transactions/"),
    ("post", "/api/fraud/"), ("delete", "/api/"),
])
def test_an_unknown_api_path_is_404(api, method, path):
    answer = rejected(getattr(api, method)(path), 404)
    assert path in answer["error"]


def test_an_unknown_page_path_keeps_django_s_own_404_page(api):
    response = api.get("/nothing-here")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("method", "url"), [("get", STREAM), ("put", FRAUD), ("post", RECENT)])
def test_a_wrong_method_is_405(api, method, url):
    rejected(getattr(api, method)(url), 405)


@pytest.mark.parametrize(("url", "body", "generator"), [
    (STREAM, {}, "normal_transaction"), (FRAUD, {"type": "large_amount"}, "fraud_transactions"),
])
def test_an_uncaught_exception_is_a_json_500(api, url, body, generator):
    with mock.patch.object(scenarios, generator, side_effect=RuntimeError("a bug")):
        response = api.post(url, data=body, content_type="application/json")
    answer = rejected(response, 500)
    assert "a bug" not in answer["error"]


@pytest.mark.parametrize("body", ['{"type": "large_amount"}', "[]", "{not json", "\"\""])
def test_the_stream_takes_no_input(api, body):
    answer = rejected(api.post(STREAM, data=body, content_type="application/json"), 400)
    assert answer["field"] in ("type", "body")


@pytest.mark.parametrize("body", ["", "{}"])
def test_the_stream_accepts_an_empty_body_or_object(api, body):
    assert api.post(STREAM, data=body, content_type="application/json").status_code == 201
