"""Confluent Cloud's connector egress: the public ranges its managed connectors reach databases from, and the
security groups that admit them on a database's port.

Firewalls in front of a database that a Confluent connector reads or writes allow these ranges (and their own
VPC) instead of 0.0.0.0/0. Their number is Confluent's to choose, and security groups are small: by default a
group holds 60 inbound rules, each range is one rule, and a network interface takes 5 groups (Amazon VPC
quotas, https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups,
read 2026-12-01). A managed prefix list would not raise that ceiling: a rule referencing one counts the list's
maximum entries against the group's 60 (same page, "Customer-managed prefix lists"). So ``ConnectorIngress``
spreads the ranges over as many groups as they need, 60 each, and a database keeps one group of its own next
to them (the VPC, SSH, outbound): at most 4 x 60 = 240 ranges with the default quotas.

The ranges come from an invoke. Its result decides how many groups exist, and resources cannot be created
inside an ``apply``, so ``connect_egress_cidrs`` uses the invoke's plain (blocking) form: ``pulumi preview``
runs it too, with the real answer, and a list that cannot fit stops the preview with a message naming the
quotas, before anything is registered. If Confluent publishes more ranges later, the next preview shows the
extra group; ranges that move between groups are revoked in one and authorized in the other within one update.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_confluentcloud as confluentcloud

QUOTAS_PAGE = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
RULES_PER_GROUP = 60  # "Inbound or outbound rules per security group", default
GROUPS_PER_INTERFACE = 5  # "Security groups per network interface", default
OWN_GROUPS = 1  # the group each database keeps for the VPC, SSH and outbound rules
CONNECTOR_GROUPS = GROUPS_PER_INTERFACE - OWN_GROUPS
MAX_RANGES = CONNECTOR_GROUPS * RULES_PER_GROUP


def spread(cidrs: Sequence[str]) -> list[tuple[str, ...]]:
    """The ranges in groups of at most RULES_PER_GROUP; refuses more than the groups a database may carry."""
    groups = [tuple(cidrs[start:start + RULES_PER_GROUP]) for start in range(0, len(cidrs), RULES_PER_GROUP)]
    if len(groups) > CONNECTOR_GROUPS:
        raise ValueError(
            f"Confluent Cloud lists {len(cidrs)} CONNECT egress ranges; with the AWS default quotas of "
            f"{RULES_PER_GROUP} inbound rules per security group and {GROUPS_PER_INTERFACE} security groups per "
            f"network interface (one of them the database's own), a database admits at most {MAX_RANGES} "
            f"({QUOTAS_PAGE})"
        )
    return groups


def egress_prefixes(addresses: Sequence, region: str) -> tuple[str, ...]:
    """The sorted, de-duplicated IPv4 prefixes of the lookup; refuses an empty answer and world-wide ranges."""
    prefixes = sorted({address.ip_prefix for address in addresses})
    if not prefixes:
        raise ValueError(
            f"Confluent Cloud lists no CONNECT egress addresses for AWS {region}; "
            "connectors there could not be allowed through the database firewalls"
        )
    wide = [prefix for prefix in prefixes if ipaddress.ip_network(prefix, strict=False).prefixlen == 0]
    if wide:
        raise ValueError(f"Confluent Cloud's CONNECT egress for AWS {region} includes {wide[0]}: that would open "
                         f"the databases to the whole internet")
    return tuple(prefixes)


def connect_egress_cidrs(region: str, opts: pulumi.InvokeOptions | None = None) -> tuple[str, ...]:
    """CIDRs of Confluent Cloud's CONNECT egress on AWS in ``region``, checked to fit the security groups."""
    result = confluentcloud.get_ip_addresses(
        filter=confluentcloud.GetIpAddressesFilterArgs(
            clouds=["AWS"], regions=[region], services=["CONNECT"], address_types=["EGRESS"]
        ),
        opts=opts,
    )
    prefixes = egress_prefixes(result.ip_addresses, region)
    spread(prefixes)
    return prefixes


@dataclass
class ConnectorIngressArgs:
    vpc_id: pulumi.Input[str]
    port: int
    service: str  # what listens on the port, for the groups' descriptions, e.g. "Oracle listener"
    connector_cidrs: Sequence[str]  # from connect_egress_cidrs


class ConnectorIngress(pulumi.ComponentResource):
    """Security groups admitting Confluent's connector egress ranges on one port, RULES_PER_GROUP per group."""

    security_groups: list[aws.ec2.SecurityGroup]
    security_group_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: ConnectorIngressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:egress:ConnectorIngress", name, None, opts)
        self.security_groups = [
            aws.ec2.SecurityGroup(
                f"{name}-{number}",
                vpc_id=args.vpc_id,
                # The description cannot change in place: it names the group, not how many ranges it holds.
                description=f"{args.service} ({args.port}) from Confluent Cloud connector egress, group {number}",
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        description=f"{args.service} from Confluent Cloud connectors",
                        protocol="tcp",
                        from_port=args.port,
                        to_port=args.port,
                        cidr_blocks=list(cidrs),
                    )
                ],
                egress=[],  # stateful: answers flow back; nothing starts from here
                tags={"Name": f"{name}-{number}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for number, cidrs in enumerate(spread(list(args.connector_cidrs)), start=1)
        ]
        self.security_group_ids = [group.id for group in self.security_groups]
        self.register_outputs({"security_group_ids": self.security_group_ids})
