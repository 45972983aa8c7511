"""SinkConnectors: Flink's output topics into Redshift (history) and OpenSearch (the fraud dashboard).

- Redshift sink: the flattened, append-only ``auth_user`` and ``user_transaction`` topics, one table each
  named like the topic, created and evolved by the connector. The name is unqualified on purpose: whether
  the connector splits ``schema.table`` is not documented, so the table lands in the sink user's own schema
  through its ``search_path`` (components/redshift_sql/prepare_sink_user.sql) either way.
- OpenSearch sink: ``flagged_user`` (keyed by account, so upserted: one document per account) and
  ``flagged_transaction`` (append-only, so inserted), one index per topic named like the topic. ``flagged_user``
  is an upsert table: when its row is deleted (the customer was deleted) the topic carries a tombstone, a record
  with the key and a null value, and the sink deletes that account's document (``behavior.on.null.values``
  DELETE), so a deleted customer drops out of the dashboard as the table promises. The append-only topic never
  carries a null value; IGNORE there.

Both run as the sink service account, read Avro values through Schema Registry, log in to their targets
as users of their own (limited to the Redshift schema, to the OpenSearch indexes) and keep those passwords
in ``config_sensitive`` only. Each waits for the Flink materialized tables that create its topics, the service
account's ACLs and its target (the Redshift schema and sink user; the OpenSearch domain, sink user and the
index templates the dashboard import puts there); depending on them also means destroy deletes the
connectors first, then the tables and their topics. A table evolves in place on the same topic, so a change in
``flink/`` leaves the connectors as they are.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluentcloud

INPUT_FORMAT = "AVRO"
REDSHIFT_TOPICS = ("auth_user", "user_transaction")
# topic (= index name) -> (write method, behaviour on a null value): UPSERT and DELETE for a keyed (upsert) table,
# whose deleted rows are tombstones; INSERT and IGNORE for an append-only one.
OPENSEARCH_INDEXES = (("flagged_user", "UPSERT", "DELETE"), ("flagged_transaction", "INSERT", "IGNORE"))
WRITE_METHODS = ("INSERT", "UPSERT")
NULL_VALUE_BEHAVIOURS = ("IGNORE", "DELETE", "FAIL")
REDSHIFT_BATCH_SIZE = 3000
OPENSEARCH_BATCH_SIZE = 500  # demo volume: small batches keep the dashboard current
MAX_OPENSEARCH_INDEXES = 5  # the connector's limit


@dataclass
class SinkConnectorsArgs:
    display_prefix: str
    environment_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    service_account_id: pulumi.Input[str]  # the sink service account
    access: Sequence[pulumi.Resource]  # its ACLs
    produced_topics: Mapping[str, pulumi.Resource]  # topic -> the Flink materialized table that creates it
    redshift_host: pulumi.Input[str]
    redshift_port: pulumi.Input[int]
    redshift_database: pulumi.Input[str]
    redshift_user: pulumi.Input[str]
    redshift_password: pulumi.Input[str]
    redshift_ready: Sequence[pulumi.Resource]  # whatever creates the schema and the sink user
    opensearch_endpoint: pulumi.Input[str]  # host name, no scheme
    opensearch_user: pulumi.Input[str]
    opensearch_password: pulumi.Input[str]
    opensearch_ready: Sequence[pulumi.Resource]  # the domain, the index templates and the sink user
    redshift_topics: Sequence[str] = REDSHIFT_TOPICS
    opensearch_indexes: Sequence[tuple[str, str, str]] = OPENSEARCH_INDEXES


def producers(topics: Sequence[str], produced: Mapping[str, pulumi.Resource], sink: str) -> list[pulumi.Resource]:
    """The Flink tables creating ``topics``; a topic no file in flink/ creates is a clear error."""
    missing = [topic for topic in topics if topic not in produced]
    if missing:
        raise ValueError(
            f"{sink} sink: no file in flink/ creates topic(s) {', '.join(missing)}; "
            f"Flink creates {', '.join(sorted(produced)) or 'none'}"
        )
    return [produced[topic] for topic in topics]


def common_config(name: str, service_account_id: pulumi.Input[str], topics: Sequence[str]) -> dict[str, pulumi.Input[str]]:
    return {
        "name": name,
        "kafka.auth.mode": "SERVICE_ACCOUNT",
        "kafka.service.account.id": service_account_id,
        "topics": ",".join(topics),
        "input.data.format": INPUT_FORMAT,
        "tasks.max": "1",
    }


def redshift_config(args: SinkConnectorsArgs, name: str) -> dict[str, pulumi.Input[str]]:
    """Every non-secret key of the Redshift sink."""
    return {
        "connector.class": "RedshiftSink",
        **common_config(name, args.service_account_id, args.redshift_topics),
        "aws.redshift.domain": args.redshift_host,
        "aws.redshift.port": pulumi.Output.from_input(args.redshift_port).apply(str),
        "aws.redshift.user": args.redshift_user,
        "aws.redshift.database": args.redshift_database,
        "auto.create": "true",
        "auto.evolve": "true",
        "table.name.format": "${topic}",  # unqualified: the sink user's search_path is its schema
        "batch.size": str(REDSHIFT_BATCH_SIZE),
    }


def opensearch_config(args: SinkConnectorsArgs, name: str) -> dict[str, pulumi.Input[str]]:
    """Every non-secret key of the OpenSearch sink: one numbered index block per topic."""
    indexes = list(args.opensearch_indexes)
    if not 0 < len(indexes) <= MAX_OPENSEARCH_INDEXES:
        raise ValueError(f"OpenSearch sink: expected 1 to {MAX_OPENSEARCH_INDEXES} indexes, got {len(indexes)}")
    config: dict[str, pulumi.Input[str]] = {
        "connector.class": "OpenSearchSink",
        **common_config(name, args.service_account_id, [topic for topic, *_ in indexes]),
        # flagged_user is keyed by account (an Avro key): UPSERT uses the key as the document id.
        "input.key.format": INPUT_FORMAT,
        "instance.url": pulumi.Output.concat("https://", args.opensearch_endpoint),
        "auth.type": "BASIC",
        "connection.user": args.opensearch_user,
        "opensearch.ssl.enabled": "true",
        "indexes.num": str(len(indexes)),
    }
    for number, (topic, method, on_null) in enumerate(indexes, start=1):
        if method not in WRITE_METHODS:
            raise ValueError(f"OpenSearch sink index {topic}: write method {method!r}, expected INSERT or UPSERT")
        if on_null not in NULL_VALUE_BEHAVIOURS:
            raise ValueError(f"OpenSearch sink index {topic}: behavior on null values {on_null!r}, expected one of "
                             f"{', '.join(NULL_VALUE_BEHAVIOURS)}")
        config.update(
            {
                f"index{number}.name": topic,
                f"index{number}.topic": topic,
                f"index{number}.behavior.on.null.values": on_null,
                f"index{number}.batch.size": str(OPENSEARCH_BATCH_SIZE),
                f"index{number}.write.method": method,
            }
        )
    return config


class SinkConnectors(pulumi.ComponentResource):
    redshift_connector: confluentcloud.Connector
    opensearch_connector: confluentcloud.Connector

    def __init__(self, name: str, args: SinkConnectorsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:sinks:SinkConnectors", name, None, opts)
        redshift_producers = producers(args.redshift_topics, args.produced_topics, "Redshift")
        opensearch_topics = [topic for topic, *_ in args.opensearch_indexes]
        opensearch_producers = producers(opensearch_topics, args.produced_topics, "OpenSearch")

        def connector(role: str, config: dict, sensitive: dict, after: list[pulumi.Resource]) -> confluentcloud.Connector:
            return confluentcloud.Connector(
                f"{name}-{role}",
                environment=confluentcloud.ConnectorEnvironmentArgs(id=args.environment_id),
                kafka_cluster=confluentcloud.ConnectorKafkaClusterArgs(id=args.cluster_id),
                config_nonsensitive=config,
                config_sensitive=sensitive,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*after, *args.access],
                    # A connector's name cannot change, so a replacement must remove the old one first.
                    delete_before_replace=True,
                ),
            )

        self.redshift_connector = connector(
            "redshift",
            redshift_config(args, f"{args.display_prefix}-redshift-sink"),
            {"aws.redshift.password": pulumi.Output.secret(args.redshift_password)},
            [*redshift_producers, *args.redshift_ready],
        )
        self.opensearch_connector = connector(
            "opensearch",
            opensearch_config(args, f"{args.display_prefix}-opensearch-sink"),
            {"connection.password": pulumi.Output.secret(args.opensearch_password)},
            [*opensearch_producers, *args.opensearch_ready],
        )
        self.register_outputs(
            {"redshift_connector_id": self.redshift_connector.id, "opensearch_connector_id": self.opensearch_connector.id}
        )
