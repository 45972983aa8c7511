"""NetworkStack as the program declares it."""
import ipaddress
import itertools

import pytest

from components.network import subnet_cidrs
from mockcloud.program import run_program

SUBNET = "aws:ec2/subnet:Subnet"


def _subnets(program, role):
    return [s for s in program.of_type(SUBNET) if f"-{role}-" in s.name]


def test_subnets_inside_vpc_disjoint_and_in_distinct_zones(dev):
    vpc = dev.one("aws:ec2/vpc:Vpc")
    network = ipaddress.ip_network(vpc.inputs["cidrBlock"])
    subnets = dev.of_type(SUBNET)
    assert len(subnets) == 6
    ranges = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(r.subnet_of(network) for r in ranges)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(ranges, 2))
    for role in ("public", "private"):
        zones = [s.inputs["availabilityZone"] for s in _subnets(dev, role)]
        assert len(set(zones)) == 3


def test_cidrs_follow_the_vpc_range():
    public, private = subnet_cidrs("172.20.0.0/18", 2)
    assert public == ["172.20.0.0/22", "172.20.4.0/22"]
    assert private == ["172.20.32.0/22", "172.20.36.0/22"]
    program = run_program("dev", overrides={"fraud-detection:vpcCidr": "172.20.0.0/18", "fraud-detection:azCount": 2})
    assert sorted(s.inputs["cidrBlock"] for s in program.of_type(SUBNET)) == sorted(public + private)


def test_load_balancer_subnet_tags(dev):
    for subnet in _subnets(dev, "public"):
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert subnet.inputs.get("mapPublicIpOnLaunch") is False
    for subnet in _subnets(dev, "private"):
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"


def test_one_nat_for_dev_routes_every_private_subnet_through_it(dev):
    nats = dev.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 1
    private_tables = [t for t in dev.of_type("aws:ec2/routeTable:RouteTable") if "-private-rt-" in t.name]
    assert len(private_tables) == 3
    for table in private_tables:
        assert table.inputs["routes"][0]["natGatewayId"] == f"{nats[0].name}-id"


def test_ha_has_one_nat_per_zone_in_its_own_public_subnet(ha):
    nats = ha.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    assert {n.inputs["subnetId"] for n in nats} == {f"{s.name}-id" for s in _subnets(ha, "public")}
    private_tables = sorted((t for t in ha.of_type("aws:ec2/routeTable:RouteTable") if "-private-rt-" in t.name), key=lambda t: t.name)
    assert [t.inputs["routes"][0]["natGatewayId"] for t in private_tables] == [f"{n.name}-id" for n in sorted(nats, key=lambda n: n.name)]


def test_default_security_group_is_emptied(dev):
    default = dev.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_zones_come_from_the_region_lookup(dev):
    lookups = dev.invokes_of("aws:index/getAvailabilityZones:getAvailabilityZones")
    assert lookups and lookups[0].args.get("state") == "available"


def test_outputs(dev):
    assert dev.outputs["vpcId"] == "fraud-dev-vpc-id"
    assert len(dev.outputs["privateSubnetIds"]) == 3


def test_more_zones_than_the_region_has_is_an_error():
    with pytest.raises(Exception, match="azCount"):
        run_program("dev", overrides={"fraud-detection:azCount": 4})
