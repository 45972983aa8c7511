"""One OpenSearch domain's REST APIs, called as its master user: what DashboardImport and OpenSearchSinkUser share.

Both put objects into the domain from the machine running Pulumi, which the domain's access policy must admit
(``opensearchAccessCidrs``), and take them out again on delete. A new domain can answer with 5xx or not at all
for a while after it reports active; such answers are retried until a deadline. A refused login (401) or a
request the access policy denies (403) fails at once, naming what to fix.

Destroy must not hang on an API it can no longer reach (the operator's address changed, a 401/403, the domain
gone). Both resources are ``deleted_with`` their domain, so when the domain goes in the same run Pulumi does not
call their delete at all (https://www.pulumi.com/docs/iac/concepts/resources/options/deletedwith/ and
pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply, read 2026-12-01). When their delete does run and
the API refuses or does not answer, the domain is looked up through the OpenSearch Service API: gone or being
deleted means there is nothing left to clean up, and the delete finishes with a warning; a live domain means
objects would be left behind, and it fails. Create and update never take that way out.
"""
from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from components.dynamic_provider import (
    ANSWER_CHARS,
    NotYet,
    Refused,
    aws_client,
    keep_trying,
    send,
    warn,
)

T = TypeVar("T")


class OpenSearchRefused(Refused):
    """OpenSearch refused the credentials (401) or its access policy denied the caller (403)."""


class OpenSearchError(Exception):
    """OpenSearch did not answer successfully before the deadline, or rejected what was sent."""


def call(
    http: Any, method: str, url: str, what: str, username: str, password: str, accept: tuple[int, ...] = (),
    **request: Any,
) -> Any:
    """One request as ``username`` (basic auth over HTTPS); a 401/403 becomes OpenSearchRefused with the fix."""

    def refused(what: str, response: Any) -> Exception:
        if response.status_code == 401:
            return OpenSearchRefused(
                f"{what}: OpenSearch refused user {username!r} (HTTP 401): the master user's password in the stack "
                f"does not match the domain's"
            )
        return OpenSearchRefused(
            f"{what}: denied (HTTP 403): this machine's address is probably not in the domain's access policy; add it "
            f"to fraud-detection:opensearchAccessCidrs (or the user {username!r} lacks permissions). Answer: "
            f"{response.text[:ANSWER_CHARS]}"
        )

    return send(http, method, url, what, refused, accept, auth=(username, password), **request)


def keep_calling(
    action: Callable[[], T], what: str, timeout_seconds: float, poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action`` until it succeeds, retrying while the domain does not answer or answers 429/5xx."""

    def gave_up(latest: NotYet) -> OpenSearchError:
        return OpenSearchError(
            f"{what}: OpenSearch did not answer successfully within {timeout_seconds:g} s; last error: {latest}"
        )

    return keep_trying(action, timeout_seconds, poll_seconds, gave_up, sleep)


GONE = "gone"
DELETING = "being deleted"
ACTIVE = "active"


def domain_state(region: str, domain_name: str) -> str:
    """GONE, DELETING or ACTIVE, from DescribeDomain: a deleted domain is not found, and ``DomainStatus.Deleted`` is
    its deletion status (https://docs.aws.amazon.com/opensearch-service/latest/APIReference/API_DomainStatus.html,
    read 2026-12-01)."""
    client = aws_client("opensearch", region)
    try:
        status = client.describe_domain(DomainName=domain_name)["DomainStatus"]
    except client.exceptions.ResourceNotFoundException:
        return GONE
    return DELETING if status.get("Deleted") else ACTIVE


def delete_from_domain(
    props: dict[str, Any], remove: Callable[[], Any], what: str, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Delete through the API; when it refuses or does not answer and the domain is gone or going, warn instead.

    One attempt first, so a domain that is gone costs one failed request and one lookup, not the whole
    timeout; a live domain then gets the usual retries, and a refusal from it fails at once.
    """
    timeout, poll = float(props["timeout_seconds"]), float(props["poll_seconds"])
    try:
        remove()
        return
    except (Refused, NotYet) as error:
        first_error = error
    domain = props.get("domain_name")
    if domain:
        try:
            state = domain_state(props["region"], domain)
        except Exception as lookup_error:  # no credentials or no permission: say so, and keep the API's answer
            raise OpenSearchError(
                f"{first_error}; whether domain {domain} still exists could not be checked either: {lookup_error}"
            ) from None
        if state != ACTIVE:
            warn(f"{what}: skipped, OpenSearch domain {domain} is {state} and takes its objects with it ({first_error})")
            return
    if isinstance(first_error, Refused):
        raise first_error
    keep_calling(remove, what, timeout, poll, sleep)
