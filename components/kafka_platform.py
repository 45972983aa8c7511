"""KafkaPlatform: the Confluent Cloud side everything streams through, and who may do what in it.

One environment (with its Schema Registry), one Kafka cluster on AWS, and a service account per duty, each
with only the grants Confluent documents for that duty:

- ``cdc-source``: the Oracle XStream source connector (writes the CDC topics);
- ``sink``: the Redshift and OpenSearch sink connectors (read Flink's output topics);
- ``flink``: the principal the Flink statements run as: on Standard and larger clusters only the topic,
  subject, transactional-ID and group bindings its statements need (``FlinkTableAccess``); on Basic, which
  has no such bindings, EnvironmentAdmin, as Confluent's broad-access setup for Flink service accounts;
- ``platform-manager``: owns the API keys this stack itself uses (Kafka key for managing ACLs, Schema
  Registry key for the CDC readiness gate, Flink key for submitting statements).

Every API key is created after the role bindings that give its owner its permissions, so anything using a
key waits for them. Keys leave this component only as secrets.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluentcloud

import sql_text
from components.flink_pool import StatementPlan
from settings import ConfluentSettings

CLOUD = "AWS"
# Enterprise clusters name their availability LOW/HIGH instead of SINGLE_ZONE/MULTI_ZONE.
ENTERPRISE_AVAILABILITY = {"SINGLE_ZONE": "LOW", "MULTI_ZONE": "HIGH"}
# Topic/group prefixes Confluent's managed sink connectors use for their own bookkeeping topics and groups.
SINK_BOOKKEEPING_TOPICS = ("dlq-lcc", "success-lcc", "error-lcc")
SINK_GROUP_PREFIX = "connect-lcc"
# "RBAC permissions for operations on granular Kafka resources (topics, consumer groups, and transactional IDs)
# are supported only on Standard, Enterprise, Dedicated, and Freight clusters" (Predefined RBAC Roles in
# Confluent Cloud, https://docs.confluent.io/cloud/current/security/access-control/rbac/predefined-rbac-roles.html,
# read 2026-12-01). Of the types this stack offers, Basic has none.
GRANULAR_RBAC_CLUSTER_TYPES = ("standard", "enterprise")
# Flink's own transactional IDs (and consumer groups) start with this (Grant Role-Based Access in Confluent
# Cloud for Apache Flink, https://docs.confluent.io/cloud/current/flink/operate-and-deploy/flink-rbac.html).
FLINK_INTERNAL_PREFIX = "_confluent-flink_"
# A table's schemas live in the subjects <topic>-key and <topic>-value (Schema Registry's default
# TopicNameStrategy); a table without a key has no key subject, and a binding on it grants nothing.
SUBJECT_SUFFIXES = ("-key", "-value")


@dataclass(frozen=True)
class FlinkTableAccess:
    """What the Flink statements do with which table (= topic plus its subjects), as Confluent's Flink RBAC
    page layers it: reading needs DeveloperRead on topic and subjects; writing DeveloperWrite on the topic and
    DeveloperRead on the subjects; creating a table, or altering one, DeveloperManage on the topic and
    DeveloperWrite on the subjects."""

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    creates: frozenset[str] = frozenset()
    alters: frozenset[str] = frozenset()

    def grants(self) -> list[tuple[str, str, str]]:
        """(resource kind ``topic`` or ``subject``, resource name, role), each once, in a stable order."""
        found: set[tuple[str, str, str]] = set()
        for tables, topic_role, subject_role in (
            (self.reads, "DeveloperRead", "DeveloperRead"),
            (self.writes, "DeveloperWrite", "DeveloperRead"),
            (self.creates | self.alters, "DeveloperManage", "DeveloperWrite"),
        ):
            for table in tables:
                found.add(("topic", table, topic_role))
                found.update(("subject", f"{table}{suffix}", subject_role) for suffix in SUBJECT_SUFFIXES)
        return sorted(found)


def flink_table_access(plan: StatementPlan) -> FlinkTableAccess:
    """The tables of ``flink/`` by what its statements do with them: the tables they create (and fill), the
    dead-letter tables Confluent creates for them ('error-handling.log.target'), the tables they alter, and
    everything else they read (the CDC topics, and created tables read downstream)."""
    creates: set[str] = set(plan.produced_tables)
    alters: set[str] = set()
    reads: set[str] = set()
    for statement in plan.statements:
        parsed = statement.parsed
        reads |= set(parsed.reads)
        if isinstance(parsed, sql_text.AlterOptions):
            alters.add(parsed.table)
            if "error-handling.log.target" in parsed.options:
                creates.add(parsed.options["error-handling.log.target"])
    return FlinkTableAccess(frozenset(reads), frozenset(creates), frozenset(creates), frozenset(alters))


@dataclass
class KafkaPlatformArgs:
    settings: ConfluentSettings
    region: str
    display_prefix: str  # project and stack, e.g. fraud-dev
    sink_topics: Sequence[str] = ()  # the topics the sink connectors read (Flink's output tables)
    flink_tables: FlinkTableAccess = FlinkTableAccess()  # what the Flink statements do with which table


def cluster_type_args(cluster_type: str, availability: str) -> dict:
    """The KafkaCluster arguments that select its type and availability."""
    if cluster_type == "basic":
        return {"basic": confluentcloud.KafkaClusterBasicArgs(), "availability": availability}
    if cluster_type == "standard":
        return {"standard": confluentcloud.KafkaClusterStandardArgs(), "availability": availability}
    if cluster_type == "enterprise":
        return {
            "enterprises": [confluentcloud.KafkaClusterEnterpriseArgs()],
            "availability": ENTERPRISE_AVAILABILITY[availability],
        }
    raise ValueError(f"fraud-detection:kafkaClusterType: expected basic, standard or enterprise (got {cluster_type!r})")


class KafkaPlatform(pulumi.ComponentResource):
    environment_id: pulumi.Output[str]
    environment_name: pulumi.Output[str]
    environment_crn: pulumi.Output[str]
    organization_id: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    cluster_rest_endpoint: pulumi.Output[str]
    bootstrap_endpoint: pulumi.Output[str]
    cluster_api_version: pulumi.Output[str]
    cluster_kind: pulumi.Output[str]
    schema_registry_id: pulumi.Output[str]
    schema_registry_endpoint: pulumi.Output[str]
    schema_registry_api_key: pulumi.Output[str]
    schema_registry_api_secret: pulumi.Output[str]
    kafka_api_key: pulumi.Output[str]
    kafka_api_secret: pulumi.Output[str]
    flink_rest_endpoint: pulumi.Output[str]
    flink_api_key: pulumi.Output[str]
    flink_api_secret: pulumi.Output[str]
    connector_service_account_id: pulumi.Output[str]
    sink_service_account_id: pulumi.Output[str]
    flink_principal_id: pulumi.Output[str]
    source_acls: list[pulumi.Resource]
    sink_acls: list[pulumi.Resource]
    flink_access: list[pulumi.Resource]

    def __init__(self, name: str, args: KafkaPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:kafka:KafkaPlatform", name, None, opts)
        settings = args.settings
        prefix = args.display_prefix
        child = pulumi.ResourceOptions(parent=self)

        environment = confluentcloud.Environment(
            f"{name}-environment",
            display_name=f"{prefix}-env",
            stream_governance=confluentcloud.EnvironmentStreamGovernanceArgs(package=settings.stream_governance),
            opts=child,
        )
        cluster = confluentcloud.KafkaCluster(
            f"{name}-cluster",
            display_name=f"{prefix}-kafka",
            cloud=CLOUD,
            region=args.region,
            environment=confluentcloud.KafkaClusterEnvironmentArgs(id=environment.id),
            **cluster_type_args(settings.cluster_type, settings.availability),
            opts=child,
        )
        # The environment's Schema Registry comes with its stream governance package; it can be looked up
        # only once the environment (and, in some accounts, its first cluster) exists.
        schema_registry = confluentcloud.get_schema_registry_cluster_output(
            environment=confluentcloud.GetSchemaRegistryClusterEnvironmentArgs(id=environment.id),
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[environment, cluster]),
        )
        invoke = pulumi.InvokeOptions(parent=self)
        organization = confluentcloud.get_organization_output(opts=invoke)
        flink_region = confluentcloud.get_flink_region_output(cloud=CLOUD, region=args.region, opts=invoke)

        def service_account(role: str, description: str) -> confluentcloud.ServiceAccount:
            return confluentcloud.ServiceAccount(
                f"{name}-{role}-sa", display_name=f"{prefix}-{role}", description=description, opts=child
            )

        source_account = service_account(
            "cdc-source", f"{prefix}: Oracle XStream CDC source connector; writes the {settings.topic_prefix} CDC topics"
        )
        sink_account = service_account("sink", f"{prefix}: Redshift and OpenSearch sink connectors; read Flink's output topics")
        flink_account = service_account("flink", f"{prefix}: principal the Flink SQL statements run as")
        manager_account = service_account(
            "platform-manager", f"{prefix}: owns the stack's Kafka (ACL admin), Schema Registry and Flink API keys"
        )

        def role_binding(role: str, account: confluentcloud.ServiceAccount, role_name: str, crn: pulumi.Input[str]):
            return confluentcloud.RoleBinding(
                f"{name}-{role}",
                principal=account.id.apply(lambda account_id: f"User:{account_id}"),
                role_name=role_name,
                crn_pattern=crn,
                opts=child,
            )

        def api_key(role: str, description: str, managed: confluentcloud.ApiKeyManagedResourceArgs, after: list):
            # The provider marks the key's secret as a secret output itself.
            return confluentcloud.ApiKey(
                f"{name}-{role}-key",
                display_name=f"{prefix}-{role}",
                description=description,
                owner=confluentcloud.ApiKeyOwnerArgs(
                    id=manager_account.id, api_version=manager_account.api_version, kind=manager_account.kind
                ),
                managed_resource=managed,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )

        environment_ref = confluentcloud.ApiKeyManagedResourceEnvironmentArgs(id=environment.id)

        # --- platform manager: Kafka key that manages the ACLs below -----------------------------------
        # CloudClusterAdmin on this cluster is the narrowest role that may create and delete ACLs.
        manager_cluster_admin = role_binding("platform-manager-cluster-admin", manager_account, "CloudClusterAdmin", cluster.rbac_crn)
        kafka_key = api_key(
            "kafka",
            "Kafka API key of the platform manager: manages this cluster's ACLs",
            confluentcloud.ApiKeyManagedResourceArgs(
                id=cluster.id, api_version=cluster.api_version, kind=cluster.kind, environment=environment_ref
            ),
            [manager_cluster_admin],
        )

        # --- platform manager: Schema Registry key of the CDC readiness gate ----------------------------
        # Read-only on the CDC subjects is all the gate needs (it lists subjects).
        manager_subjects_read = role_binding(
            "platform-manager-subjects-read",
            manager_account,
            "DeveloperRead",
            pulumi.Output.concat(schema_registry.resource_name, "/subject=", settings.topic_prefix, ".*"),
        )
        schema_registry_key = api_key(
            "schema-registry",
            "Schema Registry API key of the platform manager: reads the CDC subjects",
            confluentcloud.ApiKeyManagedResourceArgs(
                id=schema_registry.id,
                api_version=schema_registry.api_version,
                kind=schema_registry.kind,
                environment=environment_ref,
            ),
            [manager_subjects_read],
        )

        # --- Flink: the key owner submits statements that run as the flink principal --------------------
        # Confluent's documented setup: the key owner is FlinkDeveloper in the environment and Assigner on
        # the principal. The principal gets what its statements need (flink_rbac.html, "least-privilege
        # approach"): FlinkDeveloper, Flink's transactional IDs and groups, and per table the topic and subject
        # roles of FlinkTableAccess. A Basic cluster has no role bindings on topics, groups or transactional
        # IDs, so there the principal is EnvironmentAdmin (the page's "broad-access approach").
        if settings.cluster_type in GRANULAR_RBAC_CLUSTER_TYPES:
            kafka_crn = pulumi.Output.concat(cluster.rbac_crn, "/kafka=", cluster.id)
            flink_internal = f"{FLINK_INTERNAL_PREFIX}*"
            flink_principal_access = [
                role_binding("flink-developer", flink_account, "FlinkDeveloper", environment.resource_name),
                role_binding("flink-transactions-read", flink_account, "DeveloperRead",
                             pulumi.Output.concat(kafka_crn, "/transactional-id=", flink_internal)),
                role_binding("flink-transactions-write", flink_account, "DeveloperWrite",
                             pulumi.Output.concat(kafka_crn, "/transactional-id=", flink_internal)),
                # Groups: an earlier revision of the page asked for this "so Flink can commit its offsets back".
                role_binding("flink-groups-manage", flink_account, "DeveloperManage",
                             pulumi.Output.concat(kafka_crn, "/group=", flink_internal)),
            ]
            for kind, resource, role in args.flink_tables.grants():
                crn = (pulumi.Output.concat(kafka_crn, "/topic=", resource) if kind == "topic"
                       else pulumi.Output.concat(schema_registry.resource_name, "/subject=", resource))
                access = role.removeprefix("Developer").lower()
                flink_principal_access.append(role_binding(f"flink-{kind}-{resource}-{access}", flink_account, role, crn))
        else:
            flink_principal_access = [
                role_binding("flink-environment-admin", flink_account, "EnvironmentAdmin", environment.resource_name)
            ]
        manager_flink_developer = role_binding(
            "platform-manager-flink-developer", manager_account, "FlinkDeveloper", environment.resource_name
        )
        manager_flink_assigner = role_binding(
            "platform-manager-flink-assigner",
            manager_account,
            "Assigner",
            pulumi.Output.concat(organization.resource_name, "/service-account=", flink_account.id),
        )
        self.flink_access = [*flink_principal_access, manager_flink_developer, manager_flink_assigner]
        flink_key = api_key(
            "flink",
            "Flink API key of the platform manager: submits the statements (as the flink principal)",
            confluentcloud.ApiKeyManagedResourceArgs(
                id=flink_region.id,
                api_version=flink_region.api_version,
                kind=flink_region.kind,
                environment=environment_ref,
            ),
            self.flink_access,
        )

        # --- ACLs ----------------------------------------------------------------------------------------
        acl_opts = pulumi.ResourceOptions(parent=self, depends_on=[manager_cluster_admin])

        def acl(role: str, account, operation: str, resource_type: str, resource: str, pattern: str):
            return confluentcloud.KafkaAcl(
                f"{name}-{role}",
                kafka_cluster=confluentcloud.KafkaAclKafkaClusterArgs(id=cluster.id),
                rest_endpoint=cluster.rest_endpoint,
                credentials=confluentcloud.KafkaAclCredentialsArgs(key=kafka_key.id, secret=kafka_key.secret),
                principal=account.id.apply(lambda account_id: f"User:{account_id}"),
                host="*",
                permission="ALLOW",
                operation=operation,
                resource_type=resource_type,
                resource_name_=resource,
                pattern_type=pattern,
                opts=acl_opts,
            )

        # Source: Confluent's documented set for a source connector...
        self.source_acls = [
            acl("cdc-source-describe-cluster", source_account, "DESCRIBE", "CLUSTER", "kafka-cluster", "LITERAL"),
            acl("cdc-source-create-topics", source_account, "CREATE", "TOPIC", settings.topic_prefix, "PREFIXED"),
            acl("cdc-source-write-topics", source_account, "WRITE", "TOPIC", settings.topic_prefix, "PREFIXED"),
        ]
        # ...plus a broader grant, because no narrower one exists: the XStream source also creates, writes
        # and reads back a schema-history topic (and a heartbeat topic) whose names Confluent Cloud does not
        # document and which do not start with the topic prefix, so no prefixed ACL can cover them. Where
        # Confluent's demos bind EnvironmentAdmin, this binds CloudClusterAdmin on this one cluster only.
        self.source_acls.append(
            role_binding("cdc-source-cluster-admin", source_account, "CloudClusterAdmin", cluster.rbac_crn)
        )

        # Sink: Confluent's documented set for sink connectors.
        self.sink_acls = [acl("sink-describe-cluster", sink_account, "DESCRIBE", "CLUSTER", "kafka-cluster", "LITERAL")]
        for topic in sorted(set(args.sink_topics)):
            self.sink_acls.append(acl(f"sink-read-{topic}", sink_account, "READ", "TOPIC", topic, "LITERAL"))
        for bookkeeping in SINK_BOOKKEEPING_TOPICS:
            for operation in ("CREATE", "WRITE"):
                self.sink_acls.append(
                    acl(f"sink-{operation.lower()}-{bookkeeping}", sink_account, operation, "TOPIC", bookkeeping, "PREFIXED")
                )
        self.sink_acls.append(acl("sink-read-groups", sink_account, "READ", "GROUP", SINK_GROUP_PREFIX, "PREFIXED"))

        self.environment_id = environment.id
        self.environment_name = environment.display_name
        self.environment_crn = environment.resource_name
        self.organization_id = organization.id
        self.cluster_id = cluster.id
        self.cluster_name = cluster.display_name
        self.cluster_rest_endpoint = cluster.rest_endpoint
        self.bootstrap_endpoint = cluster.bootstrap_endpoint
        self.cluster_api_version = cluster.api_version
        self.cluster_kind = cluster.kind
        self.schema_registry_id = schema_registry.id
        self.schema_registry_endpoint = schema_registry.rest_endpoint
        self.schema_registry_api_key = pulumi.Output.secret(schema_registry_key.id)
        self.schema_registry_api_secret = pulumi.Output.secret(schema_registry_key.secret)
        self.kafka_api_key = pulumi.Output.secret(kafka_key.id)
        self.kafka_api_secret = pulumi.Output.secret(kafka_key.secret)
        self.flink_rest_endpoint = flink_region.rest_endpoint
        self.flink_api_key = pulumi.Output.secret(flink_key.id)
        self.flink_api_secret = pulumi.Output.secret(flink_key.secret)
        self.connector_service_account_id = source_account.id
        self.sink_service_account_id = sink_account.id
        self.flink_principal_id = flink_account.id
        self.register_outputs(
            {
                "environment_id": self.environment_id,
                "environment_name": self.environment_name,
                "cluster_id": self.cluster_id,
                "cluster_name": self.cluster_name,
                "cluster_rest_endpoint": self.cluster_rest_endpoint,
                "bootstrap_endpoint": self.bootstrap_endpoint,
                "schema_registry_id": self.schema_registry_id,
                "schema_registry_endpoint": self.schema_registry_endpoint,
                "flink_rest_endpoint": self.flink_rest_endpoint,
                "connector_service_account_id": self.connector_service_account_id,
                "sink_service_account_id": self.sink_service_account_id,
                "flink_principal_id": self.flink_principal_id,
            }
        )
