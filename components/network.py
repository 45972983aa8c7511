"""NetworkStack: the VPC everything on AWS lives in.

Public subnets hold the ALB, the NAT gateways and the database hosts that Confluent Cloud must reach;
private subnets hold the EKS nodes and pods. Subnet ranges are carved out of the VPC range, so changing
``vpcCidr`` moves all of them consistently.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Every subnet is 1/16th of the VPC range: publics take the first slots, privates start halfway.
SUBNET_BITS = 4
PRIVATE_OFFSET = 8


@dataclass
class NetworkStackArgs:
    cidr: str
    az_count: int
    nat_per_az: bool


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Public and private subnet ranges for ``az_count`` zones, derived from the VPC range."""
    slots = list(ipaddress.ip_network(vpc_cidr).subnets(prefixlen_diff=SUBNET_BITS))
    if az_count > PRIVATE_OFFSET:
        raise ValueError(f"at most {PRIVATE_OFFSET} zones fit this layout, got {az_count}")
    public = [str(slots[i]) for i in range(az_count)]
    private = [str(slots[PRIVATE_OFFSET + i]) for i in range(az_count)]
    return public, private


class NetworkStack(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    availability_zones: list[str]

    def __init__(self, name: str, args: NetworkStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:network:NetworkStack", name, None, opts)

        zones = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(parent=self)).names
        if len(zones) < args.az_count:
            raise ValueError(
                f"fraud-detection:azCount: the region has {len(zones)} available zones, {args.az_count} were asked for"
            )
        self.availability_zones = list(zones[: args.az_count])
        public_cidrs, private_cidrs = subnet_cidrs(args.cidr, args.az_count)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=pulumi.ResourceOptions(parent=self)
        )
        # The default security group of a VPC allows all traffic between its members; empty it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, tags={"Name": f"{name}-default-closed"},
            opts=pulumi.ResourceOptions(parent=self),
        )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{name}-public"},
            opts=pulumi.ResourceOptions(parent=self),
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for index, zone in enumerate(self.availability_zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{index}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{index}", subnet_id=public.id, route_table_id=public_rt.id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            public_subnets.append(public)
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    tags={"Name": f"{name}-private-{zone}", "kubernetes.io/role/internal-elb": "1"},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )

        nat_count = args.az_count if args.nat_per_az else 1
        nats = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-eip-{index}", domain="vpc", tags={"Name": f"{name}-nat-{index}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public_subnets[index].id,
                    tags={"Name": f"{name}-nat-{index}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        for index, private in enumerate(private_subnets):
            nat = nats[index if args.nat_per_az else 0]
            route_table = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{index}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{index}", subnet_id=private.id, route_table_id=route_table.id,
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )
