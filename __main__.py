"""The fraud-detection platform, composed in data-flow order.

app -> Oracle (XStream) -> CDC source connector -> Kafka -> Flink (flatten, flag) -> Redshift + OpenSearch.
Configuration is read and validated first, so a bad stack config stops here before any resource exists.
"""
import pulumi
import pulumi_aws as aws

import settings as stack_settings
from components.network import NetworkStack, NetworkStackArgs
from components.confluent_egress import connect_egress_cidrs
from components.oracle_db import OracleDb, OracleDbArgs

settings = stack_settings.load()

# Every AWS resource gets the project, stack and owner tags from the provider's default tags.
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
)
aws_opts = pulumi.ResourceOptions(providers=[aws_provider])

network = NetworkStack(
    settings.prefix,
    NetworkStackArgs(
        cidr=settings.network.vpc_cidr,
        az_count=settings.network.az_count,
        nat_per_az=settings.network.nat_per_az,
    ),
    opts=aws_opts,
)

# == KafkaPlatform ==

# == OracleDb ==
# In a public subnet with a public IP: Confluent Cloud's connectors reach it over the internet, from the
# CONNECT egress ranges that are the only outside sources allowed on 1521.
oracle = OracleDb(
    f"{settings.prefix}-oracle",
    OracleDbArgs(
        settings=settings.oracle,
        vpc_id=network.vpc_id,
        vpc_cidr=network.vpc_cidr,
        subnet_id=network.public_subnet_ids[0],
        connector_cidrs=connect_egress_cidrs(settings.region),
        parameter_path=f"/{settings.prefix}/oracle",
    ),
    opts=aws_opts,
)

# == EksApp ==

# == OracleCdcSource ==

# == FlinkPool ==

# == Redshift ==

# == OpenSearch ==

# == SinkConnectors ==

pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("oracleInstanceId", oracle.instance_id)
pulumi.export("oracleHost", oracle.public_dns)
pulumi.export("oraclePrivateIp", oracle.private_ip)
pulumi.export("oraclePort", oracle.port)
pulumi.export("oracleServiceName", oracle.service_name)
pulumi.export("oraclePdbName", oracle.pdb_name)
pulumi.export("oracleOutboundServer", oracle.outbound_server)
pulumi.export("oracleAppUser", oracle.app_user)
pulumi.export("oracleAppPassword", oracle.app_password)
pulumi.export("oracleConnectUser", oracle.connect_user)
pulumi.export("oracleConnectPassword", oracle.connect_password)
