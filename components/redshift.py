"""RedshiftWarehouse: the Redshift cluster that keeps the history of users and transactions.

Why it is publicly accessible: the Redshift sink is a fully managed Confluent Cloud connector and our
Kafka cluster has public networking, so the connector reaches the warehouse over the internet. The cluster
therefore sits in the VPC's public subnets with a public address, and its security group is what closes
it: port 5439 admits only Confluent's CONNECT egress ranges and the VPC, nothing else (no 0.0.0.0/0).
Every connection must use TLS (``require_ssl`` in the parameter group), data at rest is encrypted with a
key of our own, and enhanced VPC routing keeps the cluster's own COPY/UNLOAD traffic inside the VPC.

The stack prepares the database through the Redshift Data API (``aws.redshiftdata.Statement``, run as the
admin user with temporary credentials, so no admin password travels with it): it creates the target
schema and the sink's own user, which may only use and create in that schema (``redshift_sql/``). The
connector creates its tables there (``auto.create``), so it owns them and needs no further grants. A Data
API statement runs again whenever Pulumi replaces it (any input change, or after a refresh once AWS has
forgotten the statement after 24 hours), so every statement is idempotent; Redshift has no ``CREATE USER
IF NOT EXISTS``, so a stored procedure checks before it creates. The sink's password reaches Redshift only
as the MD5 hash Redshift accepts in its place, inside a statement kept secret in the state.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.confluent_egress import ConnectorIngress, ConnectorIngressArgs
from components.passwords import generated_password
from settings import RedshiftSettings

PORT = 5439
SCHEMA = "fraud"  # the sink writes fraud.<topic>
SINK_USER = "fraud_sink"  # the Redshift sink connector's own database user
SINK_CONNECTION_LIMIT = 10  # one connector task needs a few; a leaked password cannot open many more
PREPARE_SINK_USER_SQL = (Path(__file__).parent / "redshift_sql" / "prepare_sink_user.sql").read_text()
PREPARE_SINK_USER = "public.fraud_prepare_sink_user"
PARAMETER_GROUP_FAMILY = "redshift-2.0"
IDENTIFIER_FORM = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
SQL_NAME_FORM = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
MD5_HASH_FORM = re.compile(r"^md5[0-9a-f]{32}$")


def cluster_identifier(prefix: str) -> str:
    """``<prefix>-redshift``, checked against Redshift's identifier rules."""
    identifier = f"{prefix}-redshift"
    if not IDENTIFIER_FORM.match(identifier):
        raise ValueError(
            f"Redshift cluster identifier {identifier!r}: expected 1-63 lower-case letters, digits and single "
            f"hyphens starting with a letter; use a shorter, lower-case stack name"
        )
    return identifier


def node_layout(node_count: int) -> dict:
    """Cluster type and node count: a single-node cluster for one node, multi-node otherwise."""
    if node_count < 1:
        raise ValueError(f"fraud-detection:redshiftNodeCount: expected at least 1 (got {node_count})")
    if node_count == 1:
        return {"cluster_type": "single-node", "number_of_nodes": 1}
    return {"cluster_type": "multi-node", "number_of_nodes": node_count}


def sql_name(kind: str, value: str) -> str:
    """A lower-case SQL identifier, safe to put in a statement as is."""
    if not SQL_NAME_FORM.match(value):
        raise ValueError(f"Redshift {kind} {value!r}: expected a lower-case identifier (letters, digits, _)")
    return value


def schema_sql(schema: str) -> str:
    """Idempotent: the Data API statement may run again on an existing cluster."""
    return f"CREATE SCHEMA IF NOT EXISTS {sql_name('schema', schema)}"


def md5_password_hash(password: str, user: str) -> str:
    """The pre-hashed password form Redshift documents for CREATE/ALTER USER: md5 of password then user."""
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def prepare_sink_user_sql(user: str, password_hash: str, schema: str) -> str:
    """The call that creates (or updates) the sink user and grants it the schema; safe to repeat."""
    if not MD5_HASH_FORM.match(password_hash):
        raise ValueError("Redshift sink password hash: expected 'md5' followed by 32 lower-case hex digits")
    return (
        f"CALL {PREPARE_SINK_USER}('{sql_name('user', user)}', '{password_hash}', "
        f"'{sql_name('schema', schema)}', {SINK_CONNECTION_LIMIT})"
    )


@dataclass
class RedshiftWarehouseArgs:
    settings: RedshiftSettings
    name_prefix: str  # project and stack, e.g. fraud-dev
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]  # PUBLIC subnets: Confluent Cloud connects over the internet
    connector_cidrs: Sequence[str]  # Confluent CONNECT egress ranges (confluent_egress.connect_egress_cidrs)


class RedshiftWarehouse(pulumi.ComponentResource):
    cluster_identifier: pulumi.Output[str]
    host: pulumi.Output[str]
    port: int
    database: str
    admin_user: str
    admin_password: pulumi.Output[str]
    schema: str
    sink_user: str
    sink_password: pulumi.Output[str]
    sink_user_ready: aws.redshiftdata.Statement  # the schema and the sink user with its grants exist

    def __init__(self, name: str, args: RedshiftWarehouseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:redshift:RedshiftWarehouse", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        identifier = cluster_identifier(args.name_prefix)

        admin_password = generated_password(f"{name}-admin-password", child, min_special=1)
        sink_password = generated_password(f"{name}-sink-password", child, min_special=1)

        key = aws.kms.Key(
            f"{name}-key",
            description=f"{identifier}: encrypts the Redshift cluster and its snapshots",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            tags={"Name": f"{identifier}-key"},
            opts=child,
        )

        # Confluent's ranges get groups of their own (as many as they need); this group admits the VPC.
        connectors = ConnectorIngress(
            f"{name}-connector-ingress",
            ConnectorIngressArgs(vpc_id=args.vpc_id, port=PORT, service="Redshift", connector_cidrs=args.connector_cidrs),
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Redshift: 5439 from the VPC (Confluent egress: connector-ingress groups)",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="Redshift from the VPC",
                    protocol="tcp",
                    from_port=PORT,
                    to_port=PORT,
                    cidr_blocks=[args.vpc_cidr],
                )
            ],
            # No egress rules: the group is stateful, so answers flow back; the cluster opens no connections.
            egress=[],
            tags={"Name": f"{identifier}-sg"},
            opts=child,
        )
        subnet_group = aws.redshift.SubnetGroup(
            f"{name}-subnets",
            name=identifier,
            subnet_ids=args.subnet_ids,
            description=f"{identifier}: public subnets (Confluent Cloud connects over the internet)",
            tags={"Name": identifier},
            opts=child,
        )
        parameter_group = aws.redshift.ParameterGroup(
            f"{name}-parameters",
            name=identifier,
            family=PARAMETER_GROUP_FAMILY,
            description=f"{identifier}: TLS required",
            parameters=[aws.redshift.ParameterGroupParameterArgs(name="require_ssl", value="true")],
            tags={"Name": identifier},
            opts=child,
        )

        snapshot: dict = {"skip_final_snapshot": True}
        if settings.final_snapshot:
            # A fresh suffix per stack lifetime: a second destroy must not collide with an older snapshot.
            suffix = random.RandomId(f"{name}-final-snapshot-suffix", byte_length=4, opts=child)
            snapshot = {
                "skip_final_snapshot": False,
                "final_snapshot_identifier": suffix.hex.apply(lambda value: f"{identifier}-final-{value}"),
            }

        cluster = aws.redshift.Cluster(
            f"{name}-cluster",
            cluster_identifier=identifier,
            node_type=settings.node_type,
            **node_layout(settings.node_count),
            database_name=settings.database,
            master_username=settings.admin_user,
            master_password=admin_password,
            port=PORT,
            encrypted="true",
            kms_key_id=key.arn,
            enhanced_vpc_routing=True,
            publicly_accessible=True,
            cluster_subnet_group_name=subnet_group.name,
            cluster_parameter_group_name=parameter_group.name,
            vpc_security_group_ids=[security_group.id, *connectors.security_group_ids],
            **snapshot,
            tags={"Name": identifier},
            opts=child,  # the SDK keeps masterPassword secret in the state
        )

        def statement(role: str, sql: pulumi.Input[str], statement_name: str, after: list[pulumi.Resource]):
            """Runs as the admin with temporary credentials (redshift:GetClusterCredentials), waits until the
            statement has finished and fails the update if it failed."""
            return aws.redshiftdata.Statement(
                f"{name}-{role}",
                cluster_identifier=cluster.cluster_identifier,
                database=cluster.database_name,
                db_user=cluster.master_username,
                sql=sql,
                statement_name=statement_name,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )

        schema = statement("schema", schema_sql(SCHEMA), f"{identifier}-create-schema", [])
        procedure = statement("sink-user-procedure", PREPARE_SINK_USER_SQL, f"{identifier}-sink-user-procedure", [])
        # Named after the procedure's text: a changed procedure is called again, not only redefined.
        procedure_digest = hashlib.sha256(PREPARE_SINK_USER_SQL.encode()).hexdigest()[:12]
        self.sink_user_ready = statement(
            "sink-user",
            pulumi.Output.secret(
                sink_password.apply(lambda password: prepare_sink_user_sql(
                    SINK_USER, md5_password_hash(password, SINK_USER), SCHEMA))
            ),
            f"{identifier}-prepare-sink-user-{procedure_digest}",
            [schema, procedure],
        )

        self.cluster_identifier = cluster.cluster_identifier
        self.host = cluster.dns_name
        self.port = PORT
        self.database = settings.database
        self.admin_user = settings.admin_user
        self.admin_password = admin_password
        self.schema = SCHEMA
        self.sink_user = SINK_USER
        self.sink_password = sink_password
        self.register_outputs(
            {
                "cluster_identifier": self.cluster_identifier,
                "host": self.host,
                "port": self.port,
                "database": self.database,
                "admin_user": self.admin_user,
                "admin_password": self.admin_password,
                "schema": self.schema,
                "sink_user": self.sink_user,
                "sink_password": self.sink_password,
            }
        )
