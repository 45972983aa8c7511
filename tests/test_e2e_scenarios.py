"""The shared scenario driver against the real web app (SQLite, `manage.py runserver`, its real CSRF check), and
the one definition of "the four scenarios are flagged" that both `make e2e` and `make demo`'s test use."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from e2e.scenarios import (
    TRANSACTION_FLAGGED,
    USER_FLAGGED,
    AppClient,
    DriverError,
    Flags,
    FlagsUnavailable,
    Posted,
    post_all,
    verdict,
    wait_for_flags,
)
from e2e.waiting import CheckFailed
from tests.local_http import LocalServer
from tests.system import free_port
from transactions import scenarios

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The web app in local mode on a free port, seeded with 20 customers."""
    workdir = tmp_path_factory.mktemp("app")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORACLE_HOST", "LOCAL_CDC_FEED", "LOCAL_FLINK_RESULTS", "DJANGO_ADMIN_PASSWORD", "SEED_USERS")}
    # DEBUG only so that the page's static URLs need no collectstatic into the shared app/staticfiles; the CSRF
    # check, hosts and API behave as in production.
    env.update(SQLITE_PATH=str(workdir / "db.sqlite3"), DJANGO_DEBUG="true", PYTHONUNBUFFERED="1")
    manage = [sys.executable, str(ROOT / "app" / "manage.py")]
    for command in (["migrate", "--noinput", "-v", "0"], ["seed", "--users", "20"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = open(workdir / "web.log", "wb")
    process = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("the app did not start:\n" + (workdir / "web.log").read_text())
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_the_driver_posts_the_four_scenarios_through_the_api_with_the_pages_csrf_token(app_url):
    client = AppClient(app_url)
    posted = post_all(client)
    assert [p.fraud_type for p in posted] == list(scenarios.FRAUD_TYPES)
    counts = {p.fraud_type: len(p.transaction_ids) for p in posted}
    assert counts["burst_count"] == scenarios.BURST_COUNT and counts["large_amount"] == counts["foreign_ip"] == 1
    # What the app stored is what the driver recorded: ids, accounts and, for foreign_ip, a foreign address.
    recent = {t["id"]: t for t in requests.get(f"{app_url}/api/transactions?limit=200", timeout=10).json()["transactions"]}
    for p in posted:
        assert {recent[i]["username"] for i in p.transaction_ids} == {p.username}
    (foreign,) = [p for p in posted if p.fraud_type == "foreign_ip"]
    assert recent[foreign.transaction_ids[0]]["ip_address"] in scenarios.FOREIGN_IPS


def test_a_named_customer_gets_the_scenario(app_url):
    client = AppClient(app_url)
    first = client.post_scenario("large_amount")
    again = client.post_scenario("burst_amount", username=first.username)
    assert again.username == first.username


def test_a_post_with_a_wrong_token_fails_the_apps_csrf_check_with_its_message(app_url):
    client = AppClient(app_url)
    client.open_page()
    client.token = "x" * 64
    with pytest.raises(DriverError, match=r"HTTP 403: CSRF check failed"):
        client.post_scenario("burst_count")


def test_an_unknown_scenario_is_refused_with_the_apps_message(app_url):
    with pytest.raises(DriverError, match=r"HTTP 400: type must be one of: burst_count"):
        AppClient(app_url).post_scenario("phishing")


def test_a_page_without_the_apps_token_is_a_clear_error():
    from tests.local_http import JsonHandler

    class Page(JsonHandler):
        def do_GET(self):
            body = b"<html><main id='app' data-url-stream='/api/stream'></main></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with LocalServer(Page) as server, pytest.raises(DriverError, match="no data-csrf-token, data-url-fraud"):
        AppClient(server.url).post_scenario("burst_count")


def posted(fraud_type, username, *ids):
    return Posted(fraud_type, username, tuple(ids), 0.0)


FOUR = [posted("burst_count", "ann", 1, 2), posted("burst_amount", "bob", 3), posted("large_amount", "cy", 4),
        posted("foreign_ip", "dee", 5)]


def test_each_scenario_is_flagged_where_flink_flags_it():
    assert set(USER_FLAGGED) | set(TRANSACTION_FLAGGED) == set(scenarios.FRAUD_TYPES)
    assert not set(USER_FLAGGED) & set(TRANSACTION_FLAGGED)


def test_verdict_names_each_missing_flag_and_each_unexplained_one():
    complete = Flags(users=[{"username": u} for u in ("ann", "bob", "cy")], transactions=[{"transaction_id": 5}])
    assert verdict(FOUR, complete).complete
    partial = Flags(users=[{"username": "ann"}, {"username": "eve"}], transactions=[{"transaction_id": 4}])
    result = verdict(FOUR, partial)
    assert result.missing == ["burst_amount: no flagged_user for bob", "large_amount: no flagged_user for cy",
                              "foreign_ip: no flagged_transaction for transaction(s) [5] of dee"]
    assert result.unexpected == ["flagged_user {'username': 'eve'}", "flagged_transaction {'transaction_id': 4}"]


def test_the_foreign_ip_customer_is_not_flagged_as_a_user():
    flags = Flags(users=[{"username": u} for u in ("ann", "bob", "cy", "dee")], transactions=[{"transaction_id": "5"}])
    assert verdict(FOUR, flags).unexpected == ["flagged_user {'username': 'dee'}"]


def test_waiting_reads_until_every_flag_is_there():
    answers = [FlagsUnavailable("index flagged_user does not exist yet"),
               Flags(users=[{"username": "ann"}], transactions=[]),
               Flags(users=[{"username": u} for u in ("ann", "bob", "cy")], transactions=[{"transaction_id": 5}])]

    def read():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    flags = wait_for_flags(read, FOUR, timeout=5, poll=0)
    assert len(flags.users) == 3 and answers == []


def test_waiting_stops_at_once_on_a_flag_nothing_explains():
    reads = []

    def read():
        reads.append(1)
        return Flags(users=[{"username": "mallory"}], transactions=[])

    with pytest.raises(CheckFailed, match="flagged without a fraud scenario: flagged_user .*mallory"):
        wait_for_flags(read, FOUR, timeout=60, poll=0)
    assert len(reads) == 1


def test_waiting_gives_up_naming_what_is_missing():
    now = [0.0]
    with pytest.raises(CheckFailed, match=r"not within 30 s; last seen: .*no flagged_user for bob"):
        wait_for_flags(lambda: Flags(users=[{"username": "ann"}], transactions=[]), FOUR[:2], timeout=30, poll=10,
                       clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
