"""OpenSearchSinkUser: the OpenSearch sink connector's own internal user, allowed to write its indexes only.

The domain's master user can do anything, so the connector gets a user of its own instead. Through the
security plugin's REST API (``/_plugins/_security/api``, which needs the master user) this resource puts a
role that may create, map, read and write the sink's indexes and nothing else, the internal user with its
generated password, and the mapping of the user to the role; on delete it removes all three. Every call is
a PUT of the whole object, so running create or update again converges instead of failing. Requests go
from the machine running ``pulumi up`` over HTTPS, like the dashboard import, with the same retries while
a new domain settles and the same way out of a delete when the domain is gone or going (``opensearch_api``).

The role's actions are what a sink of Kafka records needs (check and create its index, put mappings as
new fields arrive, bulk index and delete documents, read cluster health). Confluent does not list them
for its OpenSearch sink; the README says this was not checked against the running connector.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, UpdateResult

from components.dynamic_provider import StackProvider
from components.opensearch_api import call, delete_from_domain, keep_calling

SECURITY_API = "_plugins/_security/api"
CLUSTER_ACTIONS = ["cluster_monitor", "cluster_composite_ops"]  # health and info; _bulk is a cluster-level call
INDEX_ACTIONS = ["crud", "create_index", "indices:admin/get", "indices:admin/mapping/put", "indices_monitor"]


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
        call(session, "PUT", f"{url.rstrip('/')}/{SECURITY_API}/{kind}/{name}", f"security {kind}/{name}", admin,
             admin_password, json=body)
    return [f"{kind}/{name}" for kind, name, _ in objects]


def delete_objects(url: str, admin: str, admin_password: str, objects: list[tuple[str, str]], session: Any) -> list[str]:
    """DELETE each object; one already gone counts as deleted."""
    for kind, name in objects:
        call(session, "DELETE", f"{url.rstrip('/')}/{SECURITY_API}/{kind}/{name}", f"deleting security {kind}/{name}",
             admin, admin_password, accept=(404,))
    return [f"{kind}/{name}" for kind, name in objects]


def apply_user(props: dict[str, Any], sleep: Callable[[float], None] = time.sleep) -> list[str]:
    import requests

    objects = security_objects(props["username"], props["password"], list(props["indexes"]))
    with requests.Session() as session:
        return keep_calling(
            lambda: put_objects(props["opensearch_url"], props["admin_username"], props["admin_password"], objects,
                                session),
            "OpenSearch sink user", float(props["timeout_seconds"]), float(props["poll_seconds"]), sleep,
        )


def remove_user(props: dict[str, Any], sleep: Callable[[float], None] = time.sleep) -> None:
    """Delete the mapping, the user and the role; see ``opensearch_api.delete_from_domain`` for an unreachable API."""
    import requests

    objects = [(kind, name) for kind, name, _ in reversed(security_objects(props["username"], "", list(props["indexes"])))]
    with requests.Session() as session:
        delete_from_domain(
            props,
            lambda: delete_objects(props["opensearch_url"], props["admin_username"], props["admin_password"], objects,
                                   session),
            "deleting the OpenSearch sink user", sleep,
        )


class OpenSearchSinkUserProvider(StackProvider):
    """Dynamic provider of the sink user. Another domain or user name is a new object; anything else puts the
    objects again (the domain and region are recorded so that a delete can look the domain up)."""

    replacing = ("opensearch_url", "username")
    updating = ("admin_username", "admin_password", "password", "indexes", "timeout_seconds", "poll_seconds",
                "domain_name", "region")

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {**props, "objects": apply_user(props)}
        return CreateResult(id_=f"{props['username']}@{props['opensearch_url']}", outs=outs)

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
        domain_name: pulumi.Input[str],
        region: pulumi.Input[str],
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
                "domain_name": domain_name,
                "region": region,
                "timeout_seconds": timeout_seconds,
                "poll_seconds": poll_seconds,
                "objects": None,
            },
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["admin_password", "password"])),
        )
