"""The rules of the fraud-detection pack: what the original demo got wrong, as checks on what a stack declares.

Resource rules read the camelCase inputs Pulumi hands a policy pack (``args.props``), the resource's provider
(``args.provider.props``, where the AWS default tags live) and their per-stack config (``args.get_config()``,
from ``policies/config.<stack>.json``). Stack rules read every resource with its dependencies, which is how a
security group is found from an id. Props arrive wrapped in read-only Mapping/Sequence proxies, so checks use
``collections.abc`` and never ``dict``/``list``. Nothing here imports a provider SDK: the pack runs on its own.
"""
from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "fraud-detection-guardrails"
PACK_ENFORCEMENT = EnforcementLevel.MANDATORY

# --- resource types -------------------------------------------------------------------------------------------
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP_TYPES = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)
INGRESS_TYPES = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SECURITY_GROUP_RULE, VPC_INGRESS_RULE)
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
REDSHIFT_CLUSTER = "aws:redshift/cluster:Cluster"
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
OPENSEARCH_DOMAIN_POLICY = "aws:opensearch/domainPolicy:DomainPolicy"
EKS_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
IAM_DOCUMENT_TYPES = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
IAM_ROLE = "aws:iam/role:Role"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    DEPLOYMENT: ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
CONNECTOR = "confluentcloud:index/connector:Connector"
FLINK_POOL = "confluentcloud:index/flinkComputePool:FlinkComputePool"
FLINK_STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
# Resources that put a security group in front of a load balancer (an Ingress/Service through its annotations).
LOAD_BALANCER_TYPES = frozenset({
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:alb/loadBalancer:LoadBalancer",
    "aws:elb/loadBalancer:LoadBalancer",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:core/v1:Service",
})

# AWS types without a `tags` argument (pulumi-aws 7): the required-tags rule skips them. Types outside the aws
# package (providers, components, other clouds) are never checked. tests/test_policies.py compares this list
# with the installed SDK for every AWS type our stacks declare, so a new untaggable type fails loudly there.
UNTAGGABLE_AWS_TYPES = frozenset({
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
    "aws:ec2/route:Route",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
    "aws:ec2/networkAclRule:NetworkAclRule",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:opensearch/domainPolicy:DomainPolicy",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:kms/alias:Alias",
    "aws:ec2/volumeAttachment:VolumeAttachment",
    "aws:redshiftdata/statement:Statement",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
    "aws:secretsmanager/secretVersion:SecretVersion",
})

# --- config (per stack in policies/config.<stack>.json; these defaults apply when a key is not set) -----------
SIZE_DEFAULTS: dict[str, Any] = {
    "ec2InstanceTypes": ["t3.large"],
    "redshiftNodeTypes": ["ra3.large"],
    "opensearchInstanceTypes": ["t3.small.search"],
    "maxFlinkCfu": 10,
}
SSH_DEFAULTS: dict[str, Any] = {"allowSsh": False}
TAG_DEFAULTS: dict[str, Any] = {"requiredTags": ["project", "stack", "owner"]}

_STRING_LIST = {"type": "array", "items": {"type": "string"}}

# --- small readers of proxied props -----------------------------------------------------------------------------


def _config(args: ResourceValidationArgs | StackValidationArgs, defaults: Mapping[str, Any]) -> dict[str, Any]:
    return {**defaults, **dict(args.get_config() or {})}


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _items(value: Any) -> list[Any]:
    """A list input as a Python list (a lone string counts as one item; absent as none)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return []


def _is_true(value: Any) -> bool:
    """True for a boolean true or its string form (some AWS inputs, e.g. Redshift `encrypted`, are strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _int(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _json(value: Any) -> Any:
    """A JSON document given as text or as an object; None when absent. Raises ValueError on unreadable text."""
    if value is None or isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    raise ValueError(f"expected a JSON document, got {type(value).__name__}")


def _is_world(cidr: Any) -> bool:
    try:
        return isinstance(cidr, str) and ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


# --- secret-looking keys and values --------------------------------------------------------------------------------

SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "secrets", "token", "credential", "credentials",
                          "passphrase", "apikey", "secretkey", "accesskey", "privatekey"})
KEY_QUALIFIERS = frozenset({"api", "access", "private", "secret", "signing", "encryption", "client", "master", "auth",
                            "ssh", "sas", "account"})
SECRET_VALUE_PATTERNS = (
    (re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@", re.I), "a URL with a password in it"),
    (re.compile(r"\b(password|passwd|pwd|secret)\s*[=:]\s*\S", re.I), "a password assignment"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
)


def _words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [word.lower() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]


def is_secret_key(key: str) -> bool:
    """True for names like DB_PASSWORD, DJANGO_SECRET_KEY, kafka.api.key, authToken (not output.key.format)."""
    words = _words(key)
    for index, word in enumerate(words):
        if word in SECRET_WORDS or word.endswith(("password", "secret", "token")):
            return True
        if word == "key" and index > 0 and words[index - 1] in KEY_QUALIFIERS:
            return True
    return False


def secret_value_kind(value: Any) -> str | None:
    """What secret a value looks like it carries, or None."""
    if not isinstance(value, str):
        return None
    for pattern, kind in SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return kind
    return None


# --- security groups -----------------------------------------------------------------------------------------------


def ingress_entries(resource_type: str, props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every ingress permission a security-group resource declares, as {protocol, from, to, cidrs}."""
    if resource_type in GROUP_TYPES:
        raw = [(entry, entry.get("protocol"), entry.get("cidrBlocks"), entry.get("ipv6CidrBlocks"))
               for entry in _items(props.get("ingress")) if isinstance(entry, Mapping)]
    elif resource_type == SECURITY_GROUP_RULE and props.get("type") == "ingress":
        raw = [(props, props.get("protocol"), props.get("cidrBlocks"), props.get("ipv6CidrBlocks"))]
    elif resource_type == VPC_INGRESS_RULE:
        raw = [(props, props.get("ipProtocol"), props.get("cidrIpv4"), props.get("cidrIpv6"))]
    else:
        return []
    return [
        {
            "protocol": str(protocol if protocol is not None else "").lower(),
            "from": _int(entry.get("fromPort")),
            "to": _int(entry.get("toPort")),
            "cidrs": [c for c in _items(v4) + _items(v6) if isinstance(c, str)],
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
    return [(entry, cidr) for entry in ingress_entries(resource_type, props) for cidr in entry["cidrs"] if _is_world(cidr)]


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
        if cluster.resource_type != REDSHIFT_CLUSTER or not _is_true(cluster.props.get("publiclyAccessible")):
            continue
        ids = _items(cluster.props.get("vpcSecurityGroupIds"))
        groups = [r for r in cluster.property_dependencies.get("vpcSecurityGroupIds", []) if r.resource_type in GROUP_TYPES]
        if len(groups) < max(len(ids), 1):
            report(f"{cluster.name} is publicly accessible and {max(len(ids), 1) - len(groups)} of its security groups "
                   f"are not declared in this stack, so their rules cannot be checked", cluster.urn)
        for group in groups:
            for opening in _closed_to_world(group, args.resources):
                report(f"{cluster.name} is publicly accessible through a security group open to the internet: {opening}",
                       cluster.urn)



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
        admins = {_get(r.props, *path) for r in args.resources if r.resource_type == target_type} - {None}
        if config.get(key) in admins:
            report(f"{connector.name} logs in as the admin user {config[key]!r} of a {target_type} of this stack; give "
                   f"the sink a user of its own, limited to what it writes", connector.urn)

# --- EC2 and EBS ------------------------------------------------------------------------------------------------------


def ec2_imdsv2(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (EC2_INSTANCE, LAUNCH_TEMPLATE):
        return
    options = args.props.get("metadataOptions")
    if _get(options, "httpEndpoint") == "disabled" or _get(options, "httpTokens") == "required":
        return
    report(f"metadataOptions.httpTokens is {_get(options, 'httpTokens')!r}; set it to 'required' (IMDSv2 only)")


def ebs_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == EC2_INSTANCE:
        if not _is_true(_get(props, "rootBlockDevice", "encrypted")):
            report("rootBlockDevice.encrypted is not true: the root volume would rely on an account default")
        for index, device in enumerate(_items(props.get("ebsBlockDevices"))):
            if not _is_true(_get(device, "encrypted")):
                report(f"ebsBlockDevices[{index}] ({_get(device, 'deviceName')}) is not encrypted")
    elif args.resource_type == EBS_VOLUME:
        if not _is_true(props.get("encrypted")):
            report("encrypted is not true")
    elif args.resource_type == LAUNCH_TEMPLATE:
        for index, mapping in enumerate(_items(props.get("blockDeviceMappings"))):
            ebs = _get(mapping, "ebs")
            if ebs is not None and not _is_true(_get(ebs, "encrypted")):
                report(f"blockDeviceMappings[{index}].ebs.encrypted is not true")


def ec2_no_ssh_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (EC2_INSTANCE, LAUNCH_TEMPLATE):
        return
    key_name = args.props.get("keyName")
    if key_name and not _config(args, SSH_DEFAULTS)["allowSsh"]:
        report(f"keyName {key_name!r} is set but this stack does not allow SSH; use Session Manager")


# --- Redshift -----------------------------------------------------------------------------------------------------------


def redshift_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # pulumi-aws 7 encrypts by default (`encrypted` defaults to "true"), so only an explicit false is a violation.
    if args.resource_type == REDSHIFT_CLUSTER and _is_false(args.props.get("encrypted")):
        report("encrypted is false")


def redshift_public_needs_security_groups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REDSHIFT_CLUSTER or not _is_true(args.props.get("publiclyAccessible")):
        return
    if not _items(args.props.get("vpcSecurityGroupIds")):
        report("publiclyAccessible is true without vpcSecurityGroupIds: the cluster would get the VPC default group")


# --- OpenSearch ---------------------------------------------------------------------------------------------------------

TLS_12_OR_LATER = re.compile(r"^Policy-Min-TLS-1-[2-9]")


def opensearch_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != OPENSEARCH_DOMAIN:
        return
    props = args.props
    if not _is_true(_get(props, "encryptAtRest", "enabled")):
        report("encryptAtRest.enabled is not true")
    if not _is_true(_get(props, "nodeToNodeEncryption", "enabled")):
        report("nodeToNodeEncryption.enabled is not true")
    if not _is_true(_get(props, "domainEndpointOptions", "enforceHttps")):
        report("domainEndpointOptions.enforceHttps is not true")
    policy = _get(props, "domainEndpointOptions", "tlsSecurityPolicy")
    if not (isinstance(policy, str) and TLS_12_OR_LATER.match(policy)):
        report(f"domainEndpointOptions.tlsSecurityPolicy is {policy!r}; expected a TLS 1.2+ policy such as "
               f"Policy-Min-TLS-1-2-2019-07")


def opensearch_fine_grained_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != OPENSEARCH_DOMAIN:
        return
    if not _is_true(_get(args.props, "advancedSecurityOptions", "enabled")):
        report("advancedSecurityOptions.enabled is not true (fine-grained access control)")
    if _is_true(_get(args.props, "advancedSecurityOptions", "anonymousAuthEnabled")):
        report("advancedSecurityOptions.anonymousAuthEnabled is true")


def _statements(document: Any) -> list[Mapping[str, Any]]:
    statement = _get(document, "Statement")
    if isinstance(statement, Mapping):
        return [statement]
    return [s for s in _items(statement) if isinstance(s, Mapping)]


def _anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and any("*" in _items(value) for value in principal.values())


def open_access_statements(document: Any) -> list[str]:
    """Allow statements granting everyone access with no Condition, by Sid or index."""
    found = []
    for index, statement in enumerate(_statements(document)):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        if _anyone(statement.get("Principal")) or statement.get("NotPrincipal") is not None:
            found.append(str(statement.get("Sid") or f"Statement[{index}]"))
    return found


def opensearch_no_anonymous_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (OPENSEARCH_DOMAIN, OPENSEARCH_DOMAIN_POLICY):
        return
    try:
        document = _json(args.props.get("accessPolicies"))
    except ValueError as error:
        report(f"accessPolicies is not a readable JSON policy ({error})")
        return
    for statement in open_access_statements(document):
        report(f"accessPolicies {statement} allows Principal '*' with no Condition; name the principals or add a "
               f"Condition (e.g. aws:SourceIp)")


# --- EKS ------------------------------------------------------------------------------------------------------------------


def eks_public_endpoint_restricted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == EKS_COMPONENT:
        settings, prefix = args.props, ""
    elif args.resource_type == EKS_CLUSTER:
        settings, prefix = args.props.get("vpcConfig") or {}, "vpcConfig."
    else:
        return
    if _is_false(_get(settings, "endpointPublicAccess")):
        return
    cidrs = _items(_get(settings, "publicAccessCidrs"))
    if not cidrs:
        report(f"the public API endpoint is on and {prefix}publicAccessCidrs is not set (EKS then allows 0.0.0.0/0)")
    for cidr in cidrs:
        if _is_world(cidr):
            report(f"{prefix}publicAccessCidrs includes {cidr}: the Kubernetes API is open to the internet")


# --- IAM -------------------------------------------------------------------------------------------------------------------


def _wildcard_action(action: Any) -> bool:
    return isinstance(action, str) and (action == "*" or action.endswith(":*"))


def admin_statements(document: Any) -> list[str]:
    """Allow statements with a whole-service (or all) action wildcard on every resource."""
    found = []
    for index, statement in enumerate(_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        actions = _items(statement.get("Action"))
        wild_actions = [a for a in actions if _wildcard_action(a)] or (["NotAction"] if "NotAction" in statement else [])
        every_resource = "*" in _items(statement.get("Resource")) or "NotResource" in statement
        if wild_actions and every_resource:
            found.append(f"{statement.get('Sid') or f'Statement[{index}]'} allows {', '.join(map(str, wild_actions))} on *")
    return found


def iam_no_wildcard_admin(args: ResourceValidationArgs, report: ReportViolation) -> None:
    documents: list[tuple[str, Any]] = []
    if args.resource_type in IAM_DOCUMENT_TYPES:
        key = IAM_DOCUMENT_TYPES[args.resource_type]
        documents.append((key, args.props.get(key)))
    elif args.resource_type == IAM_ROLE:
        documents += [(f"inlinePolicies[{i}]", _get(p, "policy")) for i, p in enumerate(_items(args.props.get("inlinePolicies")))]
    for where, text in documents:
        try:
            document = _json(text)
        except ValueError as error:
            report(f"{where} is not a readable JSON policy ({error})")
            continue
        for finding in admin_statements(document):
            report(f"{where}: {finding}; name the actions and resources the workload needs")


# --- Kubernetes -----------------------------------------------------------------------------------------------------------


def _pod_spec(resource_type: str, props: Mapping[str, Any]) -> Any:
    path = POD_SPEC_PATHS.get(resource_type)
    return _get(props, *path) if path else None


def _containers(spec: Any, include_init: bool = True) -> list[Mapping[str, Any]]:
    keys = ("containers", "initContainers") if include_init else ("containers",)
    return [c for key in keys for c in _items(_get(spec, key)) if isinstance(c, Mapping)]


def configmap_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONFIG_MAP:
        return
    for section in ("data", "binaryData"):
        for key, value in (args.props.get(section) or {}).items():
            if is_secret_key(key):
                report(f"{section}.{key} looks like a secret; put it in a Kubernetes Secret")
            elif section == "data" and (kind := secret_value_kind(value)):
                report(f"{section}.{key} holds {kind}; put it in a Kubernetes Secret")


def deployment_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DEPLOYMENT:
        return
    for container in _containers(_pod_spec(args.resource_type, args.props), include_init=False):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            report(f"container {container.get('name')!r} has no {' and no '.join(missing)}")


def container_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in _containers(_pod_spec(args.resource_type, args.props)):
        limits = _get(container, "resources", "limits") or {}
        missing = [kind for kind in ("cpu", "memory") if not limits.get(kind)]
        if missing:
            report(f"container {container.get('name')!r} has no {' and no '.join(missing)} limit")


def container_non_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = _pod_spec(args.resource_type, args.props)
    pod_level = _is_true(_get(spec, "securityContext", "runAsNonRoot"))
    for container in _containers(spec):
        own = _get(container, "securityContext", "runAsNonRoot")
        if _is_false(own) or not (_is_true(own) or pod_level):
            report(f"container {container.get('name')!r} may run as root: set securityContext.runAsNonRoot true")


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it has a fixed tag or a digest."""
    if not isinstance(image, str) or not image.strip():
        return "has no image reference"
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (it means :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the moving tag latest"
    return None


def image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in _containers(_pod_spec(args.resource_type, args.props)):
        if problem := image_problem(container.get("image")):
            report(f"container {container.get('name')!r}: {problem}; pin a version tag or a digest")


DEBUG_NAME = re.compile(r"(^|_)DEBUG$", re.I)


def _debug_on(name: Any, value: Any) -> bool:
    return isinstance(name, str) and bool(DEBUG_NAME.search(name)) and str(value).strip().lower() in ("true", "1", "yes", "on")


def no_debug_mode(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == CONFIG_MAP:
        for key, value in (args.props.get("data") or {}).items():
            if _debug_on(key, value):
                report(f"data.{key} is {value!r}: debug mode leaks stack traces and settings")
    for container in _containers(_pod_spec(args.resource_type, args.props)):
        for variable in _items(container.get("env")):
            if _debug_on(_get(variable, "name"), _get(variable, "value")):
                report(f"container {container.get('name')!r} sets {variable['name']}={variable['value']!r}: debug mode "
                       f"leaks stack traces and settings")


# --- Confluent ------------------------------------------------------------------------------------------------------------


def connector_no_plaintext_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONNECTOR:
        return
    for key, value in (args.props.get("configNonsensitive") or {}).items():
        if is_secret_key(key):
            report(f"configNonsensitive[{key!r}] looks like a secret; move it to configSensitive")
        elif kind := secret_value_kind(value):
            report(f"configNonsensitive[{key!r}] holds {kind}; move it to configSensitive")


def _sql_code(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


_PART = r"`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*"
_IDENT = rf"(?:{_PART})(?:\s*\.\s*(?:{_PART}))*"  # a possibly qualified table name
CREATE_TABLE = re.compile(rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({_IDENT})", re.I)


def _last_part(identifier: str) -> str:
    return re.findall(_PART, identifier)[-1].strip("`")


def created_tables(sql: str) -> list[str]:
    """Tables (hence topics) a Flink statement creates; a qualified name counts by its last part."""
    return [_last_part(match.group(1)) for match in CREATE_TABLE.finditer(_sql_code(sql))]


DROP_TABLE = re.compile(rf"^\s*DROP\s+TABLE\s+IF\s+EXISTS\s+({_IDENT})\s*;?\s*$", re.I)
READS_TABLE = re.compile(rf"\b(?:FROM|JOIN|INSERT\s+INTO|ALTER\s+TABLE|\(\s*TABLE)\s+({_IDENT})", re.I)


def dropped_table(sql: str) -> str | None:
    """The table a ``DROP TABLE IF EXISTS`` statement drops, or None for any other statement."""
    match = DROP_TABLE.match(_sql_code(sql))
    return _last_part(match.group(1)) if match else None


def touched_tables(sql: str) -> set[str]:
    """Tables a Flink statement creates, reads, inserts into or alters (last part of a qualified name)."""
    return set(created_tables(sql)) | {_last_part(m.group(1)) for m in READS_TABLE.finditer(_sql_code(sql))}


def flink_tables_rebuildable(args: StackValidationArgs, report: ReportViolation) -> None:
    """A table Flink creates outlives its statement; without a drop that runs before a changed statement (and
    whose replacement deletes every statement of that table first) the new CREATE fails with "already exists"."""
    statements = [r for r in args.resources if r.resource_type == FLINK_STATEMENT and isinstance(r.props.get("statement"), str)]
    drops = {table: r for r in statements if (table := dropped_table(r.props["statement"]))}
    for table, drop in drops.items():
        if not drop.opts.delete_before_replace:
            report(f"{drop.name} drops {table!r} but is not delete-before-replace: its replacement would run the "
                   f"drop while the old statements of {table!r} still run", drop.urn)
    for statement in statements:
        if statement in drops.values():
            continue
        created = created_tables(statement.props["statement"])
        for table in created:
            if table not in drops:
                report(f"{statement.name} creates table {table!r} but no DROP TABLE IF EXISTS statement of the stack "
                       f"drops it first: a changed statement would fail with 'already exists'", statement.urn)
        if created and not statement.opts.delete_before_replace:
            report(f"{statement.name} creates a table but is not delete-before-replace", statement.urn)
        text_sources = statement.property_dependencies.get("statement") or []
        for table in sorted(touched_tables(statement.props["statement"]) & set(drops)):
            if drops[table] not in text_sources:
                report(f"{statement.name} uses table {table!r} but its statement text does not depend on "
                       f"{drops[table].name}: replacing that drop would not delete it first", statement.urn)


def _config_list(value: Any) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def sink_topics_have_producers(args: StackValidationArgs, report: ReportViolation) -> None:
    flink_tables: set[str] = set()
    sources: list[tuple[str, list[str]]] = []
    sinks: list[tuple[PolicyResource, Mapping[str, Any]]] = []
    for resource in args.resources:
        if resource.resource_type == FLINK_STATEMENT and isinstance(resource.props.get("statement"), str):
            flink_tables.update(created_tables(resource.props["statement"]))
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
                report(f"{sink.name} reads topic {topic!r}, which no Flink statement (CREATE TABLE) and no CDC source "
                       f"(topic.prefix + table.include.list) of this stack produces", sink.urn)


# --- tags and sizes -------------------------------------------------------------------------------------------------------


def _provider_default_tags(args: ResourceValidationArgs) -> Mapping[str, Any]:
    """The AWS provider's defaultTags.tags; providers carry nested config as JSON text or as an object."""
    if args.provider is None:
        return {}
    try:
        default_tags = _json(args.provider.props.get("defaultTags"))
    except ValueError:
        return {}
    tags = _get(default_tags, "tags")
    return tags if isinstance(tags, Mapping) else {}


def aws_required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:") or args.resource_type in UNTAGGABLE_AWS_TYPES:
        return
    tags = {**_provider_default_tags(args), **(args.props.get("tagsAll") or {}), **(args.props.get("tags") or {})}
    missing = [key for key in _config(args, TAG_DEFAULTS)["requiredTags"] if not str(tags.get(key) or "").strip()]
    if missing:
        report(f"missing tags {', '.join(missing)} (neither on the resource nor in its provider's defaultTags)")


def allowed_sizes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = _config(args, SIZE_DEFAULTS)
    props = args.props
    checks: list[tuple[str, Any, str]] = []
    if args.resource_type == EC2_INSTANCE:
        checks.append(("instanceType", props.get("instanceType"), "ec2InstanceTypes"))
    elif args.resource_type == REDSHIFT_CLUSTER:
        checks.append(("nodeType", props.get("nodeType"), "redshiftNodeTypes"))
    elif args.resource_type == OPENSEARCH_DOMAIN:
        checks.append(("clusterConfig.instanceType", _get(props, "clusterConfig", "instanceType"), "opensearchInstanceTypes"))
        if _is_true(_get(props, "clusterConfig", "dedicatedMasterEnabled")):
            checks.append(("clusterConfig.dedicatedMasterType", _get(props, "clusterConfig", "dedicatedMasterType"),
                           "opensearchInstanceTypes"))
    elif args.resource_type == FLINK_POOL:
        cfu = _int(props.get("maxCfu"))
        if cfu is None or cfu > int(config["maxFlinkCfu"]):
            report(f"maxCfu {cfu if cfu is not None else props.get('maxCfu')!r} is above this stack's limit of "
                   f"{config['maxFlinkCfu']} CFU")
    for field, value, allowed_key in checks:
        if value not in list(config[allowed_key]):
            report(f"{field} {value!r} is not allowed in this stack (allowed: {', '.join(config[allowed_key])})")


# --- the pack ---------------------------------------------------------------------------------------------------------------


def _resource(name: str, description: str, validate, schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate, config_schema=schema)


POLICIES: list[Policy] = [
    _resource("no-world-ingress",
              "Security groups allow no ingress from 0.0.0.0/0 or ::/0 except HTTP/HTTPS (80, 443).",
              no_world_ingress),
    StackValidationPolicy(
        name="world-web-ingress-only-on-load-balancers",
        description="HTTP/HTTPS open to the internet only on security groups attached to a load balancer.",
        validate=web_ingress_only_on_load_balancers),
    _resource("ec2-imdsv2-required", "EC2 instances require IMDSv2 (metadataOptions.httpTokens = required).",
              ec2_imdsv2),
    _resource("ebs-encrypted", "EC2 root and EBS volumes are encrypted.", ebs_encrypted),
    _resource("ec2-no-ssh-key", "No EC2 key pair unless the stack allows SSH (Session Manager is the way in).",
              ec2_no_ssh_key,
              PolicyConfigSchema({"allowSsh": {"type": "boolean", "default": SSH_DEFAULTS["allowSsh"]}})),
    _resource("redshift-encrypted", "Redshift clusters are encrypted at rest.", redshift_encrypted),
    _resource("redshift-public-needs-security-groups",
              "A publicly accessible Redshift cluster names the security groups that restrict it.",
              redshift_public_needs_security_groups),
    StackValidationPolicy(
        name="redshift-public-security-groups-closed",
        description="The security groups of a publicly accessible Redshift cluster are declared here and closed to the internet.",
        validate=public_redshift_groups_closed),
    _resource("opensearch-encryption",
              "OpenSearch encrypts at rest and between nodes and serves HTTPS only with TLS 1.2+.",
              opensearch_encryption),
    _resource("opensearch-fine-grained-access",
              "OpenSearch has fine-grained access control on and anonymous access off.",
              opensearch_fine_grained_access),
    _resource("opensearch-no-anonymous-access",
              "OpenSearch access policies grant nothing to Principal '*' without a Condition.",
              opensearch_no_anonymous_access),
    _resource("eks-public-endpoint-restricted",
              "The EKS public API endpoint is off or limited to named CIDRs (never 0.0.0.0/0).",
              eks_public_endpoint_restricted),
    _resource("iam-no-wildcard-admin", "IAM policies grant no wildcard actions on every resource.",
              iam_no_wildcard_admin),
    _resource("k8s-configmap-no-secrets", "ConfigMaps hold no passwords, secrets, keys or tokens.",
              configmap_no_secrets),
    _resource("k8s-deployment-probes", "Deployment containers have readiness and liveness probes.",
              deployment_probes),
    _resource("k8s-resource-limits", "Containers have CPU and memory limits.", container_limits),
    _resource("k8s-run-as-non-root", "Containers run with runAsNonRoot.", container_non_root),
    _resource("k8s-image-pinned", "Container images are pinned to a version tag or digest (no latest, no untagged).",
              image_pinned),
    _resource("no-debug-mode", "No DEBUG=true in ConfigMaps or container environments.", no_debug_mode),
    _resource("connector-no-plaintext-secrets",
              "Confluent connectors keep passwords, secrets and keys out of configNonsensitive.",
              connector_no_plaintext_secrets),
    StackValidationPolicy(
        name="sink-connectors-not-admin",
        description="Redshift and OpenSearch sink connectors do not log in as the admin user of their target.",
        validate=sinks_not_admin),
    StackValidationPolicy(
        name="flink-tables-rebuildable",
        description="Every table a Flink statement creates is dropped by a delete-before-replace statement whose "
                    "replacement first deletes every statement of that table.",
        validate=flink_tables_rebuildable),
    StackValidationPolicy(
        name="sink-topics-have-producers",
        description="Every topic a sink connector reads is produced by a Flink statement or the CDC source of the stack.",
        validate=sink_topics_have_producers),
    _resource("aws-required-tags",
              "Taggable AWS resources carry the project, stack and owner tags (own tags or provider default tags).",
              aws_required_tags,
              PolicyConfigSchema({"requiredTags": {**_STRING_LIST, "default": TAG_DEFAULTS["requiredTags"]}})),
    _resource("allowed-sizes",
              "EC2, Redshift and OpenSearch sizes and the Flink CFU ceiling are within the stack's allowed list.",
              allowed_sizes,
              PolicyConfigSchema({
                  "ec2InstanceTypes": {**_STRING_LIST, "default": SIZE_DEFAULTS["ec2InstanceTypes"]},
                  "redshiftNodeTypes": {**_STRING_LIST, "default": SIZE_DEFAULTS["redshiftNodeTypes"]},
                  "opensearchInstanceTypes": {**_STRING_LIST, "default": SIZE_DEFAULTS["opensearchInstanceTypes"]},
                  "maxFlinkCfu": {"type": "integer", "minimum": 1, "default": SIZE_DEFAULTS["maxFlinkCfu"]},
              })),
]

POLICY_NAMES = [policy.name for policy in POLICIES]


def policy(name: str) -> Policy:
    """One policy of the pack by name (tests and the evaluator use it)."""
    found = [p for p in POLICIES if p.name == name]
    if not found:
        raise KeyError(f"no policy {name!r} in the pack; known: {', '.join(POLICY_NAMES)}")
    return found[0]
