"""SinkConnectors on the mock-run program: exact connector keys, passwords only in sensitive config, the sink
service account, and what each connector waits for (the Flink statements creating its topics, its ACLs, its target)."""
from __future__ import annotations

import pytest

from components import flink_pool
from components.sink_connectors import (
    OPENSEARCH_INDEXES,
    REDSHIFT_TOPICS,
    SinkConnectorsArgs,
    opensearch_config,
    producers,
)
from mockcloud.program import Program, run_program
from mockcloud.answers import REGION

CONNECTOR = "confluentcloud:index/connector:Connector"
ACL = "confluentcloud:index/kafkaAcl:KafkaAcl"
TABLE = "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable"
PASSWORD = "random:index/randomPassword:RandomPassword"
API_KEY = "confluentcloud:index/apiKey:ApiKey"


def sink(program: Program, role: str):
    [connector] = [r for r in program.of_type(CONNECTOR) if r.name.endswith(f"-sinks-{role}")]
    return connector


def sink_account(program: Program):
    return next(r for r in program.resources if r.type.endswith("serviceAccount:ServiceAccount") and r.name.endswith("-sink-sa"))


def password_of(program: Program, component_type: str, role: str) -> str:
    component = program.one(component_type)
    [generator] = [r for r in program.descendants(component) if r.type == PASSWORD and r.name.endswith(role)]
    return generator.outputs["result"]


def table_creating(program: Program, table: str):
    return program.one(TABLE, f"fraud-{program.one('fraud:kafka:KafkaPlatform').name.split('-')[1]}-flink-"
                              f"{flink_pool.plan_statements(flink_pool.FLINK_DIR).produced_tables[table]}")


def sink_acls(program: Program):
    return [r for r in program.of_type(ACL) if "-sink-" in r.name]


def test_redshift_sink_has_exactly_the_documented_keys(dev):
    connector = sink(dev, "redshift")
    config = connector.inputs["configNonsensitive"]
    assert config == {
        "connector.class": "RedshiftSink",
        "name": "fraud-dev-redshift-sink",
        "kafka.auth.mode": "SERVICE_ACCOUNT",
        "kafka.service.account.id": f"{sink_account(dev).name}-id",
        "topics": "auth_user,user_transaction",
        "input.data.format": "AVRO",
        "aws.redshift.domain": f"fraud-dev-redshift.cmockid.{REGION}.redshift.amazonaws.com",
        "aws.redshift.port": "5439",
        "aws.redshift.user": "fraud_sink",  # its own user, not the cluster admin
        "aws.redshift.database": "fraud",
        "auto.create": "true",
        "auto.evolve": "true",
        "table.name.format": "${topic}",
        "batch.size": "3000",
        "tasks.max": "1",
    }
    assert ":" not in config["aws.redshift.domain"]  # host only, the port has its own key


def test_opensearch_sink_has_exactly_the_documented_keys(dev):
    config = sink(dev, "opensearch").inputs["configNonsensitive"]
    assert config == {
        "connector.class": "OpenSearchSink",
        "name": "fraud-dev-opensearch-sink",
        "kafka.auth.mode": "SERVICE_ACCOUNT",
        "kafka.service.account.id": f"{sink_account(dev).name}-id",
        "topics": "flagged_user,flagged_transaction",
        "input.data.format": "AVRO",
        "input.key.format": "AVRO",
        "instance.url": f"https://search-fraud-dev-search-mockid.{REGION}.es.amazonaws.com",
        "auth.type": "BASIC",
        "connection.user": "fraud_sink",  # its own user, not the master user
        "opensearch.ssl.enabled": "true",
        "indexes.num": "2",
        "index1.name": "flagged_user",
        "index1.topic": "flagged_user",
        "index1.behavior.on.null.values": "DELETE",  # a deleted customer's flag (a tombstone) is deleted
        "index1.batch.size": "500",
        "index1.write.method": "UPSERT",
        "index2.name": "flagged_transaction",
        "index2.topic": "flagged_transaction",
        "index2.behavior.on.null.values": "IGNORE",
        "index2.batch.size": "500",
        "index2.write.method": "INSERT",
        "tasks.max": "1",
    }


@pytest.mark.parametrize("role, component, generator, key", [
    ("redshift", "fraud:redshift:RedshiftWarehouse", "-sink-password", "aws.redshift.password"),
    ("opensearch", "fraud:opensearch:OpenSearchDashboard", "-sink-password", "connection.password"),
])
def test_passwords_travel_only_in_secret_sensitive_config(dev, role, component, generator, key):
    connector = sink(dev, role)
    password = password_of(dev, component, generator)
    assert connector.inputs["configSensitive"] == {key: password}
    assert "configSensitive" in connector.secret_inputs
    assert not any(password in str(value) for value in connector.inputs["configNonsensitive"].values())


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_no_secret_reaches_any_connector_nonsensitive_config(stack, request):
    program = request.getfixturevalue(stack)
    secrets = {r.outputs["result"] for r in program.of_type(PASSWORD)} | {r.outputs["secret"] for r in program.of_type(API_KEY)}
    for connector in program.of_type(CONNECTOR):
        for key, value in connector.inputs["configNonsensitive"].items():
            assert not any(secret in str(value) for secret in secrets), (connector.name, key)
            assert not any(word in key for word in ("password", "secret")), (connector.name, key)


def test_sinks_run_as_the_sink_account_in_the_platform_cluster(dev):
    kafka = dev.one("fraud:kafka:KafkaPlatform")
    cluster = next(r for r in dev.descendants(kafka) if r.type.endswith("kafkaCluster:KafkaCluster"))
    environment = next(r for r in dev.descendants(kafka) if r.type.endswith("environment:Environment"))
    for role in ("redshift", "opensearch"):
        connector = sink(dev, role)
        assert connector.inputs["kafkaCluster"] == {"id": f"{cluster.name}-id"}
        assert connector.inputs["environment"] == {"id": f"{environment.name}-id"}
        assert connector.inputs["configNonsensitive"]["kafka.service.account.id"] != "fraud-dev-kafka-cdc-source-sa-id"
        assert connector.options["delete_before_replace"] is True
        assert connector.parent == dev.one("fraud:sinks:SinkConnectors").urn


@pytest.mark.parametrize("role, topics", [("redshift", REDSHIFT_TOPICS), ("opensearch", [t for t, *_ in OPENSEARCH_INDEXES])])
def test_each_sink_waits_for_the_tables_creating_its_topics_and_its_acls(dev, role, topics):
    connector = sink(dev, role)
    direct = dev.direct_dependencies(connector)
    for topic in topics:
        table = table_creating(dev, topic)
        assert table.inputs["displayName"] == topic and table.urn in direct, topic
    acls = sink_acls(dev)
    assert len(acls) >= 1 + len(REDSHIFT_TOPICS) + len(OPENSEARCH_INDEXES) + 6 + 1
    assert {acl.urn for acl in acls} <= direct
    read_topics = {acl.inputs["resourceName"] for acl in acls if acl.inputs["operation"] == "READ" and acl.inputs["resourceType"] == "TOPIC"}
    assert set(topics) <= read_topics


def test_each_sink_waits_for_its_own_user_and_target(dev):
    redshift_sink, opensearch_sink = sink(dev, "redshift"), sink(dev, "opensearch")
    sink_user = dev.named("fraud-dev-redshift-sink-user")
    schema = dev.named("fraud-dev-redshift-schema")
    domain = dev.one("aws:opensearch/domain:Domain")
    dashboard = dev.named("fraud-dev-opensearch-dashboard")
    opensearch_user = dev.named("fraud-dev-opensearch-sink-user")
    assert sink_user.urn in dev.direct_dependencies(redshift_sink)
    assert dev.depends_on(redshift_sink, schema)
    assert {domain.urn, dashboard.urn, opensearch_user.urn} <= dev.direct_dependencies(opensearch_sink)
    assert not dev.depends_on(redshift_sink, domain) and not dev.depends_on(opensearch_sink, sink_user)


def test_a_sink_is_never_replaced_by_a_change_in_flink(dev):
    """Tables evolve in place on the same topic: no connector is tied to a Flink resource's replacement."""
    for role in ("redshift", "opensearch"):
        connector = sink(dev, role)
        assert connector.options["replace_with"] == [] and connector.options["replace_on_changes"] == []
        assert connector.options["delete_before_replace"] is True  # same connector name: the old one goes first


def test_the_upsert_index_deletes_on_a_tombstone_and_the_append_index_never_sees_one():
    planned = flink_pool.plan_statements(flink_pool.FLINK_DIR).statements
    modes = {p.parsed.table: p.parsed.options["changelog.mode"] for p in planned if p.creates}
    for topic, method, on_null in OPENSEARCH_INDEXES:
        assert (method, on_null) == (("UPSERT", "DELETE") if modes[topic] == "upsert" else ("INSERT", "IGNORE")), topic


def test_sink_topics_are_tables_flink_creates():
    produced = set(flink_pool.plan_statements(flink_pool.FLINK_DIR).produced_tables)
    assert set(REDSHIFT_TOPICS) | {t for t, *_ in OPENSEARCH_INDEXES} <= produced


def test_a_topic_no_statement_creates_is_a_clear_error():
    produced = {"auth_user": object(), "flagged_user": object()}
    with pytest.raises(ValueError, match=r"creates topic\(s\) user_transaction; Flink creates auth_user, flagged_user"):
        producers(["auth_user", "user_transaction"], produced, "Redshift")
    assert producers(["auth_user"], produced, "Redshift") == [produced["auth_user"]]


def test_opensearch_index_blocks_are_checked():
    def args(indexes):
        return SinkConnectorsArgs(
            display_prefix="fraud-dev", environment_id="env", cluster_id="lkc", service_account_id="sa", access=[],
            produced_topics={}, redshift_host="h", redshift_port=5439, redshift_database="d", redshift_user="u",
            redshift_password="p", redshift_ready=[], opensearch_endpoint="e",
            opensearch_user="u", opensearch_password="p", opensearch_ready=[], opensearch_indexes=indexes,
        )

    with pytest.raises(ValueError, match="MERGE"):
        opensearch_config(args([("flagged_user", "MERGE", "IGNORE")]), "n")
    with pytest.raises(ValueError, match="behavior on null values 'DROP', expected one of IGNORE, DELETE, FAIL"):
        opensearch_config(args([("flagged_user", "UPSERT", "DROP")]), "n")
    with pytest.raises(ValueError, match="1 to 5 indexes"):
        opensearch_config(args([(f"t{i}", "INSERT", "IGNORE") for i in range(6)]), "n")
    three = opensearch_config(args([("a", "INSERT", "IGNORE"), ("b", "UPSERT", "DELETE"), ("c", "INSERT", "FAIL")]), "n")
    assert three["indexes.num"] == "3" and three["index3.topic"] == "c" and three["index2.write.method"] == "UPSERT"
    assert three["index2.behavior.on.null.values"] == "DELETE" and three["index3.behavior.on.null.values"] == "FAIL"


def test_sink_connector_ids_are_exported(dev):
    assert dev.outputs["redshiftSinkConnectorId"] == sink(dev, "redshift").name + "-id"
    assert dev.outputs["opensearchSinkConnectorId"] == sink(dev, "opensearch").name + "-id"


def test_a_changed_topic_prefix_leaves_the_sinks_on_flinks_tables():
    program = run_program("dev", overrides={"fraud-detection:topicPrefix": "demo"})
    assert sink(program, "redshift").inputs["configNonsensitive"]["topics"] == "auth_user,user_transaction"
