"""What a destroyed stack must not leave behind:

- no AWS resource carries the stack's tags (Resource Groups Tagging API ``GetResources`` with the project and
  stack tags, in the stack's region: https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html);
- no load balancer or network interface is left in its VPCs (the ALB the cluster created has the cluster's
  tags, not the stack's, and would block the VPC's deletion);
- no Confluent environment of its name remains;
- the stack is gone from the backend.

The Tagging API may list a deleted resource for a while (terminated EC2 instances stay visible for up to an
hour), so terminated instances are checked and skipped, and the caller waits a bounded time for the list to
empty before calling anything a leftover.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from e2e import naming
from e2e.confluent import CloudApi


def tagged_resources(tagging, ec2, tags: dict[str, str]) -> list[str]:
    """ARNs of live resources carrying every tag in ``tags``."""
    arns: list[str] = []
    token = ""
    while True:
        page = tagging.get_resources(TagFilters=[{"Key": k, "Values": [v]} for k, v in tags.items()],
                                     **({"PaginationToken": token} if token else {}))
        arns += [mapping["ResourceARN"] for mapping in page.get("ResourceTagMappingList", [])]
        token = page.get("PaginationToken") or ""
        if not token:
            break
    instances = {arn.rsplit("/", 1)[1]: arn for arn in arns if ":instance/" in arn}
    if instances:
        reservations = ec2.describe_instances(InstanceIds=list(instances))["Reservations"]
        gone = {i["InstanceId"] for r in reservations for i in r["Instances"] if i["State"]["Name"] == "terminated"}
        arns = [arn for arn in arns if arn.rsplit("/", 1)[-1] not in gone]
    return arns


def stack_vpcs(ec2, tags: dict[str, str]) -> list[str]:
    """The stack's VPCs, found by its tags (recorded before destroy, so their contents can be checked after)."""
    filters = [{"Name": f"tag:{key}", "Values": [value]} for key, value in tags.items()]
    return [vpc["VpcId"] for vpc in ec2.describe_vpcs(Filters=filters)["Vpcs"]]


def vpc_leftovers(ec2, elbv2, vpc_ids: Sequence[str]) -> list[str]:
    if not vpc_ids:
        return []
    found = []
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        found += [f"load balancer {lb['LoadBalancerName']} ({lb['LoadBalancerArn']}) in {lb['VpcId']}"
                  for lb in page["LoadBalancers"] if lb.get("VpcId") in vpc_ids]
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": list(vpc_ids)}])
    found += [f"network interface {eni['NetworkInterfaceId']} ({eni.get('Description') or 'no description'}) "
              f"in {eni['VpcId']}" for eni in interfaces["NetworkInterfaces"]]
    return found


def confluent_leftovers(cloud: CloudApi, stack: str) -> list[str]:
    name = naming.environment_name(stack)
    return [f"Confluent environment {name} ({env.get('id')})" for env in cloud.environments_named(name)]


def stack_leftover(workspace, stack: str) -> list[str]:
    names = [summary.name for summary in workspace.list_stacks()]
    return [f"Pulumi stack {stack}"] if any(name == stack or name.endswith(f"/{stack}") for name in names) else []


def find_all(aws, cloud: CloudApi, workspace, stack: str, vpc_ids: Sequence[str]) -> list[str]:
    """Every leftover of the stack; a source that cannot be asked is reported as such (never as clean)."""
    found: list[str] = []
    sources: list[tuple[str, Callable[[], list[str]]]] = [
        ("AWS resources tagged with the stack", lambda: [
            f"AWS resource {arn}" for arn in tagged_resources(aws.tagging, aws.ec2, naming.aws_tags(stack))]),
        ("load balancers and network interfaces in its VPCs", lambda: vpc_leftovers(aws.ec2, aws.elbv2, vpc_ids)),
        ("Confluent environments of its name", lambda: confluent_leftovers(cloud, stack)),
        ("the Pulumi stack", lambda: stack_leftover(workspace, stack)),
    ]
    for what, look in sources:
        try:
            found += look()
        except Exception as error:  # noqa: BLE001 - an unanswered question is itself a finding
            found.append(f"could not check {what}: {type(error).__name__}: {error}")
    return found
