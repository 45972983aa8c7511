"""Data stores: Redshift and OpenSearch encrypted at rest and in transit, not anonymously reachable, public only behind
named groups, and Redshift kept on a patched version."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .resource_types import OPENSEARCH_DOMAIN, OPENSEARCH_DOMAIN_POLICY, REDSHIFT_CLUSTER, REDSHIFT_PARAMETER_GROUP
from .values import as_json, as_list, get_path, is_false, is_true, policy_statements


# --- Redshift -----------------------------------------------------------------------------------------------------


def redshift_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # pulumi-aws 7 encrypts by default (`encrypted` defaults to "true"), so only an explicit false is a violation.
    if args.resource_type == REDSHIFT_CLUSTER and is_false(args.props.get("encrypted")):
        report("encrypted is false")


def redshift_public_needs_security_groups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REDSHIFT_CLUSTER or not is_true(args.props.get("publiclyAccessible")):
        return
    if not as_list(args.props.get("vpcSecurityGroupIds")):
        report("publiclyAccessible is true without vpcSecurityGroupIds: the cluster would get the VPC default group")


def redshift_require_ssl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A parameter group states require_ssl=true itself: Redshift's engine default is true only since 2025-01-10
    (https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-parameter-groups.html, read 2026-12-01), and
    a group that says false lets clients connect without TLS."""
    if args.resource_type != REDSHIFT_PARAMETER_GROUP:
        return
    values = [get_path(p, "value") for p in as_list(args.props.get("parameters")) if get_path(p, "name") == "require_ssl"]
    if not values:
        report("parameters do not set require_ssl: set it to true so TLS does not hang on the engine default")
    for value in values:
        if not is_true(value):
            report(f"parameters require_ssl is {value!r}: clients could connect without TLS")


def redshift_allow_version_upgrade(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == REDSHIFT_CLUSTER and is_false(args.props.get("allowVersionUpgrade")):
        report("allowVersionUpgrade is false: the cluster would miss engine patches in its maintenance window")


# --- OpenSearch ---------------------------------------------------------------------------------------------------

TLS_12_OR_LATER = re.compile(r"^Policy-Min-TLS-1-[2-9]")


def opensearch_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != OPENSEARCH_DOMAIN:
        return
    props = args.props
    if not is_true(get_path(props, "encryptAtRest", "enabled")):
        report("encryptAtRest.enabled is not true")
    if not is_true(get_path(props, "nodeToNodeEncryption", "enabled")):
        report("nodeToNodeEncryption.enabled is not true")
    if not is_true(get_path(props, "domainEndpointOptions", "enforceHttps")):
        report("domainEndpointOptions.enforceHttps is not true")
    policy = get_path(props, "domainEndpointOptions", "tlsSecurityPolicy")
    if not (isinstance(policy, str) and TLS_12_OR_LATER.match(policy)):
        report(f"domainEndpointOptions.tlsSecurityPolicy is {policy!r}; expected a TLS 1.2+ policy such as "
               f"Policy-Min-TLS-1-2-2019-07")


def opensearch_fine_grained_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != OPENSEARCH_DOMAIN:
        return
    if not is_true(get_path(args.props, "advancedSecurityOptions", "enabled")):
        report("advancedSecurityOptions.enabled is not true (fine-grained access control)")
    if is_true(get_path(args.props, "advancedSecurityOptions", "anonymousAuthEnabled")):
        report("advancedSecurityOptions.anonymousAuthEnabled is true")


def _anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and any("*" in as_list(value) for value in principal.values())


def open_access_statements(document: Any) -> list[str]:
    """Allow statements granting everyone access with no Condition, by Sid or index."""
    found = []
    for index, statement in enumerate(policy_statements(document)):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        if _anyone(statement.get("Principal")) or statement.get("NotPrincipal") is not None:
            found.append(str(statement.get("Sid") or f"Statement[{index}]"))
    return found


def opensearch_no_anonymous_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (OPENSEARCH_DOMAIN, OPENSEARCH_DOMAIN_POLICY):
        return
    try:
        document = as_json(args.props.get("accessPolicies"))
    except ValueError as error:
        report(f"accessPolicies is not a readable JSON policy ({error})")
        return
    for statement in open_access_statements(document):
        report(f"accessPolicies {statement} allows Principal '*' with no Condition; name the principals or add a "
               f"Condition (e.g. aws:SourceIp)")
