"""IAM: no policy document that grants a whole service (or everything) on every resource, and a role's policies
declared one way."""
from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from .resource_types import (
    IAM_DOCUMENT_TYPES,
    IAM_POLICY_ATTACHMENT,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
)
from .values import as_json, as_list, get_path, policy_statements


def _wildcard_action(action: Any) -> bool:
    return isinstance(action, str) and (action == "*" or action.endswith(":*"))


def admin_statements(document: Any) -> list[str]:
    """Allow statements with a whole-service (or all) action wildcard on every resource."""
    found = []
    for index, statement in enumerate(policy_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        actions = as_list(statement.get("Action"))
        wild_actions = [a for a in actions if _wildcard_action(a)] or (["NotAction"] if "NotAction" in statement else [])
        every_resource = "*" in as_list(statement.get("Resource")) or "NotResource" in statement
        if wild_actions and every_resource:
            found.append(f"{statement.get('Sid') or f'Statement[{index}]'} allows {', '.join(map(str, wild_actions))} on *")
    return found


def iam_no_wildcard_admin(args: ResourceValidationArgs, report: ReportViolation) -> None:
    documents: list[tuple[str, Any]] = []
    if args.resource_type in IAM_DOCUMENT_TYPES:
        key = IAM_DOCUMENT_TYPES[args.resource_type]
        documents.append((key, args.props.get(key)))
    elif args.resource_type == IAM_ROLE:
        documents += [(f"inlinePolicies[{i}]", get_path(p, "policy")) for i, p in enumerate(as_list(args.props.get("inlinePolicies")))]
    for where, text in documents:
        try:
            document = as_json(text)
        except ValueError as error:
            report(f"{where} is not a readable JSON policy ({error})")
            continue
        for finding in admin_statements(document):
            report(f"{where}: {finding}; name the actions and resources the workload needs")


# The resources that give a role a policy from outside it, and the property naming the role(s).
ROLE_ATTACHMENTS = {IAM_ROLE_POLICY: "role", IAM_ROLE_POLICY_ATTACHMENT: "role", IAM_POLICY_ATTACHMENT: "roles"}


def _attached_roles(resource: PolicyResource) -> list[PolicyResource]:
    key = ROLE_ATTACHMENTS.get(resource.resource_type)
    return list(resource.property_dependencies.get(key, [])) if key else []


def iam_role_policies_not_mixed(args: StackValidationArgs, report: ReportViolation) -> None:
    """A role that lists inlinePolicies or managedPolicyArns owns them all: a RolePolicy or an attachment on it is
    removed by the role's next update and re-added by its own. After a refresh the role's state also lists what the
    attachments added, so only entries that no attachment of the stack explains count."""
    for role in args.resources:
        if role.resource_type != IAM_ROLE:
            continue
        attachments = [r for r in args.resources if any(d.urn == role.urn for d in _attached_roles(r))]
        if not attachments:
            continue
        attached_names = {r.props.get("name") for r in attachments if r.resource_type == IAM_ROLE_POLICY}
        attached_arns = {r.props.get("policyArn") for r in attachments if r.resource_type != IAM_ROLE_POLICY}
        inline = [get_path(p, "name") for p in as_list(role.props.get("inlinePolicies"))
                  if get_path(p, "name") not in attached_names]
        managed = [arn for arn in as_list(role.props.get("managedPolicyArns")) if arn not in attached_arns]
        declared = [f"{key} {values}" for key, values in (("inlinePolicies", inline), ("managedPolicyArns", managed)) if values]
        if declared:
            report(f"{role.name} declares {' and '.join(declared)} while {', '.join(sorted(r.name for r in attachments))} "
                   f"attach policies to it: give the role its policies one way", role.urn)
