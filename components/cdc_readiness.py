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
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

# Inputs whose change means different subjects (or another registry) to wait for.
REPLACING_INPUTS = ("endpoint", "subjects")
REQUEST_TIMEOUT_SECONDS = 30


class CdcNotReady(Exception):
    """The CDC subjects did not all appear in time."""


class SchemaRegistryAuthError(Exception):
    """Schema Registry refused the API key; retrying cannot help."""


def list_subjects(endpoint: str, api_key: str, api_secret: str, session: Any = None) -> set[str]:
    """The registry's subjects; raises SchemaRegistryAuthError on 401/403, requests' errors otherwise."""
    import requests

    http = session or requests
    response = http.get(
        f"{endpoint.rstrip('/')}/subjects",
        auth=(api_key, api_secret),
        headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if response.status_code in (401, 403):
        raise SchemaRegistryAuthError(
            f"Schema Registry at {endpoint} refused API key {api_key} (HTTP {response.status_code}): check that the key "
            f"exists, belongs to this registry and that its owner may read the CDC subjects "
            f"(role binding DeveloperRead on the subjects)"
        )
    response.raise_for_status()
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
    deadline = clock() + timeout_seconds
    missing = wanted
    last_error = ""
    with requests.Session() as session:
        while True:
            try:
                registered = list_subjects(endpoint, api_key, api_secret, session)
                missing = [subject for subject in wanted if subject not in registered]
                last_error = ""
            except (requests.RequestException, ValueError) as error:  # the registry may be briefly unavailable
                last_error = f"; last error: {error}"
            if not missing and not last_error:
                return wanted
            if clock() >= deadline:
                raise CdcNotReady(
                    f"the CDC topics' schemas did not appear in Schema Registry within {timeout_seconds / 60:g} minutes "
                    f"(cdcReadyTimeoutMinutes); missing subjects: {', '.join(missing)}{last_error}. A CDC topic and its "
                    f"schema appear only once its table has produced a record: check the source connector's status "
                    f"and that the app has written users and transactions."
                )
            sleep(min(poll_seconds, max(deadline - clock(), 0)))


class CdcReadyProvider(ResourceProvider):
    """Dynamic provider of the gate; holds no client, so it pickles cleanly."""

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

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACING_INPUTS if olds.get(key) != news.get(key)]
        updates = [key for key in ("api_key", "api_secret", "timeout_seconds", "poll_seconds") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Same subjects in the same registry: they are already there (a rotated key or a new timeout).
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
