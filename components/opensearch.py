"""OpenSearchDashboard: the OpenSearch domain the fraud flags land in, and the dashboard that shows them.

Why a public domain (no VPC): the OpenSearch sink is a fully managed Confluent Cloud connector on a
public Kafka cluster, so it reaches the domain over the internet; a VPC domain has private addresses only.
What closes it instead:

- the access policy allows ``es:ESHttp*`` to anonymous (basic-auth) callers only from Confluent's CONNECT
  egress ranges and the operators' addresses (``aws:SourceIp``), and otherwise only to this account's
  IAM principals; it never allows Principal ``*`` without a condition;
- fine-grained access control with the internal user database: every request also needs a user's
  generated password; the sink connector has its own user limited to its indexes (``OpenSearchSinkUser``),
  the master user serves only the stack's own calls and the operators;
- HTTPS only with TLS 1.2 or later, encryption at rest and between nodes.

More than one node spreads the nodes over two or three zones (three when the count divides by three).
The dashboard's saved objects live in ``opensearch_dashboard/`` and are imported by ``DashboardImport``.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.dashboard_import import DashboardImport, saved_object_ids
from components.opensearch_sink_user import OpenSearchSinkUser
from components.passwords import generated_password
from settings import OpenSearchSettings

DASHBOARD_DIR = Path(__file__).resolve().parent / "opensearch_dashboard"
SAVED_OBJECTS_FILE = DASHBOARD_DIR / "fraud_dashboard.ndjson"
INDEX_MAPPINGS_FILE = DASHBOARD_DIR / "index_mappings.json"
DASHBOARD_ID = "fraud-detection-dashboard"
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
MASTER_USER = "fraud_admin"
SINK_USER = "fraud_sink"  # the OpenSearch sink connector's own internal user
DOMAIN_NAME_FORM = re.compile(r"^[a-z][a-z0-9-]{2,27}$")


def domain_name(prefix: str) -> str:
    name = f"{prefix}-search"
    if not DOMAIN_NAME_FORM.match(name):
        raise ValueError(
            f"OpenSearch domain name {name!r}: expected 3-28 lower-case letters, digits and hyphens starting with a "
            f"letter; use a stack name of at most 15 lower-case characters"
        )
    return name


def zone_count(instance_count: int) -> int:
    """Zones to spread the data nodes over: 1 for one node, 3 when the count divides by 3, else 2."""
    if instance_count < 1:
        raise ValueError(f"fraud-detection:opensearchInstanceCount: expected at least 1 (got {instance_count})")
    if instance_count == 1:
        return 1
    return 3 if instance_count % 3 == 0 else 2


def cluster_config(instance_type: str, instance_count: int) -> aws.opensearch.DomainClusterConfigArgs:
    zones = zone_count(instance_count)
    if zones == 1:
        return aws.opensearch.DomainClusterConfigArgs(
            instance_type=instance_type, instance_count=instance_count, zone_awareness_enabled=False
        )
    return aws.opensearch.DomainClusterConfigArgs(
        instance_type=instance_type,
        instance_count=instance_count,
        zone_awareness_enabled=True,
        zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(availability_zone_count=zones),
    )


def access_policy(domain_arn: str, account_id: str, partition: str, source_cidrs: list[str]) -> str:
    """Anonymous (basic-auth) HTTP only from the given ranges; signed requests from this account's principals."""
    if not source_cidrs:
        raise ValueError("OpenSearch access policy: expected at least one source CIDR")
    for cidr in source_cidrs:
        if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
            raise ValueError(f"OpenSearch access policy: {cidr} would open the domain to the whole internet")
    resource = f"{domain_arn}/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ConnectorsAndOperatorsBySourceAddress",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "es:ESHttp*",
                    "Resource": resource,
                    "Condition": {"IpAddress": {"aws:SourceIp": sorted(set(source_cidrs))}},
                },
                {
                    "Sid": "AccountPrincipals",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "es:ESHttp*",
                    "Resource": resource,
                },
            ],
        },
        sort_keys=True,
    )


def index_templates(mappings: dict[str, dict], replicas: int) -> dict[str, dict]:
    """One composable template per sink index: one shard, the given replicas and explicit field types."""
    return {
        f"fraud-{index}": {
            "index_patterns": [index],
            "priority": 100,
            "template": {
                "settings": {"number_of_shards": 1, "number_of_replicas": replicas},
                "mappings": {"properties": properties},
            },
        }
        for index, properties in sorted(mappings.items())
    }


def load_saved_objects(path: Path, dashboard_id: str) -> str:
    """The export file's text, once it parses and holds the dashboard the outputs link to."""
    text = Path(path).read_text()
    try:
        objects = saved_object_ids(text)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    if ("dashboard", dashboard_id) not in objects:
        raise ValueError(f"{path}: expected a dashboard with id {dashboard_id!r}")
    return text


@dataclass
class OpenSearchDashboardArgs:
    settings: OpenSearchSettings
    name_prefix: str  # project and stack, e.g. fraud-dev
    connector_cidrs: pulumi.Input[list[str]]  # Confluent CONNECT egress ranges
    saved_objects_file: Path = SAVED_OBJECTS_FILE
    index_mappings_file: Path = INDEX_MAPPINGS_FILE
    dashboard_id: str = DASHBOARD_ID
    import_timeout_seconds: int = 900


class OpenSearchDashboard(pulumi.ComponentResource):
    domain: aws.opensearch.Domain
    endpoint: pulumi.Output[str]
    dashboards_url: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]
    master_user: str
    master_password: pulumi.Output[str]
    indexes: list[str]
    dashboard: DashboardImport
    sink_user: str
    sink_password: pulumi.Output[str]
    sink_user_ready: OpenSearchSinkUser

    def __init__(self, name: str, args: OpenSearchDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:opensearch:OpenSearchDashboard", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        domain_id = domain_name(args.name_prefix)
        saved_objects = load_saved_objects(args.saved_objects_file, args.dashboard_id)
        mappings = json.loads(Path(args.index_mappings_file).read_text())

        master_password = generated_password(f"{name}-master-password", child)
        sink_password = generated_password(f"{name}-sink-password", child)

        invoke = pulumi.InvokeOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        sources = pulumi.Output.from_input(args.connector_cidrs).apply(
            lambda cidrs: sorted(set(cidrs) | set(settings.access_cidrs))
        )
        policy = pulumi.Output.all(partition, region, caller.account_id, sources).apply(
            lambda values: access_policy(
                f"arn:{values[0]}:es:{values[1]}:{values[2]}:domain/{domain_id}", values[2], values[0], list(values[3])
            )
        )

        self.domain = aws.opensearch.Domain(
            f"{name}-domain",
            domain_name=domain_id,
            engine_version=settings.engine_version,
            cluster_config=cluster_config(settings.instance_type, settings.instance_count),
            ebs_options=aws.opensearch.DomainEbsOptionsArgs(
                ebs_enabled=True, volume_type="gp3", volume_size=settings.volume_gb
            ),
            encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True),
            node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
            domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
                enforce_https=True, tls_security_policy=TLS_POLICY
            ),
            advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
                enabled=True,
                anonymous_auth_enabled=False,
                internal_user_database_enabled=True,
                master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                    master_user_name=MASTER_USER, master_user_password=master_password
                ),
            ),
            access_policies=policy,
            tags={"Name": domain_id},
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["advancedSecurityOptions"]),
        )

        # What lives inside the domain goes with it: when the domain is deleted in the same run, Pulumi skips
        # these deletes instead of calling an API that may no longer answer (see components/opensearch_api.py).
        in_domain = pulumi.ResourceOptions(parent=self, depends_on=[self.domain], deleted_with=self.domain)
        opensearch_url = pulumi.Output.concat("https://", self.domain.endpoint)
        self.dashboards_url = pulumi.Output.concat("https://", self.domain.dashboard_endpoint)
        self.dashboard = DashboardImport(
            f"{name}-dashboard",
            opensearch_url=opensearch_url,
            dashboards_url=self.dashboards_url,
            username=MASTER_USER,
            password=master_password,
            saved_objects=saved_objects,
            index_templates=index_templates(mappings, replicas=min(settings.instance_count - 1, 1)),
            domain_name=self.domain.domain_name,
            region=region,
            timeout_seconds=args.import_timeout_seconds,
            opts=in_domain,
        )

        self.indexes = sorted(mappings)
        self.sink_user_ready = OpenSearchSinkUser(
            f"{name}-sink-user",
            opensearch_url=opensearch_url,
            admin_username=MASTER_USER,
            admin_password=master_password,
            username=SINK_USER,
            password=sink_password,
            indexes=self.indexes,
            domain_name=self.domain.domain_name,
            region=region,
            timeout_seconds=args.import_timeout_seconds,
            opts=in_domain,
        )

        self.endpoint = self.domain.endpoint
        self.dashboard_url = pulumi.Output.concat(self.dashboards_url, "/app/dashboards#/view/", args.dashboard_id)
        self.master_user = MASTER_USER
        self.master_password = master_password
        self.sink_user = SINK_USER
        self.sink_password = sink_password
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "dashboards_url": self.dashboards_url,
                "dashboard_url": self.dashboard_url,
                "master_user": self.master_user,
                "master_password": self.master_password,
                "sink_user": self.sink_user,
            }
        )
