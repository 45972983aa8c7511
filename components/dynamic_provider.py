"""What the stack's dynamic providers share: a deadline, polling, HTTP calls with retries, a log tail for errors.

Pulumi runs a dynamic provider in a process of its own, from a pickled copy of the provider object (dill
pickles its class by reference), so everything here lives in an importable module and keeps no client,
session or clock between calls. A provider module keeps only its own logic: what it waits for or sends,
which inputs replace or update it, and what its errors tell the operator.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, TypeVar

import pulumi
from pulumi.dynamic import DiffResult, ResourceProvider

REQUEST_TIMEOUT_SECONDS = 30  # one HTTP request
ANSWER_CHARS = 300  # of an HTTP answer, quoted in an error
LOG_TAIL_CHARS = 3000  # of a log, quoted in an error (an SSM String parameter holds 4 KB)

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class StackProvider(ResourceProvider):
    """A dynamic provider whose diff looks at named inputs only.

    A change to one of ``replacing`` replaces the resource (the new one is created before the old one is
    deleted), a change to one of ``updating`` updates it in place, and anything else is no change.
    """

    replacing: tuple[str, ...] = ()
    updating: tuple[str, ...] = ()

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in self.replacing if olds.get(key) != news.get(key)]
        updates = [key for key in self.updating if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)


# --- deadline and polling -----------------------------------------------------------------------------------------


class Deadline:
    """The moment waiting stops. Sleeps never run past it."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(self._end - self._clock(), 0.0)

    def passed(self) -> bool:
        return self._clock() >= self._end

    def pause(self, poll_seconds: float, sleep: Sleep = time.sleep) -> None:
        sleep(min(poll_seconds, self.remaining()))


class NotYet(Exception):
    """Raised by an attempt that may succeed later; its text is the latest news, which a timeout reports."""


def keep_trying(
    attempt: Callable[[], T],
    timeout_seconds: float,
    poll_seconds: float,
    gave_up: Callable[[NotYet], Exception],
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> T:
    """Run ``attempt`` until it returns. ``NotYet`` is retried every ``poll_seconds`` until the deadline, then
    ``gave_up(latest)`` is raised; any other exception ends the wait at once."""
    deadline = Deadline(timeout_seconds, clock)
    while True:
        try:
            return attempt()
        except NotYet as latest:
            if deadline.passed():
                raise gave_up(latest) from None
            deadline.pause(poll_seconds, sleep)


# --- HTTP -----------------------------------------------------------------------------------------------------------


class Refused(Exception):
    """The service refused the caller (HTTP 401 or 403): asking again gets the same answer."""


class Unavailable(NotYet):
    """No answer (refused connection, timeout, unknown host) or a 429 or 5xx one: the service may be starting."""


class Rejected(Exception):
    """Another 4xx answer: the request itself is wrong, so sending it again cannot help."""


def refused_plainly(what: str, response: Any) -> Exception:
    return Refused(f"{what}: HTTP {response.status_code}: {response.text[:ANSWER_CHARS]}")


def send(
    http: Any,
    method: str,
    url: str,
    what: str,
    refused: Callable[[str, Any], Exception] = refused_plainly,
    accept: Iterable[int] = (),
    **request: Any,
) -> Any:
    """One HTTP request through ``http`` (a requests Session, or the requests module), its answer classified.

    Returns the response when it succeeded or its status is in ``accept``; raises ``refused(what, response)``
    on 401/403, ``Unavailable`` when nothing or a 429/5xx came back, ``Rejected`` on any other 4xx.
    """
    import requests

    try:
        response = http.request(method, url, timeout=REQUEST_TIMEOUT_SECONDS, **request)
    except (requests.ConnectionError, requests.Timeout) as error:
        raise Unavailable(f"{what}: no answer from {url} ({type(error).__name__}: {error})") from None
    status = response.status_code
    if status < 400 or status in accept:
        return response
    if status in (401, 403):
        raise refused(what, response)
    if status == 429 or status >= 500:
        raise Unavailable(f"{what}: HTTP {status}: {response.text[:ANSWER_CHARS]}")
    raise Rejected(f"{what}: HTTP {status}: {response.text[:ANSWER_CHARS]}")


# --- AWS, logs and warnings -------------------------------------------------------------------------------------------


def aws_client(service: str, region: str) -> Any:
    """A boto3 client made by the call that uses it (credentials from the standard chain, as the AWS provider's)."""
    import boto3

    return boto3.client(service, region_name=region)


def log_tail(text: str, limit: int = LOG_TAIL_CHARS) -> str:
    """The end of a log: at most ``limit`` characters, starting with a whole line."""
    text = text.rstrip("\n")
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    newline = tail.find("\n")
    return tail[newline + 1 :] if newline >= 0 else tail


def warn(message: str) -> None:
    """A warning for the operator. In a dynamic provider's process Pulumi's log has no engine connection and
    writes ``warning: ...`` to stderr, which the engine shows as the plugin's output (pulumi/pulumi
    sdk/go/common/resource/plugin/plugin.go forwards a plugin's stderr lines to its diagnostics)."""
    pulumi.log.warn(message)
