"""Network: internet-open ingress on security groups, inline or standalone, and who may be open to the web."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from .resource_types import GROUP_TYPES, LOAD_BALANCER_TYPES, REDSHIFT_CLUSTER, SECURITY_GROUP_RULE, VPC_INGRESS_RULE
from .values import as_int, as_list, is_true, is_world


def ingress_entries(resource_type: str, props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every ingress permission a security-group resource declares, as {protocol, from, to, cidrs}."""
    if resource_type in GROUP_TYPES:
        raw = [(entry, entry.get("protocol"), entry.get("cidrBlocks"), entry.get("ipv6CidrBlocks"))
               for entry in as_list(props.get("ingress")) if isinstance(entry, Mapping)]
    elif resource_type == SECURITY_GROUP_RULE and props.get("type") == "ingress":
        raw = [(props, props.get("protocol"), props.get("cidrBlocks"), props.get("ipv6CidrBlocks"))]
    elif resource_type == VPC_INGRESS_RULE:
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
    return [(entry, cidr) for entry in ingress_entries(resource_type, props) for cidr in entry["cidrs"] if is_world(cidr)]


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
