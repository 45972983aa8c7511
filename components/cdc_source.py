"""OracleCdcSource: the Oracle XStream CDC source connector and the gate that waits for its topics' schemas.

The connector is created only once the database gate opens (XStream is ready and the app's tables exist:
the Oracle host creates them at boot, and Confluent validates the config against the live database) and
its service account has its grants; depending on the grants also means destroy deletes the connector
before them. It writes ``<prefix>.<SCHEMA>.<TABLE>`` topics with Avro keys and values. A topic appears only
once its table has a row, so the gate after it waits for whatever writes the first rows (the app's seeding
Job) and then until both value schemas are registered, which is when Flink can see the tables.

``tombstones.on.delete`` is off on purpose. Debezium connectors follow each delete event with a tombstone (the
key and a null value) by default, which only serves log compaction of the topic; these topics are not compacted
(they keep the change history Flink reads) and Flink reads the delete from the delete event itself (``op`` d, a
DELETE of the row in the table's retract changelog). What Confluent's Debezium format does with a null value is
not documented; with no tombstones the CDC tables never see one (the local feed writes none either).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluentcloud

from components.cdc_readiness import CdcReadiness
from settings import ConfluentSettings

TABLES = ("AUTH_USER", "USER_TRANSACTION")
OUTPUT_FORMAT = "AVRO"
# What the Flink SQL reads the CDC values as, unless its files state otherwise (see FlinkPool's
# ``assumed_cdc_modes``): scaled or unbounded NUMBERs as DOUBLE (whole-number NUMBER(p) columns still arrive as
# Avro int/long, see Confluent's XStream change-event docs), TIMESTAMPs as epoch milliseconds.
DEFAULT_DECIMAL_HANDLING_MODE = "double"
DEFAULT_TIME_PRECISION_MODE = "connect"
DECIMAL_HANDLING_MODES = ("precise", "double", "string")
TIME_PRECISION_MODES = ("adaptive", "adaptive_time_microseconds", "connect")


@dataclass
class OracleCdcSourceArgs:
    settings: ConfluentSettings
    display_prefix: str
    schema: str  # the Oracle schema the app writes to, e.g. SAMPLE
    environment_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    service_account_id: pulumi.Input[str]
    schema_registry_endpoint: pulumi.Input[str]
    schema_registry_api_key: pulumi.Input[str]
    schema_registry_api_secret: pulumi.Input[str]
    oracle_host: pulumi.Input[str]  # public DNS name: the connector runs in Confluent Cloud
    oracle_port: pulumi.Input[int]
    cdb_name: str
    service_name: str
    pdb_name: str
    outbound_server: str
    connect_user: str
    connect_password: pulumi.Input[str]
    oracle_ready: pulumi.Resource  # XStream is ready and the captured tables exist
    first_rows: Sequence[pulumi.Resource]  # whatever writes the tables' first rows (the app's seeding Job)
    access: Sequence[pulumi.Resource]  # the service account's ACLs and role bindings
    decimal_handling_mode: str = DEFAULT_DECIMAL_HANDLING_MODE
    time_precision_mode: str = DEFAULT_TIME_PRECISION_MODE
    tables: Sequence[str] = TABLES


def table_include_list(schema: str, tables: Sequence[str]) -> str:
    """The connector's regex over SCHEMA.TABLE, e.g. ``SAMPLE[.](AUTH_USER|USER_TRANSACTION)``."""
    return f"{schema}[.]({'|'.join(tables)})"


def connector_config(args: OracleCdcSourceArgs, connector_name: str) -> dict[str, pulumi.Input[str]]:
    """Every non-secret key of the connector (all values are strings, as the API expects)."""
    if args.decimal_handling_mode not in DECIMAL_HANDLING_MODES:
        raise ValueError(f"decimal.handling.mode: expected one of {', '.join(DECIMAL_HANDLING_MODES)} (got {args.decimal_handling_mode!r})")
    if args.time_precision_mode not in TIME_PRECISION_MODES:
        raise ValueError(f"time.precision.mode: expected one of {', '.join(TIME_PRECISION_MODES)} (got {args.time_precision_mode!r})")
    return {
        "connector.class": "OracleXStreamSource",
        "name": connector_name,
        "kafka.auth.mode": "SERVICE_ACCOUNT",
        "kafka.service.account.id": args.service_account_id,
        "database.hostname": args.oracle_host,
        "database.port": pulumi.Output.from_input(args.oracle_port).apply(str),
        "database.user": args.connect_user,
        "database.dbname": args.cdb_name,
        "database.service.name": args.service_name,
        "database.pdb.name": args.pdb_name,
        "database.out.server.name": args.outbound_server,
        "database.processor.licenses": "1",
        "topic.prefix": args.settings.topic_prefix,
        "table.include.list": table_include_list(args.schema, args.tables),
        "output.key.format": OUTPUT_FORMAT,
        "output.data.format": OUTPUT_FORMAT,
        "decimal.handling.mode": args.decimal_handling_mode,
        "time.precision.mode": args.time_precision_mode,
        "snapshot.mode": "initial",
        "tombstones.on.delete": "false",
        "tasks.max": "1",
    }


class OracleCdcSource(pulumi.ComponentResource):
    connector: confluentcloud.Connector
    connector_id: pulumi.Output[str]
    topics: list[str]
    ready: CdcReadiness

    def __init__(self, name: str, args: OracleCdcSourceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:cdc:OracleCdcSource", name, None, opts)
        connector_name = f"{args.display_prefix}-oracle-xstream-source"
        config = connector_config(args, connector_name)
        self.topics = [f"{args.settings.topic_prefix}.{args.schema}.{table}" for table in args.tables]

        self.connector = confluentcloud.Connector(
            f"{name}-connector",
            environment=confluentcloud.ConnectorEnvironmentArgs(id=args.environment_id),
            kafka_cluster=confluentcloud.ConnectorKafkaClusterArgs(id=args.cluster_id),
            config_nonsensitive=config,
            config_sensitive={"database.password": pulumi.Output.secret(args.connect_password)},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[args.oracle_ready, *args.access],
                # The connector's name cannot change, so a replacement must remove the old one first.
                delete_before_replace=True,
            ),
        )
        self.ready = CdcReadiness(
            f"{name}-ready",
            endpoint=args.schema_registry_endpoint,
            api_key=args.schema_registry_api_key,
            api_secret=args.schema_registry_api_secret,
            subjects=[f"{topic}-value" for topic in self.topics],
            timeout_seconds=args.settings.cdc_ready_timeout_minutes * 60,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.connector, *args.first_rows]),
        )
        self.connector_id = self.connector.id
        self.register_outputs({"connector_id": self.connector_id, "topics": self.topics})
