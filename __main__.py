"""The fraud-detection platform, composed in data-flow order.

app -> Oracle (XStream) -> CDC source connector -> Kafka -> Flink (flatten, flag) -> Redshift + OpenSearch.
Configuration is read and validated first, so a bad stack config stops here before any resource exists.
"""
import pulumi
import pulumi_aws as aws

import settings as stack_settings
from components.network import NetworkStack, NetworkStackArgs

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

# == EksApp ==

# == OracleCdcSource ==

# == FlinkPool ==

# == Redshift ==

# == OpenSearch ==

# == SinkConnectors ==

pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
