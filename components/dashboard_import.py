"""DashboardImport: puts the fraud dashboard into OpenSearch Dashboards, and takes it out again on destroy.

On create and update it first stores an index template per sink index (so the indexes the connector
creates get date fields as dates, whatever the connector would infer) and then imports the saved objects
of ``opensearch_dashboard/fraud_dashboard.ndjson`` through the Dashboards import API with
``overwrite=true``. On delete it removes exactly the objects and templates it put there. Requests use the
domain's internal master user (HTTP basic auth over HTTPS) from the machine running ``pulumi up``, which
the domain's access policy must admit (``opensearchAccessCidrs``).

A new domain can answer with 5xx or not at all for a while after it reports active; those answers are
retried until a deadline. A refused login (401) or a request the access policy denies (403) fails at once,
and an import the API rejects in part fails with every object error it listed.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

REQUEST_TIMEOUT_SECONDS = 30
XSRF_HEADER = {"osd-xsrf": "true"}  # Dashboards refuses state-changing API calls without it
REPLACING_INPUTS = ("opensearch_url", "dashboards_url")  # another domain
UPDATING_INPUTS = ("username", "password", "saved_objects", "index_templates", "timeout_seconds", "poll_seconds")


class DashboardsAuthError(Exception):
    """OpenSearch refused the credentials (401) or its access policy denied the caller (403)."""


class DashboardImportError(Exception):
    """OpenSearch or Dashboards rejected what was sent; retrying the same request cannot help."""


class TransientError(Exception):
    """A 5xx or 429 answer: the domain may still be starting."""


def saved_object_ids(ndjson: str) -> list[tuple[str, str]]:
    """(type, id) of every saved object in an export file, in file order; rejects malformed lines."""
    found: list[tuple[str, str]] = []
    for number, line in enumerate(ndjson.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"saved objects line {number}: not JSON ({error})") from None
        if not isinstance(item, dict) or not item.get("type") or not item.get("id"):
            raise ValueError(f"saved objects line {number}: expected an object with 'type' and 'id'")
        found.append((item["type"], item["id"]))
    if not found:
        raise ValueError("saved objects: the file holds no objects")
    return found


def check_answer(response: Any, what: str, username: str) -> None:
    """Raise the error class matching an answer that is not a success."""
    status = response.status_code
    if status == 401:
        raise DashboardsAuthError(
            f"{what}: OpenSearch refused user {username!r} (HTTP 401): the master user's password in the stack "
            f"does not match the domain's"
        )
    if status == 403:
        raise DashboardsAuthError(
            f"{what}: denied (HTTP 403): this machine's address is probably not in the domain's access policy; add it "
            f"to fraud-detection:opensearchAccessCidrs (or the user {username!r} lacks permissions). Answer: "
            f"{response.text[:300]}"
        )
    if status == 429 or status >= 500:
        raise TransientError(f"{what}: HTTP {status}: {response.text[:300]}")
    if status >= 400:
        raise DashboardImportError(f"{what}: HTTP {status}: {response.text[:500]}")


def put_index_templates(url: str, username: str, password: str, templates: dict[str, Any], session: Any = None) -> list[str]:
    """PUT each composable index template; returns their names."""
    import requests

    http = session or requests
    for name, body in sorted(templates.items()):
        response = http.put(
            f"{url.rstrip('/')}/_index_template/{name}",
            json=body,
            auth=(username, password),
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        check_answer(response, f"index template {name}", username)
    return sorted(templates)


def delete_index_templates(url: str, username: str, password: str, names: list[str], session: Any = None) -> list[str]:
    """DELETE each index template; one that is already gone counts as deleted."""
    import requests

    http = session or requests
    for name in names:
        response = http.delete(
            f"{url.rstrip('/')}/_index_template/{name}", auth=(username, password), timeout=REQUEST_TIMEOUT_SECONDS
        )
        if response.status_code != 404:
            check_answer(response, f"deleting index template {name}", username)
    return list(names)


def _describe_import_error(error: dict) -> str:
    detail = error.get("error") or {}
    kind = detail.get("type", "unknown")
    text = f"{error.get('type')}/{error.get('id')} ({error.get('title', 'untitled')}): {kind}"
    if detail.get("references"):
        text += " " + ", ".join(f"{ref.get('type')}/{ref.get('id')}" for ref in detail["references"])
    if detail.get("message"):
        text += f": {detail['message']}"
    return text


def import_saved_objects(
    dashboards_url: str, username: str, password: str, ndjson: str, session: Any = None
) -> list[str]:
    """POST the export file to the import API (overwrite); returns "type/id" of each imported object."""
    import requests

    http = session or requests
    response = http.post(
        f"{dashboards_url.rstrip('/')}/api/saved_objects/_import",
        params={"overwrite": "true"},
        files={"file": ("fraud_dashboard.ndjson", ndjson.encode(), "application/ndjson")},
        headers=XSRF_HEADER,
        auth=(username, password),
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    check_answer(response, "dashboard import", username)
    try:
        result = response.json()
    except ValueError:
        raise DashboardImportError(f"dashboard import: expected a JSON answer, got {response.text[:300]!r}") from None
    errors = result.get("errors") or []
    if not result.get("success") or errors:
        listed = "; ".join(_describe_import_error(error) for error in errors) or "no errors listed"
        raise DashboardImportError(
            f"dashboard import: {len(errors)} of {len(saved_object_ids(ndjson))} saved objects were rejected "
            f"({result.get('successCount', 0)} imported): {listed}"
        )
    return [f"{item.get('type')}/{item.get('id')}" for item in result.get("successResults") or []]


def delete_saved_objects(
    dashboards_url: str, username: str, password: str, objects: list[tuple[str, str]], session: Any = None
) -> list[str]:
    """DELETE each saved object (dashboard first, index patterns last); one already gone counts as deleted."""
    import requests

    http = session or requests
    deleted = []
    for object_type, object_id in objects:
        response = http.delete(
            f"{dashboards_url.rstrip('/')}/api/saved_objects/{object_type}/{object_id}",
            headers=XSRF_HEADER,
            auth=(username, password),
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        if response.status_code != 404:
            check_answer(response, f"deleting {object_type}/{object_id}", username)
        deleted.append(f"{object_type}/{object_id}")
    return deleted


def deletion_order(objects: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Dependents before what they reference: dashboards, then visualizations and searches, index patterns last."""
    rank = {"dashboard": 0, "visualization": 1, "search": 2, "index-pattern": 3}
    return sorted(objects, key=lambda item: rank.get(item[0], 1))


def with_retries(
    action: Callable[[], Any],
    what: str,
    timeout_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Run ``action`` until it succeeds, retrying transient failures until the deadline."""
    import requests

    deadline = clock() + timeout_seconds
    while True:
        try:
            return action()
        except (TransientError, requests.ConnectionError, requests.Timeout) as error:
            if clock() >= deadline:
                raise DashboardImportError(
                    f"{what}: OpenSearch did not answer successfully within {timeout_seconds:g} s; last error: {error}"
                ) from None
            sleep(min(poll_seconds, max(deadline - clock(), 0)))


def publish(props: dict[str, Any], sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Index templates, then the saved objects; returns what was put there."""
    import requests

    user, password = props["username"], props["password"]
    timeout, poll = float(props["timeout_seconds"]), float(props["poll_seconds"])
    with requests.Session() as session:
        templates = with_retries(
            lambda: put_index_templates(props["opensearch_url"], user, password, props["index_templates"], session),
            "index templates", timeout, poll, sleep,
        )
        imported = with_retries(
            lambda: import_saved_objects(props["dashboards_url"], user, password, props["saved_objects"], session),
            "dashboard import", timeout, poll, sleep,
        )
    return {"templates": templates, "imported": imported}


def withdraw(props: dict[str, Any], objects: list[tuple[str, str]], templates: list[str],
             sleep: Callable[[float], None] = time.sleep) -> None:
    """Delete the given saved objects and index templates."""
    import requests

    user, password = props["username"], props["password"]
    timeout, poll = float(props["timeout_seconds"]), float(props["poll_seconds"])
    with requests.Session() as session:
        with_retries(
            lambda: delete_saved_objects(props["dashboards_url"], user, password, deletion_order(objects), session),
            "deleting saved objects", timeout, poll, sleep,
        )
        with_retries(
            lambda: delete_index_templates(props["opensearch_url"], user, password, templates, session),
            "deleting index templates", timeout, poll, sleep,
        )


class DashboardImportProvider(ResourceProvider):
    """Dynamic provider of the import; holds no client, so it pickles cleanly."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        saved_object_ids(props["saved_objects"])  # a malformed file fails before anything is sent
        outs = publish(props)
        return CreateResult(id_=f"dashboard-{props['dashboards_url']}", outs={**props, **outs})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACING_INPUTS if olds.get(key) != news.get(key)]
        updates = [key for key in UPDATING_INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        new_objects = set(saved_object_ids(news["saved_objects"]))
        outs = publish(news)
        # Objects and templates no longer in the files are removed, so the domain holds exactly the files.
        dropped = [item for item in saved_object_ids(olds["saved_objects"]) if item not in new_objects]
        dropped_templates = sorted(set(olds.get("index_templates") or {}) - set(news["index_templates"]))
        if dropped or dropped_templates:
            withdraw(news, dropped, dropped_templates)
        return UpdateResult(outs={**news, **outs})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        withdraw(props, saved_object_ids(props["saved_objects"]), sorted(props.get("index_templates") or {}))


class DashboardImport(pulumi.dynamic.Resource):
    """The fraud dashboard's saved objects and the sink indexes' templates in one OpenSearch domain."""

    imported: pulumi.Output[list[str]]
    templates: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        opensearch_url: pulumi.Input[str],
        dashboards_url: pulumi.Input[str],
        username: pulumi.Input[str],
        password: pulumi.Input[str],
        saved_objects: str,
        index_templates: dict[str, Any],
        timeout_seconds: int = 900,
        poll_seconds: int = 15,
        opts: pulumi.ResourceOptions | None = None,
    ):
        saved_object_ids(saved_objects)  # a malformed file stops the program before anything is registered
        super().__init__(
            DashboardImportProvider(),
            name,
            {
                "opensearch_url": opensearch_url,
                "dashboards_url": dashboards_url,
                "username": username,
                "password": pulumi.Output.secret(password),
                "saved_objects": saved_objects,
                "index_templates": index_templates,
                "timeout_seconds": timeout_seconds,
                "poll_seconds": poll_seconds,
                "imported": None,
                "templates": None,
            },
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])),
        )
