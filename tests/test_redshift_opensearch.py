"""RedshiftWarehouse and OpenSearchDashboard on the mock-run program: sizing per stack, network exposure,
encryption and TLS, access policy, generated passwords kept secret, the statements that prepare the schema and
the sink's own user, and the dashboard import."""
from __future__ import annotations

import hashlib
import ipaddress
import json
import string

import pytest

from components import opensearch as opensearch_component
from components.opensearch import TLS_POLICY, access_policy, domain_name, load_saved_objects, zone_count
from components.redshift import (
    PREPARE_SINK_USER_SQL,
    SINK_USER,
    cluster_identifier,
    md5_password_hash,
    node_layout,
    prepare_sink_user_sql,
    schema_sql,
)
from settings import SettingsError
from mockcloud.program import Program, run_program
from mockcloud.answers import ACCOUNT_ID, CONFLUENT_EGRESS, REGION

CLUSTER = "aws:redshift/cluster:Cluster"
SUBNET_GROUP = "aws:redshift/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:redshift/parameterGroup:ParameterGroup"
STATEMENT = "aws:redshiftdata/statement:Statement"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
KMS_KEY = "aws:kms/key:Key"
SUBNET = "aws:ec2/subnet:Subnet"
PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
DOMAIN = "aws:opensearch/domain:Domain"
DYNAMIC = "pulumi-python:dynamic:Resource"
NS = "fraud-detection"


def parts(program: Program, component_type: str, type_: str | None = None):
    found = program.descendants(program.one(component_type))
    return [r for r in found if type_ is None or r.type == type_]


def only(program: Program, component_type: str, type_: str):
    found = parts(program, component_type, type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def redshift(program: Program, type_: str):
    return only(program, "fraud:redshift:RedshiftWarehouse", type_)


def redshift_part(program: Program, type_: str, role: str):
    """The RedshiftWarehouse child of ``type_`` named ``<component>-<role>``."""
    [found] = [r for r in parts(program, "fraud:redshift:RedshiftWarehouse", type_) if r.name.endswith(f"-redshift-{role}")]
    return found


def search(program: Program, type_: str):
    return only(program, "fraud:opensearch:OpenSearchDashboard", type_)


def search_part(program: Program, type_: str, role: str):
    """The OpenSearchDashboard child of ``type_`` named ``<component>-<role>``."""
    [found] = [r for r in parts(program, "fraud:opensearch:OpenSearchDashboard", type_) if r.name.endswith(f"-opensearch-{role}")]
    return found


def secret_only(program: Program, secret: str) -> list[tuple[str, str]]:
    """(resource, path) of every input holding ``secret`` outside the resource's secret inputs."""

    def paths(value, path=""):
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in paths(v, f"{path}.{k}" if path else k)]
        if isinstance(value, list):
            return [p for i, v in enumerate(value) for p in paths(v, f"{path}[{i}]")]
        return [path] if isinstance(value, str) and secret in value else []

    return [
        (resource.name, path)
        for resource in program.resources
        for path in paths(resource.inputs)
        if not any(path == s or path.startswith(s + ".") for s in resource.secret_inputs)
    ]


def public_subnet_ids(program: Program) -> list[str]:
    return program.outputs["publicSubnetIds"]


# --- Redshift -----------------------------------------------------------------------------------------------


def test_dev_is_a_single_node_cluster_without_final_snapshot(dev):
    cluster = redshift(dev, CLUSTER).inputs
    assert cluster["clusterType"] == "single-node" and cluster["numberOfNodes"] == 1
    assert cluster["nodeType"] == "ra3.large"
    assert cluster["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in cluster
    assert parts(dev, "fraud:redshift:RedshiftWarehouse", RANDOM_ID) == []


def test_ha_is_multi_node_and_keeps_a_uniquely_named_final_snapshot(ha):
    cluster = redshift(ha, CLUSTER).inputs
    assert cluster["clusterType"] == "multi-node" and cluster["numberOfNodes"] == 2
    assert cluster["nodeType"] == "ra3.xlplus"
    assert cluster["skipFinalSnapshot"] is False
    suffix = redshift(ha, RANDOM_ID).outputs["hex"]
    assert cluster["finalSnapshotIdentifier"] == f"fraud-ha-redshift-final-{suffix}"


def test_cluster_identity_database_and_admin_come_from_settings(dev):
    cluster = redshift(dev, CLUSTER).inputs
    assert cluster["clusterIdentifier"] == "fraud-dev-redshift"
    assert cluster["databaseName"] == "fraud" and cluster["masterUsername"] == "fraud_admin"
    assert cluster["port"] == 5439
    overridden = run_program("dev", overrides={f"{NS}:redshiftDatabase": "history", f"{NS}:redshiftAdminUser": "warehouse_owner"})
    inputs = redshift(overridden, CLUSTER).inputs
    assert (inputs["databaseName"], inputs["masterUsername"]) == ("history", "warehouse_owner")
    statements = parts(overridden, "fraud:redshift:RedshiftWarehouse", STATEMENT)
    assert len(statements) == 3 and {r.inputs["database"] for r in statements} == {"history"}
    assert {r.inputs["dbUser"] for r in statements} == {"warehouse_owner"}


def test_cluster_is_encrypted_with_its_own_rotating_key(dev):
    cluster = redshift(dev, CLUSTER)
    key = redshift(dev, KMS_KEY)
    assert cluster.inputs["encrypted"] == "true"
    assert cluster.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.urn in cluster.property_dependencies["kmsKeyId"]
    assert key.inputs["enableKeyRotation"] is True


def test_cluster_is_public_in_the_public_subnets_with_enhanced_vpc_routing(dev):
    cluster = redshift(dev, CLUSTER)
    subnets = redshift(dev, SUBNET_GROUP)
    assert cluster.inputs["publiclyAccessible"] is True
    assert cluster.inputs["enhancedVpcRouting"] is True
    assert subnets.inputs["subnetIds"] == public_subnet_ids(dev)
    assert set(subnets.inputs["subnetIds"]).isdisjoint(dev.outputs["privateSubnetIds"])
    assert cluster.inputs["clusterSubnetGroupName"] == subnets.inputs["name"]
    assert subnets.urn in cluster.property_dependencies["clusterSubnetGroupName"]


def test_tls_is_required_through_the_parameter_group(dev):
    cluster = redshift(dev, CLUSTER)
    parameters = redshift(dev, PARAMETER_GROUP)
    assert parameters.inputs["parameters"] == [{"name": "require_ssl", "value": "true"}]
    assert parameters.inputs["family"] == "redshift-2.0"
    assert cluster.inputs["clusterParameterGroupName"] == parameters.inputs["name"]
    assert parameters.urn in cluster.property_dependencies["clusterParameterGroupName"]


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_only_confluent_egress_and_the_vpc_reach_5439(stack, request):
    program = request.getfixturevalue(stack)
    cluster = redshift(program, CLUSTER)
    groups = parts(program, "fraud:redshift:RedshiftWarehouse", SECURITY_GROUP)
    own = redshift_part(program, SECURITY_GROUP, "sg")
    # Its own group first, then the connector-ingress groups; every one declared here (the policy can check it).
    assert cluster.inputs["vpcSecurityGroupIds"][0] == f"{own.name}-id"
    assert sorted(cluster.inputs["vpcSecurityGroupIds"]) == sorted(f"{g.name}-id" for g in groups)
    assert {g.urn for g in groups} <= set(cluster.property_dependencies["vpcSecurityGroupIds"])
    vpc_cidr = program.config.get(f"{NS}:vpcCidr", "10.40.0.0/16")
    rules = [rule for group in groups for rule in group.inputs["ingress"]]
    assert {(rule["protocol"], rule["fromPort"], rule["toPort"]) for rule in rules} == {("tcp", 5439, 5439)}
    assert sorted(c for rule in rules for c in rule["cidrBlocks"]) == sorted(CONFLUENT_EGRESS + [vpc_cidr])
    assert own.inputs["ingress"][0]["cidrBlocks"] == [vpc_cidr]
    for group in groups:
        assert group.inputs.get("egress", []) == []
        for entry in group.inputs["ingress"]:
            assert all(ipaddress.ip_network(c).prefixlen > 0 for c in entry.get("cidrBlocks", [])), entry


@pytest.mark.parametrize("role", ["admin-password", "sink-password"])
def test_passwords_are_generated_by_redshift_rules(dev, role):
    generator = redshift_part(dev, PASSWORD, role).inputs
    assert 8 <= generator["length"] <= 64
    assert generator["minUpper"] >= 1 and generator["minLower"] >= 1 and generator["minNumeric"] >= 1
    assert not set(generator["overrideSpecial"]) & set("'\"\\/@ ")


def test_admin_password_stays_secret(dev):
    password = redshift_part(dev, PASSWORD, "admin-password").outputs["result"]
    cluster = redshift(dev, CLUSTER)
    assert cluster.inputs["masterPassword"] == password and "masterPassword" in cluster.secret_inputs
    assert dev.outputs["redshiftAdminPassword"] == password and "redshiftAdminPassword" in dev.secret_outputs
    assert secret_only(dev, password) == []
    assert not any(password in str(value) for name, value in dev.outputs.items() if name not in dev.secret_outputs)


def test_schema_is_created_idempotently_as_the_admin_after_the_cluster(dev):
    cluster = redshift(dev, CLUSTER)
    statement = redshift_part(dev, STATEMENT, "schema")
    assert statement.inputs["sql"] == "CREATE SCHEMA IF NOT EXISTS fraud"
    assert statement.inputs["clusterIdentifier"] == cluster.inputs["clusterIdentifier"]
    assert statement.inputs["dbUser"] == cluster.inputs["masterUsername"]
    assert "secretArn" not in statement.inputs  # temporary credentials: no password in the call
    assert dev.depends_on(statement, cluster)
    assert dev.outputs["redshiftSchema"] == "fraud"


def test_sink_user_is_prepared_by_a_procedure_called_after_the_schema(dev):
    cluster = redshift(dev, CLUSTER)
    schema = redshift_part(dev, STATEMENT, "schema")
    procedure = redshift_part(dev, STATEMENT, "sink-user-procedure")
    call = redshift_part(dev, STATEMENT, "sink-user")
    assert procedure.inputs["sql"] == PREPARE_SINK_USER_SQL
    assert "CREATE OR REPLACE PROCEDURE public.fraud_prepare_sink_user(" in procedure.inputs["sql"]
    password = redshift_part(dev, PASSWORD, "sink-password").outputs["result"]
    assert call.inputs["sql"] == (
        f"CALL public.fraud_prepare_sink_user('fraud_sink', '{md5_password_hash(password, 'fraud_sink')}', 'fraud', 10)"
    )
    for statement in (procedure, call):
        assert statement.inputs["dbUser"] == cluster.inputs["masterUsername"] and "secretArn" not in statement.inputs
        assert dev.depends_on(statement, cluster)
    assert {schema.urn, procedure.urn} <= dev.direct_dependencies(call)
    # A changed procedure must be called again: the call's name, which forces its replacement, follows the text.
    digest = hashlib.sha256(PREPARE_SINK_USER_SQL.encode()).hexdigest()[:12]
    assert call.inputs["statementName"] == f"fraud-dev-redshift-prepare-sink-user-{digest}"
    assert dev.outputs["redshiftSinkUser"] == SINK_USER


def test_sink_password_reaches_redshift_only_as_a_secret_hash(dev):
    password = redshift_part(dev, PASSWORD, "sink-password").outputs["result"]
    call = redshift_part(dev, STATEMENT, "sink-user")
    assert "sql" in call.secret_inputs
    assert password not in call.inputs["sql"]
    # Only the sink connector's sensitive config carries the password itself.
    assert secret_only(dev, password) == []
    holders = [r.name for r in dev.resources if password in json.dumps(r.inputs)]
    assert holders == ["fraud-dev-sinks-redshift"]
    assert not any(password in str(value) for value in dev.outputs.values())


def test_md5_password_hash_follows_the_documented_form():
    # Redshift's CREATE USER documentation: password ez, user user1 -> md5153c434b4b77c89e6b94f12c5393af5b.
    assert md5_password_hash("ez", "user1") == "md5153c434b4b77c89e6b94f12c5393af5b"


def test_prepare_sink_user_sql_refuses_what_it_cannot_quote_safely():
    good_hash = md5_password_hash("pw", "fraud_sink")
    with pytest.raises(ValueError, match="user"):
        prepare_sink_user_sql("fraud_sink'); DROP USER x; --", good_hash, "fraud")
    with pytest.raises(ValueError, match="schema"):
        prepare_sink_user_sql("fraud_sink", good_hash, "Fraud")
    with pytest.raises(ValueError, match="32 lower-case hex"):
        prepare_sink_user_sql("fraud_sink", "plain-password", "fraud")


def test_redshift_outputs(dev):
    assert dev.outputs["redshiftHost"] == f"fraud-dev-redshift.cmockid.{REGION}.redshift.amazonaws.com"
    assert ":" not in dev.outputs["redshiftHost"]
    assert dev.outputs["redshiftPort"] == 5439
    assert dev.outputs["redshiftDatabase"] == "fraud" and dev.outputs["redshiftAdminUser"] == "fraud_admin"


def test_redshift_naming_and_layout_rules():
    assert cluster_identifier("fraud-dev") == "fraud-dev-redshift"
    with pytest.raises(ValueError, match="lower-case"):
        cluster_identifier("fraud-Dev")
    with pytest.raises(ValueError, match="1-63"):
        cluster_identifier("fraud-" + "x" * 60)
    assert node_layout(1) == {"cluster_type": "single-node", "number_of_nodes": 1}
    assert node_layout(4) == {"cluster_type": "multi-node", "number_of_nodes": 4}
    with pytest.raises(ValueError, match="redshiftNodeCount"):
        node_layout(0)
    with pytest.raises(ValueError, match="identifier"):
        schema_sql("fraud; DROP TABLE x")


# --- OpenSearch ---------------------------------------------------------------------------------------------


def test_dev_domain_is_one_node_without_zone_awareness(dev):
    config = search(dev, DOMAIN).inputs["clusterConfig"]
    assert config["instanceType"] == "t3.small.search" and config["instanceCount"] == 1
    assert config["zoneAwarenessEnabled"] is False and "zoneAwarenessConfig" not in config


def test_ha_domain_spreads_three_nodes_over_three_zones(ha):
    domain = search(ha, DOMAIN).inputs
    config = domain["clusterConfig"]
    assert config["instanceType"] == "m6g.large.search" and config["instanceCount"] == 3
    assert config["zoneAwarenessEnabled"] is True
    assert config["zoneAwarenessConfig"] == {"availabilityZoneCount": 3}
    assert domain["ebsOptions"] == {"ebsEnabled": True, "volumeType": "gp3", "volumeSize": 50}


def test_zone_count_spreads_nodes_evenly():
    assert [zone_count(n) for n in (1, 2, 3, 4, 6)] == [1, 2, 3, 2, 3]
    with pytest.raises(ValueError, match="opensearchInstanceCount"):
        zone_count(0)


def test_domain_version_storage_and_name(dev):
    domain = search(dev, DOMAIN).inputs
    assert domain["domainName"] == "fraud-dev-search"
    assert domain["engineVersion"] == "OpenSearch_2.19"
    assert domain["ebsOptions"] == {"ebsEnabled": True, "volumeType": "gp3", "volumeSize": 10}
    assert "vpcOptions" not in domain  # public: Confluent Cloud connects over the internet
    with pytest.raises(ValueError, match="3-28"):
        domain_name("fraud-a-very-long-stack-name")


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_domain_encrypts_at_rest_and_in_transit_with_tls_12(stack, request):
    domain = search(request.getfixturevalue(stack), DOMAIN).inputs
    assert domain["encryptAtRest"]["enabled"] is True
    assert domain["nodeToNodeEncryption"]["enabled"] is True
    assert domain["domainEndpointOptions"] == {"enforceHttps": True, "tlsSecurityPolicy": TLS_POLICY}
    assert TLS_POLICY.startswith("Policy-Min-TLS-1-2")


def test_fine_grained_access_with_a_generated_secret_master_password(dev):
    domain = search(dev, DOMAIN)
    security = domain.inputs["advancedSecurityOptions"]
    assert security["enabled"] is True and security["internalUserDatabaseEnabled"] is True
    assert security["anonymousAuthEnabled"] is False
    password = search_part(dev, PASSWORD, "master-password").outputs["result"]
    generator = search_part(dev, PASSWORD, "master-password").inputs
    assert generator["length"] >= 8 and min(generator["minUpper"], generator["minLower"], generator["minNumeric"], generator["minSpecial"]) >= 1
    assert security["masterUserOptions"] == {"masterUserName": "fraud_admin", "masterUserPassword": password}
    assert "advancedSecurityOptions.masterUserOptions.masterUserPassword" in domain.secret_inputs
    assert "advancedSecurityOptions" in domain.options["additional_secret_outputs"]
    assert dev.outputs["opensearchMasterPassword"] == password and "opensearchMasterPassword" in dev.secret_outputs
    assert secret_only(dev, password) == []
    assert any(c in string.punctuation for c in password)


def policy_of(program: Program) -> dict:
    return json.loads(search(program, DOMAIN).inputs["accessPolicies"])


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_access_policy_never_opens_the_domain_to_everyone(stack, request):
    program = request.getfixturevalue(stack)
    document = policy_of(program)
    resource = f"arn:aws:es:{REGION}:{ACCOUNT_ID}:domain/fraud-{stack}-search/*"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"] == resource
        assert statement["Action"] == "es:ESHttp*"
        principal = statement["Principal"]
        if principal == "*" or "*" in json.dumps(principal):
            sources = statement["Condition"]["IpAddress"]["aws:SourceIp"]
            assert sources and all(ipaddress.ip_network(c).prefixlen > 0 for c in sources)
        else:
            assert principal == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    operators = list(program.config[f"{NS}:eksPublicAccessCidrs"])
    anonymous = next(s for s in document["Statement"] if s["Principal"] == {"AWS": "*"})
    assert anonymous["Condition"]["IpAddress"]["aws:SourceIp"] == sorted(set(CONFLUENT_EGRESS + operators))


def test_opensearch_access_cidrs_replace_the_operator_default():
    program = run_program("dev", overrides={f"{NS}:opensearchAccessCidrs": ["203.0.113.9/32"]})
    anonymous = next(s for s in policy_of(program)["Statement"] if s["Principal"] == {"AWS": "*"})
    assert anonymous["Condition"]["IpAddress"]["aws:SourceIp"] == sorted(CONFLUENT_EGRESS + ["203.0.113.9/32"])


def test_a_world_open_access_cidr_is_refused_before_anything_is_registered():
    with pytest.raises(SettingsError, match="opensearchAccessCidrs") as raised:
        run_program("dev", overrides={f"{NS}:opensearchAccessCidrs": ["0.0.0.0/0"]})
    assert raised.value.registered == []
    with pytest.raises(SettingsError, match="opensearchAccessCidrs"):
        run_program("dev", overrides={f"{NS}:eksPublicAccessCidrs": ["0.0.0.0/0"]})


def test_access_policy_builder_refuses_the_world():
    with pytest.raises(ValueError, match="whole internet"):
        access_policy("arn:aws:es:r:1:domain/d", "1", "aws", ["0.0.0.0/0"])
    with pytest.raises(ValueError, match="at least one"):
        access_policy("arn:aws:es:r:1:domain/d", "1", "aws", [])


def test_dashboard_import_gets_the_saved_objects_templates_and_secret_credentials(dev, ha):
    domain = search(dev, DOMAIN)
    dashboard = dev.named("fraud-dev-opensearch-dashboard")
    assert dashboard.type == DYNAMIC and dashboard.parent == dev.one("fraud:opensearch:OpenSearchDashboard").urn
    inputs = dashboard.inputs
    endpoint = f"search-fraud-dev-search-mockid.{REGION}.es.amazonaws.com"
    assert inputs["opensearch_url"] == f"https://{endpoint}"
    assert inputs["dashboards_url"] == f"https://{endpoint}/_dashboards"
    assert inputs["username"] == "fraud_admin" and "password" in dashboard.secret_inputs
    assert inputs["password"] == search_part(dev, PASSWORD, "master-password").outputs["result"]
    assert inputs["saved_objects"] == opensearch_component.SAVED_OBJECTS_FILE.read_text()
    assert set(inputs["index_templates"]) == {"fraud-flagged_user", "fraud-flagged_transaction"}
    assert dev.depends_on(dashboard, domain)
    replicas = {
        name: {t["template"]["settings"]["number_of_replicas"] for t in program.named(f"fraud-{name}-opensearch-dashboard").inputs["index_templates"].values()}
        for name, program in (("dev", dev), ("ha", ha))
    }
    assert replicas == {"dev": {0}, "ha": {1}}  # a single node cannot hold replicas


def test_sink_user_is_put_by_the_master_user_with_its_own_secret_password(dev):
    domain = search(dev, DOMAIN)
    user = search_part(dev, DYNAMIC, "sink-user")
    master = search_part(dev, PASSWORD, "master-password").outputs["result"]
    password = search_part(dev, PASSWORD, "sink-password").outputs["result"]
    generator = search_part(dev, PASSWORD, "sink-password").inputs
    assert generator["length"] >= 8 and min(generator["minUpper"], generator["minLower"], generator["minNumeric"], generator["minSpecial"]) >= 1
    inputs = user.inputs
    assert inputs["opensearch_url"] == f"https://search-fraud-dev-search-mockid.{REGION}.es.amazonaws.com"
    assert (inputs["admin_username"], inputs["admin_password"]) == ("fraud_admin", master)
    assert (inputs["username"], inputs["password"]) == ("fraud_sink", password)
    assert {"admin_password", "password"} <= set(user.secret_inputs)
    assert {"admin_password", "password"} <= set(user.options["additional_secret_outputs"])
    assert inputs["indexes"] == ["flagged_transaction", "flagged_user"]
    assert dev.depends_on(user, domain)
    assert password != master and secret_only(dev, password) == []
    assert dev.outputs["opensearchSinkUser"] == "fraud_sink"
    assert not any(password in str(value) for value in dev.outputs.values())


def test_opensearch_outputs(dev):
    endpoint = f"search-fraud-dev-search-mockid.{REGION}.es.amazonaws.com"
    assert dev.outputs["opensearchEndpoint"] == endpoint
    assert dev.outputs["opensearchDashboardsUrl"] == f"https://{endpoint}/_dashboards"
    assert dev.outputs["opensearchDashboardUrl"] == f"https://{endpoint}/_dashboards/app/dashboards#/view/fraud-detection-dashboard"
    assert dev.outputs["opensearchMasterUser"] == "fraud_admin"


def test_saved_objects_without_the_dashboard_or_malformed_are_refused(tmp_path):
    objects = tmp_path / "objects.ndjson"
    objects.write_text('{"type":"index-pattern","id":"p","attributes":{"title":"flagged_user"},"references":[]}\n')
    with pytest.raises(ValueError, match="fraud-detection-dashboard"):
        load_saved_objects(objects, "fraud-detection-dashboard")
    objects.write_text('{"type":"dashboard","id":"fraud-detection-dashboard"}\n{not json\n')
    with pytest.raises(ValueError, match="line 2"):
        load_saved_objects(objects, "fraud-detection-dashboard")
    assert "fraud-detection-dashboard" in load_saved_objects(opensearch_component.SAVED_OBJECTS_FILE, "fraud-detection-dashboard")
