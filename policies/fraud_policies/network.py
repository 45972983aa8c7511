"""Network: internet-open ingress on security groups, inline or standalone, who may be open to the web, and security
groups whose rules are declared one way and say why they exist."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from .resource_types import (
    GROUP_TYPES,
    LOAD_BALANCER_TYPES,
    REDSHIFT_CLUSTER,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    VPC_EGRESS_RULE,
    VPC_INGRESS_RULE,
)
from .values import as_int, as_list, is_true, is_world

# The standalone rule type of each direction (aws.vpc rules carry one direction each; ec2 SecurityGroupRule has `type`).
STANDALONE_RULE_DIRECTIONS = {"ingress": VPC_INGRESS_RULE, "egress": VPC_EGRESS_RULE}
DIRECTION_OF_STANDALONE_RULE = {rule_type: direction for direction, rule_type in STANDALONE_RULE_DIRECTIONS.items()}
# What pulumi-aws writes when a group is given no description: it says nothing about the group.
PROVIDER_DEFAULT_DESCRIPTION = "Managed by Pulumi"


def rule_entries(resource_type: str, props: Mapping[str, Any], direction: str = "ingress") -> list[dict[str, Any]]:
    """Every permission of one direction a security-group resource declares, as {protocol, from, to, cidrs}."""
    if resource_type in GROUP_TYPES:
        raw = [(entry, entry.get("protocol"), entry.get("cidrBlocks"), entry.get("ipv6CidrBlocks"))
               for entry in as_list(props.get(direction)) if isinstance(entry, Mapping)]
    elif resource_type == SECURITY_GROUP_RULE and props.get("type") == direction:
        raw = [(props, props.get("protocol"), props.get("cidrBlocks"), props.get("ipv6CidrBlocks"))]
    elif resource_type == STANDALONE_RULE_DIRECTIONS.get(direction):
        raw = [(props, props.get("ipProtocol"), props.get("cidrIpv4"), props.get("cidrIpv6"))]
    else:
        return []
    return [
        {
            "protocol": str(protocol if protocol is not None else "").lower(),
            "from": as_int(entry.get("fromPort")),
            "to": as_int(entry.get("toPort")),
            "cidrs": [c for c in as_list(v4) + as_list(v6) if isinstance(c, str)],
        }
        for entry, protocol, v4, v6 in raw
    ]


def _all_traffic(entry: Mapping[str, Any]) -> bool:
    return entry["protocol"] in ("-1", "all")


def _is_web(entry: Mapping[str, Any]) -> bool:
    """HTTP or HTTPS alone: TCP with one port, 80 or 443."""
    return entry["protocol"] in ("tcp", "6") and entry["from"] == entry["to"] and entry["from"] in (80, 443)


def _describe(entry: Mapping[str, Any]) -> str:
    if _all_traffic(entry):
        return "all traffic"
    ports = entry["from"] if entry["from"] == entry["to"] else f"{entry['from']}-{entry['to']}"
    return f"{entry['protocol']} {ports}"


def _world_ingress(resource_type: str, props: Mapping[str, Any]) -> list[tuple[dict[str, Any], str]]:
    return [(entry, cidr) for entry in rule_entries(resource_type, props) for cidr in entry["cidrs"] if is_world(cidr)]


def no_world_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for entry, cidr in _world_ingress(args.resource_type, args.props):
        if not _is_web(entry):
            report(f"ingress {_describe(entry)} from {cidr}: only HTTP/HTTPS (80, 443) of a load balancer may be open "
                   f"to the internet; allow the sources that need it (e.g. Confluent egress ranges, the VPC)")


def _groups_of(resource: PolicyResource) -> list[PolicyResource]:
    """The security group a group resource is, or the groups a rule resource's securityGroupId comes from."""
    if resource.resource_type in GROUP_TYPES:
        return [resource]
    return [r for r in resource.property_dependencies.get("securityGroupId", []) if r.resource_type in GROUP_TYPES]


def _uses(resource: PolicyResource, target: PolicyResource) -> bool:
    deps = list(resource.dependencies) + [d for ds in resource.property_dependencies.values() for d in ds]
    return any(d.urn == target.urn for d in deps)


def web_ingress_only_on_load_balancers(args: StackValidationArgs, report: ReportViolation) -> None:
    balancers = [r for r in args.resources if r.resource_type in LOAD_BALANCER_TYPES]
    for resource in args.resources:
        web = [(entry, cidr) for entry, cidr in _world_ingress(resource.resource_type, resource.props) if _is_web(entry)]
        if not web:
            continue
        groups = _groups_of(resource)
        fronted = groups and all(any(_uses(lb, group) for lb in balancers) for group in groups)
        if not fronted:
            opened = ", ".join(sorted({f"{_describe(e)} from {c}" for e, c in web}))
            report(f"{resource.name} opens {opened} but its security group is not attached to a load balancer "
                   f"declared in this stack", resource.urn)


def _closed_to_world(group: PolicyResource, resources: list[PolicyResource]) -> list[str]:
    """World-open ingress of a group: its inline rules and every standalone rule attached to it."""
    found = [f"{_describe(e)} from {c} ({group.name})" for e, c in _world_ingress(group.resource_type, group.props)]
    for rule in resources:
        if rule.resource_type in (SECURITY_GROUP_RULE, VPC_INGRESS_RULE) and any(g.urn == group.urn for g in _groups_of(rule)):
            found += [f"{_describe(e)} from {c} ({rule.name})" for e, c in _world_ingress(rule.resource_type, rule.props)]
    return found


def public_redshift_groups_closed(args: StackValidationArgs, report: ReportViolation) -> None:
    for cluster in args.resources:
        if cluster.resource_type != REDSHIFT_CLUSTER or not is_true(cluster.props.get("publiclyAccessible")):
            continue
        ids = as_list(cluster.props.get("vpcSecurityGroupIds"))
        groups = [r for r in cluster.property_dependencies.get("vpcSecurityGroupIds", []) if r.resource_type in GROUP_TYPES]
        if len(groups) < max(len(ids), 1):
            report(f"{cluster.name} is publicly accessible and {max(len(ids), 1) - len(groups)} of its security groups "
                   f"are not declared in this stack, so their rules cannot be checked", cluster.urn)
        for group in groups:
            for opening in _closed_to_world(group, args.resources):
                report(f"{cluster.name} is publicly accessible through a security group open to the internet: {opening}",
                       cluster.urn)


# --- how rules are declared -----------------------------------------------------------------------------------


def _direction(resource: PolicyResource) -> str | None:
    if resource.resource_type == SECURITY_GROUP_RULE:
        return resource.props.get("type")
    return DIRECTION_OF_STANDALONE_RULE.get(resource.resource_type)


def _permissions(entries: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(e["protocol"], e["from"], e["to"], cidr) for e in entries for cidr in e["cidrs"] or [""]}


def security_group_rules_not_mixed(args: StackValidationArgs, report: ReportViolation) -> None:
    """A group that lists its rules of one direction inline owns them all: a standalone rule of that direction on it
    is removed by the group's next update and re-added by its own, on every `pulumi up`. After a refresh the group's
    state also lists the standalone rules, so only inline permissions that no standalone rule explains count."""
    for group in args.resources:
        if group.resource_type not in GROUP_TYPES:
            continue
        for direction in ("ingress", "egress"):
            standalone = [r for r in args.resources
                          if _direction(r) == direction and any(g.urn == group.urn for g in _groups_of(r))]
            if not standalone:
                continue
            explained = _permissions([e for r in standalone for e in rule_entries(r.resource_type, r.props, direction)])
            inline = _permissions(rule_entries(group.resource_type, group.props, direction)) - explained
            if inline:
                names = ", ".join(sorted(r.name for r in standalone))
                report(f"{group.name} declares {direction} rules inline and has standalone {direction} rules ({names}): "
                       f"declare the rules of one direction one way", group.urn)


def _described(text: Any) -> bool:
    return isinstance(text, str) and bool(text.strip()) and text.strip() != PROVIDER_DEFAULT_DESCRIPTION


def security_group_descriptions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        if not _described(props.get("description")):
            report(f"description is not set (the provider writes {PROVIDER_DEFAULT_DESCRIPTION!r}): say what the group "
                   f"guards")
        for direction in ("ingress", "egress"):
            for index, entry in enumerate(as_list(props.get(direction))):
                if isinstance(entry, Mapping) and not _described(entry.get("description")):
                    report(f"{direction}[{index}] has no description: say who the rule lets in or out")
    elif args.resource_type in (SECURITY_GROUP_RULE, VPC_INGRESS_RULE, VPC_EGRESS_RULE):
        if not _described(props.get("description")):
            report("description is not set: say who the rule lets in or out")
