"""Confluent's connector egress ranges on the Oracle and Redshift security groups: any number up to what the
AWS quotas allow, spread over groups of at most 60 rules; more stops the program before anything exists."""
from __future__ import annotations

import ipaddress

import pytest

from components import confluent_egress
from components.confluent_egress import GROUPS_PER_INTERFACE, MAX_RANGES, RULES_PER_GROUP, egress_prefixes, spread
from mockcloud import answers
from mockcloud.answers import REGION
from mockcloud.program import Program, run_program

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC = "10.40.0.0/16"
DATABASES = {  # component type -> the port it listens on and the resource that carries the groups
    "fraud:oracle:OracleDb": (1521, "aws:ec2/instance:Instance"),
    "fraud:redshift:RedshiftWarehouse": (5439, "aws:redshift/cluster:Cluster"),
}


def ranges(count: int) -> list[str]:
    """``count`` distinct public /28 ranges, as Confluent might publish them."""
    base = int(ipaddress.ip_address("52.28.0.0"))
    return [str(ipaddress.ip_network((base + 16 * index, 28))) for index in range(count)]


def with_ranges(monkeypatch, count: int) -> Program:
    monkeypatch.setattr(answers, "CONFLUENT_EGRESS", ranges(count))
    return run_program("dev")


def inbound_rules(group) -> int:
    """How many rules AWS counts for a group: one per CIDR of each permission."""
    return sum(len(rule.get("cidrBlocks", [])) + len(rule.get("ipv6CidrBlocks", [])) for rule in group.inputs["ingress"])


@pytest.mark.parametrize("count", [10, 59, 60, 61, 200])
def test_every_range_is_admitted_within_the_quotas(monkeypatch, count):
    program = with_ranges(monkeypatch, count)
    for component_type, (port, carrier_type) in DATABASES.items():
        component = program.one(component_type)
        groups = [r for r in program.descendants(component) if r.type == SECURITY_GROUP]
        [carrier] = [r for r in program.descendants(component) if r.type == carrier_type]
        attached = carrier.inputs["vpcSecurityGroupIds"]
        assert sorted(attached) == sorted(f"{g.name}-id" for g in groups)
        assert len(attached) <= GROUPS_PER_INTERFACE
        assert all(inbound_rules(group) <= RULES_PER_GROUP for group in groups), [inbound_rules(g) for g in groups]
        sources = sorted(
            cidr for group in groups for rule in group.inputs["ingress"] if rule["fromPort"] == port
            for cidr in rule["cidrBlocks"]
        )
        assert sources == sorted([*ranges(count), VPC])
        # Connector groups only as many as the ranges need: 60 to a group.
        assert len(groups) == 1 + -(-count // RULES_PER_GROUP)


def test_two_hundred_ranges_need_four_connector_groups(monkeypatch):
    program = with_ranges(monkeypatch, 200)
    ingress = program.named("fraud-dev-redshift-connector-ingress")
    groups = sorted(program.children(ingress), key=lambda group: int(group.name.rsplit("-", 1)[1]))
    assert [group.name for group in groups] == [f"fraud-dev-redshift-connector-ingress-{n}" for n in (1, 2, 3, 4)]
    assert [inbound_rules(group) for group in groups] == [60, 60, 60, 20]


@pytest.mark.parametrize("count", [MAX_RANGES + 1, 300])
def test_too_many_ranges_stop_the_program_naming_the_quotas(monkeypatch, count):
    monkeypatch.setattr(answers, "CONFLUENT_EGRESS", ranges(count))
    with pytest.raises(ValueError) as raised:
        run_program("dev")
    message = str(raised.value)
    for part in (f"{count} CONNECT egress ranges", "60 inbound rules per security group",
                 "5 security groups per network interface", f"at most {MAX_RANGES}", confluent_egress.QUOTAS_PAGE):
        assert part in message, message
    # Checked right after the config, before the stack's resources: only the AWS provider exists.
    assert [r.type for r in raised.value.registered] == ["pulumi:providers:aws"]


def test_the_limit_is_exactly_four_groups_of_sixty():
    assert [len(group) for group in spread(ranges(MAX_RANGES))] == [60, 60, 60, 60]
    with pytest.raises(ValueError, match="at most 240"):
        spread(ranges(MAX_RANGES + 1))


class Address:
    def __init__(self, prefix: str):
        self.ip_prefix = prefix


def test_the_lookup_is_sorted_deduplicated_and_refuses_nothing_or_the_world():
    found = egress_prefixes([Address("3.1.0.0/24"), Address("1.2.3.0/28"), Address("3.1.0.0/24")], REGION)
    assert found == ("1.2.3.0/28", "3.1.0.0/24")
    with pytest.raises(ValueError, match="no CONNECT egress"):
        egress_prefixes([], REGION)
    with pytest.raises(ValueError, match="whole internet"):
        egress_prefixes([Address("0.0.0.0/0")], REGION)


def test_the_lookup_is_made_once_before_the_databases_and_opensearch_use_it(dev):
    [lookup] = dev.invokes_of("confluentcloud:index/getIpAddresses:getIpAddresses")
    assert lookup.args["filter"] == {"clouds": ["AWS"], "regions": [REGION], "services": ["CONNECT"],
                                     "addressTypes": ["EGRESS"]}
