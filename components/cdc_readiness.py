"""CdcReadiness: holds `pulumi up` until the CDC topics' value schemas are in Schema Registry.

A Flink table over a CDC topic exists only once the topic and its value schema exist, and the connector
creates a topic only when its table has produced a record. So Flink statements wait for this gate, which
lists the registry's subjects (``GET /subjects`` with the Schema Registry API key) until every
``<topic>-value`` subject is there. It gives up after a bounded time naming the missing subjects, and at
once when the registry refuses the key (HTTP 401/403): waiting would not change that answer.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, UpdateResult

from components.dynamic_provider import NotYet, Rejected, StackProvider, keep_trying, send


class CdcNotReady(Exception):
    """The CDC subjects did not all appear in time."""


class SchemaRegistryAuthError(Exception):
    """Schema Registry refused the API key; retrying cannot help."""


def list_subjects(endpoint: str, api_key: str, api_secret: str, session: Any = None) -> set[str]:
    """The registry's subjects; raises SchemaRegistryAuthError on 401/403, the shared HTTP errors otherwise."""
    import requests

    def refused(_what: str, response: Any) -> Exception:
        return SchemaRegistryAuthError(
            f"Schema Registry at {endpoint} refused API key {api_key} (HTTP {response.status_code}): check that the key "
            f"exists, belongs to this registry and that its owner may read the CDC subjects "
            f"(role binding DeveloperRead on the subjects)"
        )

    response = send(
        session or requests, "GET", f"{endpoint.rstrip('/')}/subjects", "Schema Registry GET /subjects", refused, auth=(api_key, api_secret),
        headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
    )
    subjects = response.json()
    if not isinstance(subjects, list):
        raise ValueError(f"Schema Registry at {endpoint} answered GET /subjects with {subjects!r}, expected a list")
    return set(subjects)


def wait_for_subjects(
    endpoint: str,
    api_key: str,
    api_secret: str,
    subjects: list[str],
    timeout_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Poll until every subject is registered; raise CdcNotReady on timeout, SchemaRegistryAuthError at once."""
    import requests

    wanted = sorted(set(subjects))
    missing = wanted

    with requests.Session() as session:

        def attempt() -> list[str]:
            nonlocal missing
            try:
                registered = list_subjects(endpoint, api_key, api_secret, session)
            except (NotYet, Rejected, requests.RequestException, ValueError) as error:
                raise NotYet(f"; last error: {error}") from None  # the registry may be briefly unavailable
            missing = [subject for subject in wanted if subject not in registered]
            if missing:
                raise NotYet("")
            return wanted

        def gave_up(latest: NotYet) -> CdcNotReady:
            return CdcNotReady(
                f"the CDC topics' schemas did not appear in Schema Registry within {timeout_seconds / 60:g} minutes "
                f"(cdcReadyTimeoutMinutes); missing subjects: {', '.join(missing)}{latest}. A CDC topic and its "
                f"schema appear only once its table has produced a record: check the source connector's status "
                f"and that the app has written users and transactions."
            )

        return keep_trying(attempt, timeout_seconds, poll_seconds, gave_up, sleep, clock)


class CdcReadyProvider(StackProvider):
    """Dynamic provider of the gate. Other subjects or another registry wait again; a rotated key or a new
    timeout changes nothing (the subjects are already there)."""

    replacing = ("endpoint", "subjects")
    updating = ("api_key", "api_secret", "timeout_seconds", "poll_seconds")

    def create(self, props: dict[str, Any]) -> CreateResult:
        found = wait_for_subjects(
            props["endpoint"],
            props["api_key"],
            props["api_secret"],
            list(props["subjects"]),
            float(props["timeout_seconds"]),
            float(props["poll_seconds"]),
        )
        return CreateResult(id_="cdc-ready-" + "-".join(found)[:200], outs={**props, "found": found})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, "found": olds.get("found", list(news["subjects"]))})


class CdcReadiness(pulumi.dynamic.Resource):
    """Created once every CDC value subject is registered; Flink statements ``depends_on`` it."""

    found: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[str],
        api_key: pulumi.Input[str],
        api_secret: pulumi.Input[str],
        subjects: list[str],
        timeout_seconds: int,
        poll_seconds: int = 15,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(
            CdcReadyProvider(),
            name,
            {
                "endpoint": endpoint,
                "api_key": pulumi.Output.secret(api_key),
                "api_secret": pulumi.Output.secret(api_secret),
                "subjects": subjects,
                "timeout_seconds": timeout_seconds,
                "poll_seconds": poll_seconds,
                "found": None,
            },
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["api_key", "api_secret"])),
        )
