"""The leftover check after destroy: moto for the Tagging API, EC2 and ELBv2 (it answers GetResources from the
resources it holds, with their tags), a local Confluent Cloud stand-in, a stand-in workspace for the stack list;
and the naming rules it relies on, against what the program declares under mocks."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from e2e import leftovers, naming
from e2e.confluent import CloudApi
from tests.e2e_standins import FakeConfluent

REGION = "eu-central-1"


@dataclass
class Aws:
    tagging: object
    ec2: object
    elbv2: object


@pytest.fixture(scope="module")
def aws():
    """One mocked account for the module (moto's Tagging API is slow to start); each test uses its own stack."""
    with mock_aws():
        yield Aws(*(boto3.client(s, region_name=REGION) for s in ("resourcegroupstaggingapi", "ec2", "elbv2")))


NAMES = itertools.count(1)


@pytest.fixture
def stack():
    return f"e2e-test{next(NAMES):04d}"


def tags_of(stack):
    return {**naming.aws_tags(stack), "owner": "fraud-demo-team"}


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def network(aws, tags):
    vpc = aws.ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": tag_list(tags)}])["Vpc"]["VpcId"]
    zones = [f"{REGION}a", f"{REGION}b"]
    subnets = [aws.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{n}.0/24", AvailabilityZone=zone,
                                     TagSpecifications=[{"ResourceType": "subnet", "Tags": tag_list(tags)}])["Subnet"]["SubnetId"]
               for n, zone in enumerate(zones)]
    return vpc, subnets


class Workspace:
    def __init__(self, *names):
        self.names = list(names)

    def list_stacks(self):
        return [type("Summary", (), {"name": name}) for name in self.names]


def test_tagged_resources_of_the_stack_are_found_and_other_stacks_are_not(aws, stack):
    vpc, subnets = network(aws, tags_of(stack))
    network(aws, tags_of(stack + "x"))
    found = leftovers.tagged_resources(aws.tagging, aws.ec2, naming.aws_tags(stack))
    assert sorted(arn.rsplit("/", 1)[1] for arn in found) == sorted([vpc, *subnets])


def test_a_terminated_instance_still_listed_by_the_tagging_api_is_not_a_leftover(aws, stack):
    _vpc, subnets = network(aws, tags_of(stack))
    image = aws.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = aws.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnets[0], TagSpecifications=[
        {"ResourceType": "instance", "Tags": tag_list(tags_of(stack))}])["Instances"][0]["InstanceId"]
    assert any(instance in arn for arn in leftovers.tagged_resources(aws.tagging, aws.ec2, naming.aws_tags(stack)))
    aws.ec2.terminate_instances(InstanceIds=[instance])
    assert not any(instance in arn for arn in leftovers.tagged_resources(aws.tagging, aws.ec2, naming.aws_tags(stack)))


def test_load_balancers_and_network_interfaces_left_in_the_vpc_are_found(aws):
    vpc, subnets = network(aws, {"Name": "untagged-by-the-stack"})
    assert leftovers.vpc_leftovers(aws.ec2, aws.elbv2, [vpc]) == []
    # What EKS Auto Mode leaves when an Ingress outlives its cluster: an ALB with its own tags, and its ENIs.
    aws.elbv2.create_load_balancer(Name="k8s-fraud-app-0123456789", Subnets=subnets, Scheme="internet-facing",
                                   Type="application")
    eni = aws.ec2.create_network_interface(SubnetId=subnets[0], Description="ELB app/k8s-fraud-app")["NetworkInterface"]
    found = leftovers.vpc_leftovers(aws.ec2, aws.elbv2, [vpc])
    assert any(item.startswith("load balancer k8s-fraud-app-0123456789 (arn:aws:elasticloadbalancing:") and
               item.endswith(f"in {vpc}") for item in found)
    assert f"network interface {eni['NetworkInterfaceId']} (ELB app/k8s-fraud-app) in {vpc}" in found
    other_vpc, _ = network(aws, {"Name": "another"})
    assert leftovers.vpc_leftovers(aws.ec2, aws.elbv2, [other_vpc]) == []


def test_find_all_lists_every_kind_of_leftover_and_an_unanswered_question(aws, stack):
    vpc, _subnets = network(aws, tags_of(stack))
    with FakeConfluent() as fake:
        fake.add_environment("env-9", naming.environment_name(stack))
        fake.add_environment("env-1", "fraud-dev-env")
        for _ in range(2):  # environments are paged: the match may be on any page
            for n in range(60):
                fake.add_environment(f"env-x{_}{n}", f"other-{_}-{n}")
        cloud = CloudApi("CLOUDKEY", "cloud-secret", base_url=fake.url)
        found = leftovers.find_all(aws, cloud, Workspace("dev", stack), stack, [vpc])
        assert f"Confluent environment fraud-{stack}-env (env-9)" in found
        assert f"Pulumi stack {stack}" in found
        assert any(item.startswith("AWS resource arn:aws:ec2:") and vpc in item for item in found)
        refused = leftovers.find_all(aws, CloudApi("CLOUDKEY", "wrong", base_url=fake.url), Workspace(), stack, [])
    assert any(item.startswith("could not check Confluent environments of its name: ConfluentApiError") for item in refused)


def test_nothing_left_is_an_empty_list(aws, stack):
    with FakeConfluent() as fake:
        cloud = CloudApi("CLOUDKEY", "cloud-secret", base_url=fake.url)
        assert leftovers.find_all(aws, cloud, Workspace("dev"), stack, []) == []


# -- the names the leftover check and the diagnostics look for are the ones the program gives

def test_naming_agrees_with_the_program(dev):
    provider = dev.one("pulumi:providers:aws")
    default_tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert {k: default_tags[k] for k in naming.aws_tags("dev")} == naming.aws_tags("dev")
    environment = dev.one("confluentcloud:index/environment:Environment")
    assert environment.inputs["displayName"] == naming.environment_name("dev")
    parameters = {r.inputs["name"] for r in dev.of_type("aws:ssm/parameter:Parameter")}
    assert naming.oracle_status_parameter("dev") in parameters
    assert dev.outputs["cdcTopics"] == naming.cdc_topics(dev.config)
