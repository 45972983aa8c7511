"""OpenSearchSinkUser: the OpenSearch sink connector's own internal user, allowed to write its indexes only.

The domain's master user can do anything, so the connector gets a user of its own instead. Through the
security plugin's REST API (``/_plugins/_security/api``, which needs the master user) this resource puts a
role that may create, map, read and write the sink's indexes and nothing else, the internal user with its
generated password, and the mapping of the user to the role; on delete it removes all three. Every call is
a PUT of the whole object, so running create or update again converges instead of failing. Requests go
from the machine running ``pulumi up`` over HTTPS, like the dashboard import, with the same retries while
a new domain settles.

The role's actions are what a sink of Kafka records needs (check and create its index, put mappings as
new fields arrive, bulk index and delete documents, read cluster health). Confluent does not list them
for its OpenSearch sink; the README says this was not checked against the running connector.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.dashboard_import import REQUEST_TIMEOUT_SECONDS, check_answer, with_retries

SECURITY_API = "_plugins/_security/api"
CLUSTER_ACTIONS = ["cluster_monitor", "cluster_composite_ops"]  # health and info; _bulk is a cluster-level call
INDEX_ACTIONS = ["crud", "create_index", "indices:admin/get", "indices:admin/mapping/put", "indices_monitor"]
REPLACING_INPUTS = ("opensearch_url", "username")  # another domain or another user: a new object
UPDATING_INPUTS = ("admin_username", "admin_password", "password", "indexes", "timeout_seconds", "poll_seconds")


def role_name(username: str) -> str:
    return f"{username}_writer"


def security_objects(username: str, password: str, indexes: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, name, body) in the order they must exist: the role, the user, then the user's mapping to it."""
    if not indexes:
        raise ValueError("OpenSearchSinkUser indexes: expected the sink's index names, got none")
    role = role_name(username)
    return [
        ("roles", role, {
            "description": f"Writes the indexes of the OpenSearch sink ({', '.join(sorted(indexes))}) and nothing else",
            "cluster_permissions": CLUSTER_ACTIONS,
            "index_permissions": [{"index_patterns": sorted(indexes), "allowed_actions": INDEX_ACTIONS}],
        }),
        ("internalusers", username, {"password": password, "attributes": {"purpose": "confluent-opensearch-sink"}}),
        ("rolesmapping", role, {"users": [username]}),
    ]


def put_objects(url: str, admin: str, admin_password: str, objects: list[tuple[str, str, dict]], session: Any) -> list[str]:
    for kind, name, body in objects:
        response = session.put(f"{url.rstrip('/')}/{SECURITY_API}/{kind}/{name}", json=body, auth=(admin, admin_password),
                                timeout=REQUEST_TIMEOUT_SECONDS)
        check_answer(response, f"security {kind}/{name}", admin)
    return [f"{kind}/{name}" for kind, name, _ in objects]


def delete_objects(url: str, admin: str, admin_password: str, objects: list[tuple[str, str]], session: Any) -> list[str]:
    """DELETE each object; one already gone counts as deleted."""
    for kind, name in objects:
        response = session.delete(f"{url.rstrip('/')}/{SECURITY_API}/{kind}/{name}", auth=(admin, admin_password),
                                  timeout=REQUEST_TIMEOUT_SECONDS)
        if response.status_code != 404:
            check_answer(response, f"deleting security {kind}/{name}", admin)
    return [f"{kind}/{name}" for kind, name in objects]


def apply_user(props: dict[str, Any], sleep: Callable[[float], None] = time.sleep) -> list[str]:
    import requests

    objects = security_objects(props["username"], props["password"], list(props["indexes"]))
    with requests.Session() as session:
        return with_retries(
            lambda: put_objects(props["opensearch_url"], props["admin_username"], props["admin_password"], objects, session),
            "OpenSearch sink user", float(props["timeout_seconds"]), float(props["poll_seconds"]), sleep,
        )


def remove_user(props: dict[str, Any], sleep: Callable[[float], None] = time.sleep) -> list[str]:
    import requests

    objects = [(kind, name) for kind, name, _ in reversed(security_objects(props["username"], "", list(props["indexes"])))]
    with requests.Session() as session:
        return with_retries(
            lambda: delete_objects(props["opensearch_url"], props["admin_username"], props["admin_password"], objects, session),
            "deleting the OpenSearch sink user", float(props["timeout_seconds"]), float(props["poll_seconds"]), sleep,
        )


class OpenSearchSinkUserProvider(ResourceProvider):
    """Dynamic provider of the sink user; holds no client, so it pickles cleanly."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {**props, "objects": apply_user(props)}
        return CreateResult(id_=f"{props['username']}@{props['opensearch_url']}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACING_INPUTS if olds.get(key) != news.get(key)]
        updates = [key for key in UPDATING_INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, "objects": apply_user(news)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        remove_user(props)


class OpenSearchSinkUser(pulumi.dynamic.Resource):
    """The sink's internal user, its role and the mapping between them, in one OpenSearch domain."""

    objects: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        opensearch_url: pulumi.Input[str],
        admin_username: pulumi.Input[str],
        admin_password: pulumi.Input[str],
        username: str,
        password: pulumi.Input[str],
        indexes: list[str],
        timeout_seconds: int = 900,
        poll_seconds: int = 15,
        opts: pulumi.ResourceOptions | None = None,
    ):
        security_objects(username, "", indexes)  # no indexes stops the program before anything is registered
        super().__init__(
            OpenSearchSinkUserProvider(),
            name,
            {
                "opensearch_url": opensearch_url,
                "admin_username": admin_username,
                "admin_password": pulumi.Output.secret(admin_password),
                "username": username,
                "password": pulumi.Output.secret(password),
                "indexes": sorted(indexes),
                "timeout_seconds": timeout_seconds,
                "poll_seconds": poll_seconds,
                "objects": None,
            },
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["admin_password", "password"])),
        )
