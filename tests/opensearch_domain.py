"""What the OpenSearch provider tests share: an API that cannot be used in the three ways a destroy meets it, and
the domain as the OpenSearch Service API (moto) reports it."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import boto3
import pulumi
import pytest
from moto import mock_aws

from tests.local_http import JsonHandler, LocalServer
from tests.system import free_port

DOMAIN = "fraud-test-search"
REGION = "eu-central-1"
# How the API can fail a caller: the access policy denies its address (403, evaluated before any login:
# FACTS, AWS OpenSearch fgac.html), nothing listens (the domain is gone), or nothing answers in time.
UNUSABLE = ("403", "refused", "timeout")


class DenyingServer(LocalServer):
    """Answers every request as a domain's access policy does to an address it does not name."""

    def __init__(self):
        class Handler(JsonHandler):
            def deny(self):
                self.answer(403, {"Message": "User: anonymous is not authorized to perform: es:ESHttpDelete"})

            do_GET = do_PUT = do_POST = do_DELETE = deny

        super().__init__(Handler)


class SilentServer(LocalServer):
    """Accepts connections and never answers, until the test ends."""

    def __init__(self):
        self.release = threading.Event()
        release = self.release

        class Handler(JsonHandler):
            def hang(self):
                release.wait(10)

            do_GET = do_PUT = do_POST = do_DELETE = hang

        super().__init__(Handler)

    def __exit__(self, *exc) -> None:
        self.release.set()
        super().__exit__(*exc)


@contextlib.contextmanager
def unusable_api(kind: str, monkeypatch) -> Iterator[str]:
    """The base URL of an OpenSearch API that fails in the given way. A request gives up after half a second where
    an answer comes (403), after a tenth where none ever will (timeout): the wait proves nothing more for being longer."""
    monkeypatch.setattr("components.dynamic_provider.REQUEST_TIMEOUT_SECONDS", 0.1 if kind == "timeout" else 0.5)
    if kind == "refused":
        yield f"http://127.0.0.1:{free_port()}"  # the port was free a moment ago: nothing listens there
        return
    server = {"403": DenyingServer, "timeout": SilentServer}[kind]()
    with server:
        yield server.url


@contextlib.contextmanager
def opensearch_domain(state: str, monkeypatch) -> Iterator[None]:
    """The domain as DescribeDomain reports it: ``active``, ``being deleted`` (Deleted set) or ``gone`` (not found)."""
    for variable, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(variable, value)
    with mock_aws():
        if state != "gone":
            boto3.client("opensearch", region_name=REGION).create_domain(DomainName=DOMAIN, EngineVersion="OpenSearch_2.19")
        if state == "being deleted":
            from moto.core import DEFAULT_ACCOUNT_ID
            from moto.opensearch.models import opensearch_backends

            opensearch_backends[DEFAULT_ACCOUNT_ID][REGION].domains[DOMAIN].deleted = True  # deletion under way
        yield


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    """What the providers tell the operator as warnings (through Pulumi's log, which the engine shows)."""
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: said.append(message))
    return said
