"""The fraud-detection platform, composed in data-flow order.

app -> Oracle (XStream) -> CDC source connector -> Kafka -> Flink (flatten, flag) -> Redshift + OpenSearch.
Configuration is read and validated first, so a bad stack config stops here before any resource exists.
"""
import pulumi
import pulumi_aws as aws

import settings as stack_settings
from components.confluent_egress import connect_egress_cidrs
from components.network import NetworkStack, NetworkStackArgs
from components.oracle_db import OracleDb, OracleDbArgs
from components.eks_app import EksApp, EksAppArgs
from components.kafka_platform import KafkaPlatform, KafkaPlatformArgs, flink_table_access
from components.cdc_source import (
    DEFAULT_DECIMAL_HANDLING_MODE,
    DEFAULT_TIME_PRECISION_MODE,
    OracleCdcSource,
    OracleCdcSourceArgs,
)
from components.flink_pool import FLINK_DIR, FlinkPool, FlinkPoolArgs, plan_statements
from components.redshift import RedshiftWarehouse, RedshiftWarehouseArgs
from components.opensearch import OpenSearchDashboard, OpenSearchDashboardArgs
from components.sink_connectors import SinkConnectors, SinkConnectorsArgs

settings = stack_settings.load()
# The Flink SQL is read and checked before anything is registered too: its tables are the topics the sink
# connectors may read, and its comments state the value modes it expects of the CDC connector.
flink_plan = plan_statements(FLINK_DIR, settings.confluent.topic_prefix, settings.oracle.app_schema)

# Every AWS resource gets the project, stack and owner tags from the provider's default tags.
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
)
aws_opts = pulumi.ResourceOptions(providers=[aws_provider])

# What needs the clouds' own answers is checked next, still before any resource of the stack is registered (so
# `pulumi preview` fails here): the Oracle host's memory, and whether Confluent's connector egress ranges fit
# the security-group quotas (plain invokes: their results shape the security groups, so they cannot be Outputs).
stack_settings.check_oracle_instance_memory(settings.oracle.instance_type, pulumi.InvokeOptions(provider=aws_provider))
connect_egress = connect_egress_cidrs(settings.region)

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
kafka = KafkaPlatform(
    f"{settings.prefix}-kafka",
    KafkaPlatformArgs(
        settings=settings.confluent,
        region=settings.region,
        display_prefix=settings.prefix,
        sink_topics=list(flink_plan.produced_tables),
        flink_tables=flink_table_access(flink_plan),
    ),
)

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
        connector_cidrs=connect_egress,
        parameter_path=f"/{settings.prefix}/oracle",
    ),
    opts=aws_opts,
)

# == EksApp ==
# Pods reach Oracle on its private IP inside the VPC; the Job (migrate, then seed) waits for the database gate.
app = EksApp(
    f"{settings.prefix}-app",
    EksAppArgs(
        settings=settings.app,
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids,
        oracle_host=oracle.private_ip,
        oracle_port=oracle.port,
        oracle_service_name=oracle.pdb_name,
        oracle_user=oracle.app_user,
        oracle_password=oracle.app_password,
        oracle_ready=oracle.ready,
    ),
    opts=aws_opts,
)

# == OracleCdcSource ==
cdc = OracleCdcSource(
    f"{settings.prefix}-cdc",
    OracleCdcSourceArgs(
        settings=settings.confluent,
        display_prefix=settings.prefix,
        schema=oracle.app_user,
        environment_id=kafka.environment_id,
        cluster_id=kafka.cluster_id,
        service_account_id=kafka.connector_service_account_id,
        schema_registry_endpoint=kafka.schema_registry_endpoint,
        schema_registry_api_key=kafka.schema_registry_api_key,
        schema_registry_api_secret=kafka.schema_registry_api_secret,
        oracle_host=oracle.public_dns,
        oracle_port=oracle.port,
        cdb_name=oracle.cdb_name,
        service_name=oracle.service_name,
        pdb_name=oracle.pdb_name,
        outbound_server=oracle.outbound_server,
        connect_user=oracle.connect_user,
        connect_password=oracle.connect_password,
        oracle_ready=oracle.ready,
        first_rows=[app.migration_job],
        access=kafka.source_acls,
        decimal_handling_mode=flink_plan.cdc_modes.get("decimal.handling.mode", DEFAULT_DECIMAL_HANDLING_MODE),
        time_precision_mode=flink_plan.cdc_modes.get("time.precision.mode", DEFAULT_TIME_PRECISION_MODE),
    ),
)

# == FlinkPool ==
flink = FlinkPool(
    f"{settings.prefix}-flink",
    FlinkPoolArgs(
        settings=settings.confluent,
        oracle_schema=settings.oracle.app_schema,
        region=settings.region,
        display_prefix=settings.prefix,
        organization_id=kafka.organization_id,
        environment_id=kafka.environment_id,
        environment_name=kafka.environment_name,
        cluster_id=kafka.cluster_id,
        cluster_name=kafka.cluster_name,
        rest_endpoint=kafka.flink_rest_endpoint,
        api_key=kafka.flink_api_key,
        api_secret=kafka.flink_api_secret,
        principal_id=kafka.flink_principal_id,
        cdc_ready=cdc.ready,
        access=kafka.flink_access,
        sql_dir=FLINK_DIR,
    ),
)

# == Redshift ==
# Publicly accessible in the public subnets: the Confluent Cloud sink reaches it over the internet, from the
# CONNECT egress ranges that (with the VPC) are the only sources allowed on 5439.
redshift = RedshiftWarehouse(
    f"{settings.prefix}-redshift",
    RedshiftWarehouseArgs(
        settings=settings.redshift,
        name_prefix=settings.prefix,
        vpc_id=network.vpc_id,
        vpc_cidr=network.vpc_cidr,
        subnet_ids=network.public_subnet_ids,
        connector_cidrs=connect_egress,
    ),
    opts=aws_opts,
)

# == OpenSearch ==
# A public domain: reachable only from the CONNECT egress ranges and opensearchAccessCidrs, behind a login.
opensearch = OpenSearchDashboard(
    f"{settings.prefix}-opensearch",
    OpenSearchDashboardArgs(
        settings=settings.opensearch,
        name_prefix=settings.prefix,
        connector_cidrs=connect_egress,
    ),
    opts=aws_opts,
)

# == SinkConnectors ==
sinks = SinkConnectors(
    f"{settings.prefix}-sinks",
    SinkConnectorsArgs(
        display_prefix=settings.prefix,
        environment_id=kafka.environment_id,
        cluster_id=kafka.cluster_id,
        service_account_id=kafka.sink_service_account_id,
        access=kafka.sink_acls,
        produced_topics=flink.produced_topics,
        redshift_host=redshift.host,
        redshift_port=redshift.port,
        redshift_database=redshift.database,
        redshift_user=redshift.sink_user,
        redshift_password=redshift.sink_password,
        redshift_ready=[redshift.sink_user_ready],
        opensearch_endpoint=opensearch.endpoint,
        opensearch_user=opensearch.sink_user,
        opensearch_password=opensearch.sink_password,
        opensearch_ready=[opensearch.domain, opensearch.dashboard, opensearch.sink_user_ready],
    ),
)

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
pulumi.export("eksClusterName", app.cluster_name)
pulumi.export("eksAdminPrincipalArn", app.admin_principal_arn)
pulumi.export("kubeconfig", app.kubeconfig)
pulumi.export("appUrl", app.app_url)
pulumi.export("appImage", app.image_ref)
pulumi.export("confluentEnvironmentId", kafka.environment_id)
pulumi.export("kafkaClusterId", kafka.cluster_id)
pulumi.export("kafkaBootstrapEndpoint", kafka.bootstrap_endpoint)
pulumi.export("kafkaRestEndpoint", kafka.cluster_rest_endpoint)
pulumi.export("schemaRegistryId", kafka.schema_registry_id)
pulumi.export("schemaRegistryEndpoint", kafka.schema_registry_endpoint)
pulumi.export("kafkaApiKey", kafka.kafka_api_key)
pulumi.export("kafkaApiSecret", kafka.kafka_api_secret)
pulumi.export("schemaRegistryApiKey", kafka.schema_registry_api_key)
pulumi.export("schemaRegistryApiSecret", kafka.schema_registry_api_secret)
pulumi.export("flinkApiKey", kafka.flink_api_key)
pulumi.export("flinkApiSecret", kafka.flink_api_secret)
pulumi.export("cdcConnectorId", cdc.connector_id)
pulumi.export("cdcTopics", cdc.topics)
pulumi.export("flinkComputePoolId", flink.compute_pool_id)
pulumi.export("flinkStatementNames", flink.statement_names)
pulumi.export("flinkMaterializedTables", list(flink.tables))
pulumi.export("redshiftHost", redshift.host)
pulumi.export("redshiftPort", redshift.port)
pulumi.export("redshiftDatabase", redshift.database)
pulumi.export("redshiftSchema", redshift.schema)
pulumi.export("redshiftAdminUser", redshift.admin_user)
pulumi.export("redshiftAdminPassword", redshift.admin_password)
pulumi.export("redshiftSinkUser", redshift.sink_user)
pulumi.export("opensearchEndpoint", opensearch.endpoint)
pulumi.export("opensearchDashboardsUrl", opensearch.dashboards_url)
pulumi.export("opensearchDashboardUrl", opensearch.dashboard_url)
pulumi.export("opensearchMasterUser", opensearch.master_user)
pulumi.export("opensearchMasterPassword", opensearch.master_password)
pulumi.export("opensearchSinkUser", opensearch.sink_user)
pulumi.export("redshiftSinkConnectorId", sinks.redshift_connector.id)
pulumi.export("opensearchSinkConnectorId", sinks.opensearch_connector.id)
