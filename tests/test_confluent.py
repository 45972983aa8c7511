"""KafkaPlatform, OracleCdcSource and FlinkPool on the mock-run program: grants, keys, secrets, connector config,
statements and their wiring."""
from __future__ import annotations

import re
import shutil

import pytest

import sql_text
from components import flink_pool
from components.kafka_platform import FLINK_INTERNAL_PREFIX, FlinkTableAccess, flink_table_access
from settings import SettingsError
from mockcloud.program import Program, Resource, run_program
from mockcloud.answers import (
    CONFLUENT_ORG_CRN,
    CONFLUENT_ORG_ID,
    FLINK_REST_ENDPOINT,
    REGION,
    SCHEMA_REGISTRY_ENDPOINT,
)

ENVIRONMENT = "confluentcloud:index/environment:Environment"
CLUSTER = "confluentcloud:index/kafkaCluster:KafkaCluster"
ACCOUNT = "confluentcloud:index/serviceAccount:ServiceAccount"
ROLE_BINDING = "confluentcloud:index/roleBinding:RoleBinding"
ACL = "confluentcloud:index/kafkaAcl:KafkaAcl"
API_KEY = "confluentcloud:index/apiKey:ApiKey"
CONNECTOR = "confluentcloud:index/connector:Connector"
GATE = "pulumi-python:dynamic:Resource"

SECRET_EXPORTS = {
    "kafkaApiKey", "kafkaApiSecret", "schemaRegistryApiKey", "schemaRegistryApiSecret", "flinkApiKey", "flinkApiSecret",
}


def account_id(program: Program, role: str) -> str:
    return f"{program.one(ACCOUNT, f'fraud-{stack(program)}-kafka-{role}-sa').urn.rsplit('::', 1)[1]}-id"


def stack(program: Program) -> str:
    return program.one("fraud:kafka:KafkaPlatform").name.split("-")[1]


def principal(program: Program, role: str) -> str:
    return f"User:{account_id(program, role)}"


def grants(program: Program) -> set[tuple]:
    """(principal, role, crn) of every role binding."""
    return {(r.inputs["principal"], r.inputs["roleName"], r.inputs["crnPattern"]) for r in program.of_type(ROLE_BINDING)}


def acls(program: Program, role: str) -> set[tuple]:
    """(operation, resource type, resource name, pattern) of one account's ACLs."""
    return {
        (r.inputs["operation"], r.inputs["resourceType"], r.inputs["resourceName"], r.inputs["patternType"])
        for r in program.of_type(ACL)
        if r.inputs["principal"] == principal(program, role)
    }


def key(program: Program, role: str):
    return program.one(API_KEY, f"fraud-{stack(program)}-kafka-{role}-key")


# --- KafkaPlatform -----------------------------------------------------------------------------------


def test_environment_and_cluster_follow_the_stack_settings(dev, ha):
    for program, package, kind, availability in ((dev, "ESSENTIALS", "basic", "SINGLE_ZONE"), (ha, "ADVANCED", "standard", "MULTI_ZONE")):
        environment = program.one(ENVIRONMENT)
        assert environment.inputs["streamGovernance"] == {"package": package}
        cluster = program.one(CLUSTER)
        assert cluster.inputs["cloud"] == "AWS" and cluster.inputs["region"] == REGION
        assert cluster.inputs["availability"] == availability
        assert kind in cluster.inputs and not ({"basic", "standard", "enterprises"} - {kind}) & set(cluster.inputs)
        assert cluster.inputs["environment"]["id"] == program.outputs["confluentEnvironmentId"]
        name = f"fraud-{stack(program)}"
        assert environment.inputs["displayName"].startswith(name) and cluster.inputs["displayName"].startswith(name)


def test_enterprise_cluster_uses_its_availability_names():
    program = run_program("ha", {"fraud-detection:kafkaClusterType": "enterprise"})
    cluster = program.one(CLUSTER)
    assert cluster.inputs["enterprises"] == [{}] and cluster.inputs["availability"] == "HIGH"


def test_schema_registry_is_looked_up_in_the_environment_after_it_exists(dev):
    lookups = dev.invokes_of("confluentcloud:index/getSchemaRegistryCluster:getSchemaRegistryCluster")
    assert [lookup.args["environment"]["id"] for lookup in lookups] == [dev.outputs["confluentEnvironmentId"]]
    assert dev.outputs["schemaRegistryEndpoint"] == SCHEMA_REGISTRY_ENDPOINT


def test_a_service_account_per_duty_with_descriptions(dev):
    accounts = {r.inputs["displayName"]: r.inputs["description"] for r in dev.of_type(ACCOUNT)}
    assert set(accounts) == {"fraud-dev-cdc-source", "fraud-dev-sink", "fraud-dev-flink", "fraud-dev-platform-manager"}
    assert all(description.startswith("fraud-dev: ") and len(description) > 30 for description in accounts.values())


def test_role_bindings_are_exactly_the_documented_ones(dev):
    environment_crn = f"{CONFLUENT_ORG_CRN}/environment={dev.outputs['confluentEnvironmentId']}"
    cluster_crn = f"{environment_crn}/cloud-cluster={dev.outputs['kafkaClusterId']}"
    manager = principal(dev, "platform-manager")
    assert grants(dev) == {
        (manager, "CloudClusterAdmin", cluster_crn),  # owns the key that manages ACLs
        (manager, "DeveloperRead", f"{environment_crn}/schema-registry=lsrc-mock/subject=fd.*"),
        (manager, "FlinkDeveloper", environment_crn),
        (manager, "Assigner", f"{CONFLUENT_ORG_CRN}/service-account={account_id(dev, 'flink')}"),
        (principal(dev, "flink"), "EnvironmentAdmin", environment_crn),
        (principal(dev, "cdc-source"), "CloudClusterAdmin", cluster_crn),  # the undocumented schema-history topic
    }
    assert not any(role in ("OrganizationAdmin",) for _, role, _ in grants(dev))
    assert not any(p == principal(dev, "sink") for p, _, _ in grants(dev))  # sinks get ACLs only


def test_dev_flink_principal_keeps_environment_admin_because_basic_has_no_granular_bindings(dev):
    """Basic clusters take no role bindings on topics, groups or transactional IDs (Predefined RBAC Roles in
    Confluent Cloud), so dev uses the broad-access setup of Confluent's Flink RBAC page."""
    assert dev.one(CLUSTER).inputs["basic"] == {}
    flink = {(role, crn) for p, role, crn in grants(dev) if p == principal(dev, "flink")}
    assert flink == {("EnvironmentAdmin", f"{CONFLUENT_ORG_CRN}/environment={dev.outputs['confluentEnvironmentId']}")}


def flink_grants(program: Program) -> set[tuple[str, str]]:
    """(role, crn) of the flink principal's role bindings."""
    return {(role, crn) for p, role, crn in grants(program) if p == principal(program, "flink")}


def test_ha_flink_principal_gets_only_what_its_statements_need(ha):
    environment_crn = f"{CONFLUENT_ORG_CRN}/environment={ha.outputs['confluentEnvironmentId']}"
    kafka_crn = f"{environment_crn}/cloud-cluster={ha.outputs['kafkaClusterId']}/kafka={ha.outputs['kafkaClusterId']}"
    subject_crn = f"{environment_crn}/schema-registry=lsrc-mock/subject="
    assert ha.one(CLUSTER).inputs["standard"] == {}
    found = flink_grants(ha)
    assert not {role for role, _ in found} & {"EnvironmentAdmin", "OrganizationAdmin", "CloudClusterAdmin", "ResourceOwner"}
    # The base layer: Flink itself, its transactions and its groups, by Flink's internal prefix only.
    assert {
        ("FlinkDeveloper", environment_crn),
        ("DeveloperRead", f"{kafka_crn}/transactional-id={FLINK_INTERNAL_PREFIX}*"),
        ("DeveloperWrite", f"{kafka_crn}/transactional-id={FLINK_INTERNAL_PREFIX}*"),
        ("DeveloperManage", f"{kafka_crn}/group={FLINK_INTERNAL_PREFIX}*"),
    } <= found
    plan = flink_pool.plan_statements(flink_pool.FLINK_DIR)
    created = set(plan.produced_tables)
    cdc = {"fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"}
    dead_letters = {"cdc_auth_user_errors", "cdc_user_transaction_errors"}
    for table in created | dead_letters:  # created and filled by the statements
        assert {("DeveloperManage", f"{kafka_crn}/topic={table}"), ("DeveloperWrite", f"{kafka_crn}/topic={table}"),
                ("DeveloperWrite", f"{subject_crn}{table}-value"), ("DeveloperRead", f"{subject_crn}{table}-value")} <= found
    for table in cdc:  # read, and their table options altered; never written
        assert {("DeveloperRead", f"{kafka_crn}/topic={table}"), ("DeveloperManage", f"{kafka_crn}/topic={table}"),
                ("DeveloperRead", f"{subject_crn}{table}-value"), ("DeveloperWrite", f"{subject_crn}{table}-value")} <= found
        assert ("DeveloperWrite", f"{kafka_crn}/topic={table}") not in found
    # Nothing else: every topic or subject grant names one of these tables, never a wildcard.
    topics = {crn.rsplit("/topic=", 1)[1] for _, crn in found if "/topic=" in crn}
    assert topics == created | cdc | dead_letters
    subjects = {crn.rsplit("/subject=", 1)[1] for _, crn in found if "/subject=" in crn}
    assert subjects == {f"{table}{suffix}" for table in topics for suffix in ("-key", "-value")}
    assert not [crn for _, crn in found if crn.endswith("*") and FLINK_INTERNAL_PREFIX not in crn]


def test_ha_flink_key_and_statements_wait_for_every_grant_of_the_principal(ha):
    bindings = [r for r in ha.of_type(ROLE_BINDING) if r.inputs["principal"] == principal(ha, "flink")]
    flink_key = key(ha, "flink")
    assert all(ha.depends_on(flink_key, binding) for binding in bindings)
    for statement in ha.of_type("confluentcloud:index/flinkStatement:FlinkStatement") + ha.of_type(
            "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable"):
        assert {b.urn for b in bindings} <= set(statement.dependencies), statement.name


def test_flink_grants_follow_the_plan_not_a_list(tmp_path):
    """A new table in flink/ gets its grants; the reads, creates and alters come from the SQL itself."""
    for path in sorted(flink_pool.FLINK_DIR.glob("*.sql")):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "99_big_spenders.sql").write_text(
        "CREATE OR ALTER MATERIALIZED TABLE big_spenders AS SELECT account_id FROM user_transaction WHERE amount > 5000"
    )
    access = flink_table_access(flink_pool.plan_statements(tmp_path))
    assert "big_spenders" in access.creates and "big_spenders" in access.writes
    assert "user_transaction" in access.reads
    assert access.alters == {"fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"}
    assert {"cdc_auth_user_errors", "cdc_user_transaction_errors"} <= access.creates
    assert ("topic", "big_spenders", "DeveloperManage") in access.grants()
    assert ("subject", "big_spenders-value", "DeveloperWrite") in access.grants()
    # With another topic prefix and schema, the CDC tables follow them.
    renamed = flink_table_access(flink_pool.plan_statements(flink_pool.FLINK_DIR, "shop", "SALES"))
    assert renamed.alters == {"shop.SALES.AUTH_USER", "shop.SALES.USER_TRANSACTION"}


def test_table_access_maps_to_the_documented_roles():
    grants_of = FlinkTableAccess(reads=frozenset({"r"}), writes=frozenset({"w"}), creates=frozenset({"c"}),
                                 alters=frozenset({"a"})).grants()
    assert set(grants_of) == {
        ("topic", "r", "DeveloperRead"), ("subject", "r-key", "DeveloperRead"), ("subject", "r-value", "DeveloperRead"),
        ("topic", "w", "DeveloperWrite"), ("subject", "w-key", "DeveloperRead"), ("subject", "w-value", "DeveloperRead"),
        ("topic", "c", "DeveloperManage"), ("subject", "c-key", "DeveloperWrite"), ("subject", "c-value", "DeveloperWrite"),
        ("topic", "a", "DeveloperManage"), ("subject", "a-key", "DeveloperWrite"), ("subject", "a-value", "DeveloperWrite"),
    }


def test_source_and_sink_acls_are_the_documented_sets(dev):
    assert acls(dev, "cdc-source") == {
        ("DESCRIBE", "CLUSTER", "kafka-cluster", "LITERAL"),
        ("CREATE", "TOPIC", "fd", "PREFIXED"),
        ("WRITE", "TOPIC", "fd", "PREFIXED"),
    }
    sink = acls(dev, "sink")
    assert ("DESCRIBE", "CLUSTER", "kafka-cluster", "LITERAL") in sink
    assert ("READ", "GROUP", "connect-lcc", "PREFIXED") in sink
    for topic in ("dlq-lcc", "success-lcc", "error-lcc"):
        assert {("CREATE", "TOPIC", topic, "PREFIXED"), ("WRITE", "TOPIC", topic, "PREFIXED")} <= sink
    reads = {name for operation, kind, name, pattern in sink if (operation, kind, pattern) == ("READ", "TOPIC", "LITERAL")}
    assert all(not name.startswith("fd") for name in reads)  # sinks never read the raw CDC topics
    assert not [acl for acl in dev.of_type(ACL) if acl.inputs["operation"] == "ALL" or acl.inputs["resourceName"] == "*"]
    assert {acl.inputs["principal"] for acl in dev.of_type(ACL)} == {principal(dev, "cdc-source"), principal(dev, "sink")}


def test_acls_use_the_admin_key_after_its_owner_may_manage_acls(dev):
    admin_key = key(dev, "kafka")
    cluster_admin = dev.named("fraud-dev-kafka-platform-manager-cluster-admin")
    for acl in dev.of_type(ACL):
        assert acl.inputs["kafkaCluster"] == {"id": dev.outputs["kafkaClusterId"]}
        assert acl.inputs["restEndpoint"] == dev.outputs["kafkaRestEndpoint"]
        assert acl.inputs["credentials"] == {"key": dev.outputs["kafkaApiKey"], "secret": admin_key.outputs["secret"]}
        assert "credentials" in acl.secret_inputs
        assert dev.depends_on(acl, cluster_admin)


def test_api_keys_are_owned_by_the_platform_manager_and_scoped(dev):
    manager = {"id": account_id(dev, "platform-manager"), "apiVersion": "iam/v2", "kind": "ServiceAccount"}
    environment = {"id": dev.outputs["confluentEnvironmentId"]}
    expected = {
        "kafka": {"id": dev.outputs["kafkaClusterId"], "apiVersion": "cmk/v2", "kind": "Cluster", "environment": environment},
        "schema-registry": {"id": "lsrc-mock", "apiVersion": "srcm/v3", "kind": "Cluster", "environment": environment},
        "flink": {"id": f"aws.{REGION}", "apiVersion": "fcpm/v2", "kind": "Region", "environment": environment},
    }
    for role, managed in expected.items():
        api_key = key(dev, role)
        assert api_key.inputs["owner"] == manager
        assert api_key.inputs["managedResource"] == managed
        assert api_key.inputs["displayName"] == f"fraud-dev-{role}" and api_key.inputs["description"]
    assert [i.args for i in dev.invokes_of("confluentcloud:index/getFlinkRegion:getFlinkRegion")] == [{"cloud": "AWS", "region": REGION}]


def test_each_key_waits_for_its_owners_grants(dev):
    binding = dev.named
    assert dev.depends_on(key(dev, "kafka"), binding("fraud-dev-kafka-platform-manager-cluster-admin"))
    assert dev.depends_on(key(dev, "schema-registry"), binding("fraud-dev-kafka-platform-manager-subjects-read"))
    for role in ("flink-environment-admin", "platform-manager-flink-developer", "platform-manager-flink-assigner"):
        assert dev.depends_on(key(dev, "flink"), binding(f"fraud-dev-kafka-{role}"))


def test_api_keys_are_exported_only_as_secrets(dev):
    assert SECRET_EXPORTS <= dev.secret_outputs
    secrets = {r.outputs["secret"] for r in dev.of_type(API_KEY)}
    assert {dev.outputs[name] for name in ("kafkaApiSecret", "schemaRegistryApiSecret", "flinkApiSecret")} == secrets
    for name, value in dev.outputs.items():
        if name not in dev.secret_outputs:
            assert not any(secret in str(value) for secret in secrets), name


def test_api_secrets_travel_only_in_secret_inputs(dev):
    secrets = {r.outputs["secret"] for r in dev.of_type(API_KEY)}

    def leaks(value, path=""):
        if isinstance(value, dict):
            return [leak for k, v in value.items() for leak in leaks(v, f"{path}.{k}" if path else k)]
        if isinstance(value, list):
            return [leak for i, v in enumerate(value) for leak in leaks(v, f"{path}[{i}]")]
        return [path] if isinstance(value, str) and any(s in value for s in secrets) else []

    for resource in dev.resources:
        for path in leaks(resource.inputs):
            assert any(path == p or path.startswith(p + ".") for p in resource.secret_inputs), (resource.name, path)


def test_connect_egress_ranges_are_looked_up_for_the_region(dev):
    lookups = dev.invokes_of("confluentcloud:index/getIpAddresses:getIpAddresses")
    assert lookups and all(
        lookup.args["filter"] == {"clouds": ["AWS"], "regions": [REGION], "services": ["CONNECT"], "addressTypes": ["EGRESS"]}
        for lookup in lookups
    )


def test_missing_confluent_credential_stops_before_anything_is_registered(monkeypatch):
    for variable in ("CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(SettingsError) as raised:
        run_program("dev", credentials=False)
    assert "confluentcloud:cloudApiKey" in str(raised.value) and "--secret" in str(raised.value)
    assert raised.value.registered == []


# --- OracleCdcSource -----------------------------------------------------------------------------------

EXPECTED_CONFIG = {
    "connector.class": "OracleXStreamSource",
    "name": "fraud-dev-oracle-xstream-source",
    "kafka.auth.mode": "SERVICE_ACCOUNT",
    "database.hostname": "ec2-198-51-100-20.eu-central-1.compute.amazonaws.com",
    "database.port": "1521",
    "database.user": "C##CDC_CONNECT",
    "database.dbname": "XE",
    "database.service.name": "XE",
    "database.pdb.name": "XEPDB1",
    "database.out.server.name": "XOUT",
    "database.processor.licenses": "1",
    "topic.prefix": "fd",
    "table.include.list": "SAMPLE[.](AUTH_USER|USER_TRANSACTION)",
    "output.key.format": "AVRO",
    "output.data.format": "AVRO",
    "decimal.handling.mode": "double",
    "time.precision.mode": "connect",
    "snapshot.mode": "initial",
    "tombstones.on.delete": "false",
    "tasks.max": "1",
}


def source_connector(program: Program):
    """The CDC source connector (the sink connectors are connectors too)."""
    [connector] = [r for r in program.children(program.one("fraud:cdc:OracleCdcSource")) if r.type == CONNECTOR]
    return connector


def oracle_connect_password(program: Program) -> str:
    return program.outputs["oracleConnectPassword"]


def test_connector_config_has_every_required_key(dev):
    config = source_connector(dev).inputs["configNonsensitive"]
    assert config == {**EXPECTED_CONFIG, "kafka.service.account.id": account_id(dev, "cdc-source")}
    assert all(isinstance(value, str) for value in config.values())
    assert "output.data.value.format" not in config and "output.data.key.format" not in config


def test_connector_password_only_in_sensitive_config(dev):
    connector = source_connector(dev)
    password = oracle_connect_password(dev)
    assert connector.inputs["configSensitive"] == {"database.password": password}
    assert "configSensitive" in connector.secret_inputs
    assert password not in str(connector.inputs["configNonsensitive"])
    assert not any("password" in name.lower() or "secret" in name.lower() for name in connector.inputs["configNonsensitive"])


def test_connector_targets_the_platform_and_is_replaced_delete_first(dev):
    connector = source_connector(dev)
    assert connector.inputs["environment"] == {"id": dev.outputs["confluentEnvironmentId"]}
    assert connector.inputs["kafkaCluster"] == {"id": dev.outputs["kafkaClusterId"]}
    assert connector.options["delete_before_replace"] is True


def test_connector_waits_for_oracle_and_its_grants(dev):
    connector = source_connector(dev)
    assert dev.depends_on(connector, dev.named("fraud-dev-oracle-ready"))
    # the Oracle host creates the captured tables at boot: nothing on the EKS cluster is waited for
    cluster = dev.one("eks:index:Cluster")
    assert not dev.depends_on(connector, cluster)
    assert not any(dev.depends_on(connector, job) for job in dev.of_type("kubernetes:batch/v1:Job"))
    source = principal(dev, "cdc-source")
    grants_of_source = [r for r in dev.of_type(ACL) + dev.of_type(ROLE_BINDING) if r.inputs["principal"] == source]
    assert len(grants_of_source) == 4
    assert all(urn in connector.dependencies for urn in (r.urn for r in grants_of_source))


def test_cdc_gate_waits_for_the_connector_and_the_value_subjects(dev):
    gate = dev.named("fraud-dev-cdc-ready")
    assert gate.type == GATE
    assert dev.depends_on(gate, source_connector(dev))
    # a topic appears with its table's first row: the seeding Job writes them
    [seeding] = [r for r in dev.of_type("kubernetes:batch/v1:Job") if "-migrate-" in r.name]
    assert dev.depends_on(gate, seeding)
    assert gate.inputs["subjects"] == ["fd.SAMPLE.AUTH_USER-value", "fd.SAMPLE.USER_TRANSACTION-value"]
    assert gate.inputs["endpoint"] == SCHEMA_REGISTRY_ENDPOINT
    assert gate.inputs["timeout_seconds"] == 20 * 60
    assert gate.inputs["api_key"] == dev.outputs["schemaRegistryApiKey"]
    assert gate.inputs["api_secret"] == dev.outputs["schemaRegistryApiSecret"]
    assert {"api_key", "api_secret"} <= gate.secret_inputs
    assert {"api_key", "api_secret"} <= set(gate.options["additional_secret_outputs"])
    assert dev.outputs["cdcTopics"] == ["fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"]


def test_topic_prefix_and_schema_reach_the_connector_the_acls_and_the_gate():
    program = run_program(
        "dev",
        {
            "fraud-detection:topicPrefix": "txn",
            "fraud-detection:oracleAppSchema": "APPDATA",
            "fraud-detection:cdcReadyTimeoutMinutes": 7,
        },
    )
    config = source_connector(program).inputs["configNonsensitive"]
    assert config["topic.prefix"] == "txn"
    assert config["table.include.list"] == "APPDATA[.](AUTH_USER|USER_TRANSACTION)"
    gate = program.named("fraud-dev-cdc-ready")
    assert gate.inputs["subjects"] == ["txn.APPDATA.AUTH_USER-value", "txn.APPDATA.USER_TRANSACTION-value"]
    assert gate.inputs["timeout_seconds"] == 7 * 60
    assert ("CREATE", "TOPIC", "txn", "PREFIXED") in acls(program, "cdc-source")
    assert any(crn.endswith("/subject=txn.*") for _, _, crn in grants(program))


# --- FlinkPool -----------------------------------------------------------------------------------------

STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
TABLE = "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable"
POOL = "confluentcloud:index/flinkComputePool:FlinkComputePool"
FLINK_ROLES = ("flink-environment-admin", "platform-manager-flink-developer", "platform-manager-flink-assigner")


def flink_resources(program: Program) -> dict[str, Resource]:
    """File key -> its resource (statement or materialized table)."""
    return {r.name.removeprefix(f"fraud-{stack(program)}-flink-"): r
            for r in program.of_type(STATEMENT) + program.of_type(TABLE)}


def test_compute_pool_follows_the_stack_settings(dev, ha):
    for program, cfu in ((dev, 10), (ha, 20)):
        pool = program.one(POOL)
        assert pool.inputs["maxCfu"] == cfu and pool.inputs["cloud"] == "AWS" and pool.inputs["region"] == REGION
        assert pool.inputs["environment"] == {"id": program.outputs["confluentEnvironmentId"]}
        assert pool.inputs["displayName"] == f"fraud-{stack(program)}-flink"


def test_each_derived_table_is_a_materialized_table_and_each_cdc_alter_a_statement(dev):
    plan = flink_pool.plan_statements(flink_pool.FLINK_DIR)
    resources = flink_resources(dev)
    assert set(resources) == {p.key for p in plan.statements}
    tables = {r.inputs["displayName"]: r for r in dev.of_type(TABLE)}
    assert set(tables) == {"auth_user", "user_transaction", "flagged_transaction", "flagged_user"}
    assert dev.outputs["flinkMaterializedTables"] == [p.parsed.table for p in plan.statements if p.creates]
    for planned in plan.statements:
        resource = resources[planned.key]
        if planned.creates:
            assert resource.type == TABLE
            assert resource.inputs["query"] == planned.parsed.query
            assert resource.inputs["tableOptions"] == planned.parsed.options
            assert resource.inputs["startMode"]["kind"] == planned.parsed.start_mode.kind
            assert resource.options["delete_before_replace"] is True
        else:
            assert resource.type == STATEMENT
            assert resource.inputs["statement"] == (flink_pool.FLINK_DIR / planned.file).read_text().strip()
            assert sql_text.altered_tables(resource.inputs["statement"]) <= {"fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"}
            assert re.fullmatch(r"fraud-dev-[a-z0-9-]+-[0-9a-f]{8}", resource.inputs["statementName"])
            assert len(resource.inputs["statementName"]) <= flink_pool.NAME_LIMIT
    flagged_user = tables["flagged_user"].inputs
    assert flagged_user["constraints"] == [{"type": "PRIMARY_KEY", "columns": ["account_id"], "enforced": False}]
    assert flagged_user["distribution"] == {"kind": "HASH", "keys": ["account_id"], "bucketCount": 1}
    assert tables["user_transaction"].inputs["watermark"] == {
        "column": "received_at", "expression": "received_at - INTERVAL '3' SECOND"}
    assert dev.outputs["flinkStatementNames"] == {
        key: r.inputs["statementName"] for key, r in resources.items() if r.type == STATEMENT}


def test_no_statement_drops_a_table_or_creates_one(dev, ha):
    for program in (dev, ha):
        for statement in program.of_type(STATEMENT):
            text = statement.inputs["statement"]
            assert not sql_text.dropped_tables(text) and not sql_text.created_tables(text), statement.name


def test_statement_names_are_stable_across_runs(dev):
    assert run_program("dev").outputs["flinkStatementNames"] == dev.outputs["flinkStatementNames"]


def test_flink_resources_run_in_the_environment_and_cluster_as_the_principal(dev):
    pool = dev.one(POOL)
    flink_key = key(dev, "flink")
    for resource in flink_resources(dev).values():
        inputs = resource.inputs
        assert inputs["organization"] == {"id": CONFLUENT_ORG_ID}
        assert inputs["environment"] == {"id": dev.outputs["confluentEnvironmentId"]}
        assert inputs["computePool"] == {"id": f"{pool.name}-id"}
        assert inputs["principal"] == {"id": account_id(dev, "flink")}
        assert inputs["restEndpoint"] == FLINK_REST_ENDPOINT
        assert inputs["credentials"] == {"key": dev.outputs["flinkApiKey"], "secret": flink_key.outputs["secret"]}
        assert "credentials" in resource.secret_inputs
        if resource.type == STATEMENT:
            assert inputs["properties"] == {"sql.current-catalog": "fraud-dev-env", "sql.current-database": "fraud-dev-kafka"}
            assert resource.options["delete_before_replace"] is True
            assert {"statement", "statementName", "properties", "computePool", "principal"} <= set(
                resource.options["replace_on_changes"])
        else:
            assert inputs["kafkaCluster"] == {"id": dev.outputs["kafkaClusterId"]}


def test_each_table_waits_for_the_cdc_gate_its_grants_and_what_it_reads(dev):
    gate = dev.named("fraud-dev-cdc-ready")
    resources = flink_resources(dev)
    plan = flink_pool.plan_statements(flink_pool.FLINK_DIR)
    for planned in plan.statements:
        resource = resources[planned.key]
        assert gate.urn in resource.dependencies
        for role in FLINK_ROLES:
            assert dev.named(f"fraud-dev-kafka-{role}").urn in resource.dependencies
        expected = {resources[key].urn for key in planned.depends_on}
        assert {urn for urn in resource.dependencies if urn in {r.urn for r in resources.values()}} == expected
        # only an order: nothing takes an input from another Flink resource, so re-creating one replaces no other
        inputs_from = {urn for urns in resource.property_dependencies.values() for urn in urns}
        assert not inputs_from & {r.urn for r in resources.values()}
    assert {key: p.depends_on for key, p in ((p.key, p) for p in plan.statements)} == {
        "01-cdc-auth-user": (), "02-cdc-user-transaction": (),
        "03-auth-user": ("01-cdc-auth-user",), "04-user-transaction": ("02-cdc-user-transaction",),
        "05-flagged-transaction": ("04-user-transaction",),
        "06-flagged-user": ("01-cdc-auth-user", "04-user-transaction"),
    }


def test_sinks_may_read_exactly_the_tables_flink_produces(dev):
    produced = set(flink_pool.plan_statements(flink_pool.FLINK_DIR).produced_tables)
    assert {"auth_user", "user_transaction", "flagged_user", "flagged_transaction"} == produced
    reads = {name for operation, kind, name, pattern in acls(dev, "sink") if (operation, kind) == ("READ", "TOPIC")}
    assert reads == produced


def test_connector_value_modes_follow_what_the_sql_states(dev, sql_copy):
    default = source_connector(dev).inputs["configNonsensitive"]  # the SQL as it is in flink/, which sql_copy copies
    assert (default["decimal.handling.mode"], default["time.precision.mode"]) == ("double", "connect")
    for path in sql_copy.glob("*.sql"):
        path.write_text(path.read_text().replace("decimal.handling.mode=double", "decimal.handling.mode=string"))
    config = source_connector(run_program("dev")).inputs["configNonsensitive"]
    assert config["decimal.handling.mode"] == "string" and config["time.precision.mode"] == "connect"


def test_cdc_topics_in_the_sql_follow_the_topic_prefix_and_schema():
    program = run_program("dev", {"fraud-detection:topicPrefix": "txn", "fraud-detection:oracleAppSchema": "APPDATA"})
    texts = [r.inputs["statement"] for r in program.of_type(STATEMENT)] + [r.inputs["query"] for r in program.of_type(TABLE)]
    assert any("`txn.APPDATA.AUTH_USER`" in text for text in texts)
    assert any("`txn.APPDATA.USER_TRANSACTION`" in text for text in texts)
    assert not any("`fd.SAMPLE." in text for text in texts)


def test_a_bad_sql_file_stops_before_anything_is_registered(sql_copy):
    (sql_copy / "99_two_statements.sql").write_text("CREATE TABLE a (x INT);\nCREATE TABLE b (x INT);\n")
    with pytest.raises(ValueError, match=r"99_two_statements\.sql: expected one SQL statement per file") as raised:
        run_program("dev")
    assert raised.value.registered == []
