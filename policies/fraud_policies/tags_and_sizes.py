"""Tags and sizes: the required tags on every taggable AWS resource, and the sizes each stack allows."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .resource_types import EC2_INSTANCE, FLINK_POOL, OPENSEARCH_DOMAIN, REDSHIFT_CLUSTER
from .values import as_int, as_json, config_with_defaults, get_path, is_true

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

# Per stack in policies/config.<stack>.json; these defaults apply when a key is not set.
SIZE_DEFAULTS: dict[str, Any] = {
    "ec2InstanceTypes": ["t3.large"],
    "redshiftNodeTypes": ["ra3.large"],
    "opensearchInstanceTypes": ["t3.small.search"],
    "maxFlinkCfu": 10,
}
TAG_DEFAULTS: dict[str, Any] = {"requiredTags": ["project", "stack", "owner"]}


def _provider_default_tags(args: ResourceValidationArgs) -> Mapping[str, Any]:
    """The AWS provider's defaultTags.tags; providers carry nested config as JSON text or as an object."""
    if args.provider is None:
        return {}
    try:
        default_tags = as_json(args.provider.props.get("defaultTags"))
    except ValueError:
        return {}
    tags = get_path(default_tags, "tags")
    return tags if isinstance(tags, Mapping) else {}


def aws_required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:") or args.resource_type in UNTAGGABLE_AWS_TYPES:
        return
    tags = {**_provider_default_tags(args), **(args.props.get("tagsAll") or {}), **(args.props.get("tags") or {})}
    missing = [key for key in config_with_defaults(args, TAG_DEFAULTS)["requiredTags"] if not str(tags.get(key) or "").strip()]
    if missing:
        report(f"missing tags {', '.join(missing)} (neither on the resource nor in its provider's defaultTags)")


def allowed_sizes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = config_with_defaults(args, SIZE_DEFAULTS)
    props = args.props
    checks: list[tuple[str, Any, str]] = []
    if args.resource_type == EC2_INSTANCE:
        checks.append(("instanceType", props.get("instanceType"), "ec2InstanceTypes"))
    elif args.resource_type == REDSHIFT_CLUSTER:
        checks.append(("nodeType", props.get("nodeType"), "redshiftNodeTypes"))
    elif args.resource_type == OPENSEARCH_DOMAIN:
        checks.append(("clusterConfig.instanceType", get_path(props, "clusterConfig", "instanceType"), "opensearchInstanceTypes"))
        if is_true(get_path(props, "clusterConfig", "dedicatedMasterEnabled")):
            checks.append(("clusterConfig.dedicatedMasterType", get_path(props, "clusterConfig", "dedicatedMasterType"),
                           "opensearchInstanceTypes"))
    elif args.resource_type == FLINK_POOL:
        cfu = as_int(props.get("maxCfu"))
        if cfu is None or cfu > int(config["maxFlinkCfu"]):
            report(f"maxCfu {cfu if cfu is not None else props.get('maxCfu')!r} is above this stack's limit of "
                   f"{config['maxFlinkCfu']} CFU")
    for field, value, allowed_key in checks:
        if value not in list(config[allowed_key]):
            report(f"{field} {value!r} is not allowed in this stack (allowed: {', '.join(config[allowed_key])})")
