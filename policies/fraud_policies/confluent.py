"""Confluent Cloud: connectors keep secrets out of plain config and do not log in as admins, sink topics have a
producer, Flink tables evolve in place, connector accounts hold no organization or environment admin role, ACLs name
their topics, and EnvironmentAdmin is left only where Basic clusters offer nothing narrower."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

import sql_text

from .plaintext_secrets import is_secret_key, secret_value_kind
from .resource_types import (
    CONNECTOR,
    FLINK_MATERIALIZED_TABLE,
    FLINK_STATEMENT,
    KAFKA_ACL,
    KAFKA_CLUSTER,
    OPENSEARCH_DOMAIN,
    REDSHIFT_CLUSTER,
    ROLE_BINDING,
)
from .values import get_path


# --- connectors ---------------------------------------------------------------------------------------------------


def connector_no_plaintext_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONNECTOR:
        return
    for key, value in (args.props.get("configNonsensitive") or {}).items():
        if is_secret_key(key):
            report(f"configNonsensitive[{key!r}] looks like a secret; move it to configSensitive")
        elif kind := secret_value_kind(value):
            report(f"configNonsensitive[{key!r}] holds {kind}; move it to configSensitive")


# Sink connector class -> (its user key, the resource type whose admin it must not be, the admin's path).
SINK_LOGINS = {
    "RedshiftSink": ("aws.redshift.user", REDSHIFT_CLUSTER, ("masterUsername",)),
    "OpenSearchSink": ("connection.user", OPENSEARCH_DOMAIN, ("advancedSecurityOptions", "masterUserOptions", "masterUserName")),
}


def sinks_not_admin(args: StackValidationArgs, report: ReportViolation) -> None:
    for connector in args.resources:
        config = (connector.props.get("configNonsensitive") or {}) if connector.resource_type == CONNECTOR else {}
        if config.get("connector.class") not in SINK_LOGINS:
            continue
        key, target_type, path = SINK_LOGINS[config["connector.class"]]
        admins = {get_path(r.props, *path) for r in args.resources if r.resource_type == target_type} - {None}
        if config.get(key) in admins:
            report(f"{connector.name} logs in as the admin user {config[key]!r} of a {target_type} of this stack; give "
                   f"the sink a user of its own, limited to what it writes", connector.urn)


# --- Flink tables -------------------------------------------------------------------------------------------------


def _statement_text(resource: PolicyResource) -> str | None:
    text = resource.props.get("statement") if resource.resource_type == FLINK_STATEMENT else None
    return text if isinstance(text, str) else None


def flink_tables_evolve_in_place(args: StackValidationArgs, report: ReportViolation) -> None:
    """Flink tables are materialized tables, which own their query and evolve in place on their topic. A statement
    that creates a table cannot change without "already exists" or a drop; a drop or a filling INSERT kept as a
    statement is run again when Confluent purges and the next `up` re-creates it. So statements only set options."""
    for resource in args.resources:
        if resource.resource_type == FLINK_MATERIALIZED_TABLE and not resource.opts.delete_before_replace:
            report(f"{resource.name} is a materialized table but not delete-before-replace: a replacement (a new name, "
                   f"distribution or session options) would create the table while the old one still holds its name",
                   resource.urn)
        text = _statement_text(resource)
        if text is None:
            continue
        try:
            code = sql_text.code_only(text)
        except sql_text.SqlTextError as error:
            report(f"{resource.name}: its statement cannot be read ({error})", resource.urn)
            continue
        if created := sorted(sql_text.created_tables(code)):
            report(f"{resource.name} creates {', '.join(created)} with a statement: declare each Flink table as a "
                   f"materialized table (CREATE OR ALTER MATERIALIZED TABLE, FlinkMaterializedTable) so that a change "
                   f"evolves it in place", resource.urn)
        if dropped := sorted(sql_text.dropped_tables(code)):
            report(f"{resource.name} drops {', '.join(dropped)}: a completed statement is purged after 30 days and "
                   f"re-created by the next `up`, which would drop the live table again", resource.urn)
        if re.search(r"\bINSERT\s+(?:INTO|OVERWRITE)\b", code, re.I):
            report(f"{resource.name} fills a table with INSERT: make the table a materialized table that owns its "
                   f"query", resource.urn)


# --- sink topics --------------------------------------------------------------------------------------------------


def _config_list(value: Any) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def sink_topics_have_producers(args: StackValidationArgs, report: ReportViolation) -> None:
    flink_tables: set[str] = set()
    sources: list[tuple[str, list[str]]] = []
    sinks: list[tuple[PolicyResource, Mapping[str, Any]]] = []
    for resource in args.resources:
        if (text := _statement_text(resource)) is not None:
            flink_tables.update(sql_text.created_tables(text))
        if resource.resource_type == FLINK_MATERIALIZED_TABLE and isinstance(resource.props.get("displayName"), str):
            flink_tables.add(resource.props["displayName"])
        if resource.resource_type != CONNECTOR:
            continue
        config = resource.props.get("configNonsensitive") or {}
        if config.get("topic.prefix") and config.get("table.include.list"):
            sources.append((config["topic.prefix"], _config_list(config["table.include.list"])))
        if "topics" in config or "topics.regex" in config:
            sinks.append((resource, config))

    def from_cdc(topic: str) -> bool:
        for prefix, patterns in sources:
            if topic.startswith(f"{prefix}."):
                table = topic[len(prefix) + 1:]
                if any(re.fullmatch(pattern, table, re.I) for pattern in patterns):
                    return True
        return False

    for sink, config in sinks:
        if "topics.regex" in config:
            report(f"{sink.name} reads topics.regex; list its topics in `topics` so their producers can be checked", sink.urn)
        for topic in _config_list(config.get("topics")):
            if topic not in flink_tables and not from_cdc(topic):
                report(f"{sink.name} reads topic {topic!r}, which no Flink table (materialized table or CREATE TABLE) and no CDC source "
                       f"(topic.prefix + table.include.list) of this stack produces", sink.urn)


# --- role bindings and ACLs -----------------------------------------------------------------------------------
# Roles from https://docs.confluent.io/cloud/current/security/access-control/rbac/predefined-rbac-roles.html (read
# 2026-12-01): OrganizationAdmin and AccountAdmin act on the whole organization (AccountAdmin manages every user and
# service account), EnvironmentAdmin on everything in one environment.
ORGANIZATION_ADMIN_ROLES = frozenset({"OrganizationAdmin", "AccountAdmin"})
ENVIRONMENT_ADMIN_ROLES = frozenset({"EnvironmentAdmin"})
# Admin roles over every resource of an environment or of the whole organization.
WIDE_ADMIN_ROLES = ENVIRONMENT_ADMIN_ROLES | {"OrganizationAdmin"}
# Cluster types on which Confluent Cloud offers role bindings on single topics, groups and transactional IDs (same page).
GRANULAR_RBAC_CLUSTER_TYPES = ("standard", "enterprises", "dedicated", "freights")
ENVIRONMENT_IN_CRN = re.compile(r"/environment=([^/]+)")


def _principal_id(principal: Any) -> str | None:
    return principal.split(":", 1)[1] if isinstance(principal, str) and ":" in principal else None


def connector_accounts_not_admin(args: StackValidationArgs, report: ReportViolation) -> None:
    """A connector's service account is the one its config names in kafka.service.account.id."""
    accounts = {(r.props.get("configNonsensitive") or {}).get("kafka.service.account.id")
                for r in args.resources if r.resource_type == CONNECTOR} - {None}
    for binding in args.resources:
        if binding.resource_type != ROLE_BINDING:
            continue
        role = binding.props.get("roleName")
        if role in ORGANIZATION_ADMIN_ROLES | ENVIRONMENT_ADMIN_ROLES and _principal_id(binding.props.get("principal")) in accounts:
            report(f"{binding.name} makes a connector's service account {role}: bind it only to what it reads and "
                   f"writes (ACLs or cluster-level roles)", binding.urn)


def acls_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != KAFKA_ACL or args.props.get("permission") == "DENY":
        return
    props = args.props
    if props.get("resourceName") in ("*", ""):
        report(f"{props.get('operation')} on {props.get('resourceType')} {props.get('resourceName')!r} covers every "
               f"resource of that type: name it, or a prefix of it")
    if props.get("patternType") not in ("LITERAL", "PREFIXED"):
        report(f"patternType is {props.get('patternType')!r}: use LITERAL or PREFIXED")
    if props.get("principal") in ("User:*", "*"):
        report(f"principal is {props.get('principal')!r}: an ACL names one principal")


def _granular(cluster: PolicyResource) -> bool:
    return any(cluster.props.get(kind) not in (None, []) for kind in GRANULAR_RBAC_CLUSTER_TYPES)


def _clusters_in_scope(crn: Any, clusters: list[PolicyResource]) -> list[PolicyResource]:
    """The stack's Kafka clusters a crnPattern reaches: those of its environment, or all for the organization."""
    match = ENVIRONMENT_IN_CRN.search(crn) if isinstance(crn, str) else None
    if match is None:
        return clusters if isinstance(crn, str) else []
    return [c for c in clusters if get_path(c.props, "environment", "id") == match.group(1)]


def environment_admin_only_on_basic(args: StackValidationArgs, report: ReportViolation) -> None:
    """Basic clusters have no role bindings on single topics, so a principal that creates topics there needs an
    environment-wide role; on Standard and larger clusters it can get exactly the topics, groups and transactional
    IDs it uses, so an admin role over them is more than it needs."""
    clusters = [r for r in args.resources if r.resource_type == KAFKA_CLUSTER]
    for binding in args.resources:
        if binding.resource_type != ROLE_BINDING or binding.props.get("roleName") not in WIDE_ADMIN_ROLES:
            continue
        granular = sorted(c.name for c in _clusters_in_scope(binding.props.get("crnPattern"), clusters) if _granular(c))
        if granular:
            report(f"{binding.name} grants {binding.props.get('roleName')} over {', '.join(granular)}, where role bindings "
                   f"on single topics, groups and transactional IDs exist: bind those instead", binding.urn)
