"""The four fraud scenarios, driven through the app's API the way its page does, and what "flagged" means.

One definition serves both pipelines: `make e2e` reads the flags from OpenSearch (what the dashboard shows),
`make demo`'s test from the page's ``/api/local/flags`` (what local Flink produced). Both post the scenarios
with ``AppClient`` and judge the flags with ``verdict``:

- ``burst_count``, ``burst_amount`` and ``large_amount`` raise a ``flagged_user`` row for the account (matched
  by username);
- ``foreign_ip`` raises a ``flagged_transaction`` row for each transaction it wrote (matched by id);
- no other account and no other transaction is flagged: the normal traffic around the scenarios (the page's
  stream, the seeded sample transactions) must stay unflagged.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "app") not in sys.path:
    sys.path.insert(0, str(ROOT / "app"))  # transactions.scenarios is plain Python, no Django needed

from transactions import scenarios  # noqa: E402

from e2e.waiting import CheckFailed, wait_until  # noqa: E402

# What flink/ raises for each scenario (flagged_user: one row per account; flagged_transaction: one per transaction).
USER_FLAGGED = ("burst_count", "burst_amount", "large_amount")
TRANSACTION_FLAGGED = ("foreign_ip",)
REQUEST_TIMEOUT_SECONDS = 30


class FlagsUnavailable(Exception):
    """The flag store cannot answer yet (e.g. an index the sink has not created); worth asking again."""


class DriverError(CheckFailed):
    """The app did not accept a request the way its page sends it."""


@dataclass(frozen=True)
class Posted:
    """One scenario as the app wrote it: the account it chose and the ids of the transactions."""

    fraud_type: str
    username: str
    transaction_ids: tuple[int, ...]
    posted_at: float  # time.time() when the app answered


@dataclass(frozen=True)
class Flags:
    """What a pipeline flagged: flagged_user rows (documents) and flagged_transaction rows."""

    users: list[dict]
    transactions: list[dict]


@dataclass(frozen=True)
class Verdict:
    missing: list[str]
    unexpected: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unexpected


def _transaction_id(row: dict) -> int | None:
    try:
        return int(str(row.get("transaction_id")))
    except ValueError:
        return None


def verdict(posted: Sequence[Posted], flags: Flags) -> Verdict:
    """Which expected flags are still missing and which flags nothing posted explains."""
    flagged_users = {str(row.get("username")) for row in flags.users}
    flagged_transactions = {_transaction_id(row) for row in flags.transactions}
    expected_users = {p.username for p in posted if p.fraud_type in USER_FLAGGED}
    expected_transactions = {i for p in posted if p.fraud_type in TRANSACTION_FLAGGED for i in p.transaction_ids}
    missing = []
    for p in posted:
        if p.fraud_type in USER_FLAGGED and p.username not in flagged_users:
            missing.append(f"{p.fraud_type}: no flagged_user for {p.username}")
        unflagged = [i for i in p.transaction_ids if i not in flagged_transactions]
        if p.fraud_type in TRANSACTION_FLAGGED and unflagged:
            missing.append(f"{p.fraud_type}: no flagged_transaction for transaction(s) {unflagged} of {p.username}")
    unexpected = [f"flagged_user {row}" for row in flags.users if str(row.get("username")) not in expected_users]
    unexpected += [f"flagged_transaction {row}" for row in flags.transactions
                   if _transaction_id(row) not in expected_transactions]
    return Verdict(missing, unexpected)


def wait_for_flags(
    read: Callable[[], Flags],
    posted: Sequence[Posted],
    timeout: float,
    poll: float,
    **waiting,
) -> Flags:
    """Read the flags until every posted scenario is flagged; CheckFailed naming what is missing when time runs
    out, and at once when something is flagged that nothing posted explains (waiting cannot undo a flag).
    ``read`` raises ``FlagsUnavailable`` while the store cannot answer yet. Nothing is written between reads: a
    flag must come without any later transaction to carry it (flink/README.md, "How flagged_user decides")."""
    seen: list[Flags] = []

    def probe() -> tuple[bool, str]:
        try:
            flags = read()
        except FlagsUnavailable as error:
            return False, str(error)
        result = verdict(posted, flags)
        if result.unexpected:
            raise CheckFailed("flagged without a fraud scenario: " + "; ".join(result.unexpected))
        seen.append(flags)
        return not result.missing, "; ".join(result.missing)

    wait_until(probe, f"the flags of {', '.join(p.fraud_type for p in posted)}", timeout, poll, **waiting)
    return seen[-1]


class _AppElement(HTMLParser):
    """The data attributes of the page's ``<main id="app">``, where app.js reads its token and URLs."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        values = dict(attrs)
        if values.get("id") == "app" and self.data is None:
            self.data = {key: value or "" for key, value in values.items() if key.startswith("data-")}


class AppClient:
    """The app's JSON API, called as its page calls it (app.js): the page is fetched first, its CSRF cookie
    kept in the session and its token sent back in X-CSRFToken on every POST, with the page's Origin."""

    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.urls: dict[str, str] = {}
        self.token = ""

    def open_page(self) -> None:
        response = self.session.get(self.base_url, timeout=REQUEST_TIMEOUT_SECONDS)
        if response.status_code != 200:
            raise DriverError(f"GET {self.base_url} answered HTTP {response.status_code}, expected the demo page")
        page = _AppElement()
        page.feed(response.text)
        data = page.data or {}
        missing = [name for name in ("data-csrf-token", "data-url-fraud") if not data.get(name)]
        if missing:
            raise DriverError(f"the page at {self.base_url} has no {', '.join(missing)} on <main id=\"app\">")
        if "csrftoken" not in self.session.cookies:
            raise DriverError(f"the page at {self.base_url} set no csrftoken cookie; POSTs would fail the CSRF check")
        self.token = data["data-csrf-token"]
        self.urls = {"fraud": urljoin(self.base_url, data["data-url-fraud"])}

    def _post(self, kind: str, body: dict) -> dict:
        if not self.token:
            self.open_page()
        parts = urlsplit(self.base_url)
        url = self.urls[kind]
        response = self.session.post(
            url,
            data=json.dumps(body),
            headers={"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": self.token,
                     "Origin": f"{parts.scheme}://{parts.netloc}", "Referer": self.base_url},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 201:
            reason = data.get("error") or response.text[:200]
            raise DriverError(f"POST {url} {json.dumps(body)} answered HTTP {response.status_code}: {reason}")
        return data

    def post_scenario(self, fraud_type: str, username: str | None = None) -> Posted:
        """One fraud scenario for the named customer (or one the app picks), as the page's buttons post it."""
        body = {"type": fraud_type, **({"username": username} if username else {})}
        data = self._post("fraud", body)
        return Posted(fraud_type, data["username"], tuple(int(t["id"]) for t in data["transactions"]), time.time())


def post_all(client: AppClient, fraud_types: Sequence[str] = scenarios.FRAUD_TYPES) -> list[Posted]:
    return [client.post_scenario(fraud_type) for fraud_type in fraud_types]


def page_flags(session: requests.Session, base_url: str) -> Flags:
    """The flags `make demo` shows on its page (``GET /api/local/flags``: local Flink's flagged tables)."""
    url = urljoin(base_url.rstrip("/") + "/", "api/local/flags")
    response = session.get(url, headers={"Accept": "application/json"}, timeout=REQUEST_TIMEOUT_SECONDS)
    if response.status_code != 200:
        raise FlagsUnavailable(f"GET {url} answered HTTP {response.status_code}: {response.text[:200]}")
    data = response.json()
    return Flags(users=data["flagged_users"], transactions=data["flagged_transactions"])
