"""IAM: no policy document that grants a whole service (or everything) on every resource."""
from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .resource_types import IAM_DOCUMENT_TYPES, IAM_ROLE
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
