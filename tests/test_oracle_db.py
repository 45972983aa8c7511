"""OracleDb on the mock-run program: host hardening, firewall, secrets, IAM, boot script, readiness gate wiring."""
from __future__ import annotations

import json
import re
import subprocess
from collections import Counter

import pytest

from components import oracle_db
from components.oracle_db import (
    AMI_PARAMETER,
    SQL_SCRIPTS,
    ScriptTemplate,
    oracle_safe_password,
    render_user_data,
)
from mockcloud.program import Program, run_program
from tests.oracle_boot import boot_config
from mockcloud.answers import CONFLUENT_EGRESS, REGION

INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
PARAMETER = "aws:ssm/parameter:Parameter"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PASSWORD = "random:index/randomPassword:RandomPassword"
GATE = "pulumi-python:dynamic:Resource"
PLACEHOLDER = re.compile(r"\$\{[a-z][a-z0-9_]*\}")
PASSWORD_PARAMETERS = {
    f"/fraud-dev/oracle/{role}-password" for role in ("sys", "app", "cdc-admin", "cdc-connect")
}
APP_SCHEMA_PARAMETER = "/fraud-dev/oracle/app-schema-sql"


def component(program: Program):
    return program.one("fraud:oracle:OracleDb")


def oracle_resources(program: Program, type_: str | None = None):
    found = program.descendants(component(program))
    return [r for r in found if type_ is None or r.type == type_]


def only(program: Program, type_: str):
    found = oracle_resources(program, type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def ingress_rules(program: Program) -> list[dict]:
    return [rule for sg in oracle_resources(program, SECURITY_GROUP) for rule in sg.inputs.get("ingress", [])]


def generated_passwords(program: Program) -> set[str]:
    raw = {r.outputs["result"] for r in oracle_resources(program, PASSWORD)}
    return raw | {oracle_safe_password(value) for value in raw}


@pytest.fixture(scope="module")
def with_ssh() -> Program:
    return run_program(
        "dev",
        {
            "fraud-detection:oracleSshKeyName": "ops-key",
            "fraud-detection:oracleSshCidrs": ["203.0.113.8/32", "198.51.100.0/29"],
            "fraud-detection:oracleVolumeGb": 80,
            "fraud-detection:oracleReadyTimeoutMinutes": 7,
        },
    )


# --- the host ---


def test_ami_is_the_current_al2023_from_the_public_ssm_parameter(dev):
    lookups = dev.invokes_of("aws:ssm/getParameter:getParameter")
    assert [invoke.args["name"] for invoke in lookups] == [AMI_PARAMETER]
    aws_provider = dev.one("pulumi:providers:aws")
    assert lookups[0].provider.startswith(aws_provider.urn)
    instance = only(dev, INSTANCE)
    assert instance.inputs["ami"] == "ami-0123456789abcdef0"
    # a newer AMI must not replace the running database
    assert instance.options["ignore_changes"] == ["ami"]


def test_host_is_in_a_public_subnet_with_a_public_ip(dev):
    instance = only(dev, INSTANCE)
    assert instance.inputs["subnetId"] == "fraud-dev-public-0-id"
    assert instance.inputs["associatePublicIpAddress"] is True


def test_imdsv2_required_with_a_hop_for_docker(dev, ha):
    for program in (dev, ha):
        metadata = only(program, INSTANCE).inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 2


def test_root_volume_is_encrypted_gp3_of_the_configured_size(dev, with_ssh):
    for program, size in ((dev, 60), (with_ssh, 80)):
        volume = only(program, INSTANCE).inputs["rootBlockDevice"]
        assert volume["encrypted"] is True
        assert volume["volumeType"] == "gp3"
        assert volume["volumeSize"] == size


def test_instance_type_follows_the_stack(dev, ha):
    assert only(dev, INSTANCE).inputs["instanceType"] == "t3.large"
    assert only(ha, INSTANCE).inputs["instanceType"] == "t3.xlarge"


def test_user_data_change_replaces_the_host(dev):
    assert only(dev, INSTANCE).inputs["userDataReplaceOnChange"] is True


# --- firewall and SSH ---


def test_no_key_pair_and_no_ssh_by_default(dev, ha):
    for program in (dev, ha):
        assert "keyName" not in only(program, INSTANCE).inputs
        assert not [rule for rule in ingress_rules(program) if rule["fromPort"] <= 22 <= rule["toPort"]]
        assert {(rule["fromPort"], rule["toPort"]) for rule in ingress_rules(program)} == {(1521, 1521)}


def test_ssh_only_with_a_key_and_only_from_the_configured_cidrs(with_ssh):
    assert only(with_ssh, INSTANCE).inputs["keyName"] == "ops-key"
    ssh = [rule for rule in ingress_rules(with_ssh) if rule["fromPort"] == 22]
    assert len(ssh) == 1
    assert ssh[0]["toPort"] == 22 and ssh[0]["protocol"] == "tcp"
    assert sorted(ssh[0]["cidrBlocks"]) == ["198.51.100.0/29", "203.0.113.8/32"]


def test_listener_only_from_confluent_egress_and_the_vpc(dev):
    listener = [rule for rule in ingress_rules(dev) if rule["fromPort"] == 1521]
    assert all(rule["toPort"] == 1521 and rule["protocol"] == "tcp" for rule in listener)
    sources = [cidr for rule in listener for cidr in rule["cidrBlocks"]]
    assert sorted(sources) == sorted([*CONFLUENT_EGRESS, "10.40.0.0/16"])
    egress_lookup = dev.invokes_of("confluentcloud:index/getIpAddresses:getIpAddresses")
    assert [invoke.args["filter"] for invoke in egress_lookup] == [
        {"clouds": ["AWS"], "regions": [REGION], "services": ["CONNECT"], "addressTypes": ["EGRESS"]}
    ]


def test_nothing_in_oracle_is_open_to_the_internet_inbound(dev, with_ssh):
    for program in (dev, with_ssh):
        for rule in ingress_rules(program):
            assert "0.0.0.0/0" not in rule.get("cidrBlocks", [])
            assert "::/0" not in rule.get("ipv6CidrBlocks", [])
        standalone = oracle_resources(program, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        assert all(r.inputs.get("cidrIpv4") != "0.0.0.0/0" and r.inputs.get("cidrIpv6") != "::/0" for r in standalone)
        # The host carries exactly the groups declared here: its own and the connector-ingress ones.
        groups = oracle_resources(program, SECURITY_GROUP)
        own = program.named("fraud-dev-oracle-sg")
        assert only(program, INSTANCE).inputs["vpcSecurityGroupIds"][0] == f"{own.name}-id"
        assert sorted(only(program, INSTANCE).inputs["vpcSecurityGroupIds"]) == sorted(f"{g.name}-id" for g in groups)


# --- secrets ---


def test_passwords_are_securestring_parameters_under_the_stack_path(dev):
    parameters = {r.inputs["name"]: r for r in oracle_resources(dev, PARAMETER)}
    assert set(parameters) == PASSWORD_PARAMETERS | {"/fraud-dev/oracle/status", APP_SCHEMA_PARAMETER}
    for name in PASSWORD_PARAMETERS:
        assert parameters[name].inputs["type"] == "SecureString"
        assert "value" in parameters[name].secret_inputs
        assert parameters[name].inputs["value"] in generated_passwords(dev)


def test_status_parameter_starts_pending_and_is_left_to_the_host(dev):
    status = next(r for r in oracle_resources(dev, PARAMETER) if r.inputs["name"].endswith("/status"))
    assert status.inputs["type"] == "String"
    assert status.inputs["value"] == "pending"
    assert status.options["ignore_changes"] == ["value"]


def test_passwords_are_generated_strong_and_oracle_safe(dev):
    generators = oracle_resources(dev, PASSWORD)
    assert len(generators) == 4
    for generator in generators:
        assert generator.inputs["length"] >= 20
        assert generator.inputs["overrideSpecial"] == "_"
    for value in dev.outputs["oracleAppPassword"], dev.outputs["oracleConnectPassword"]:
        assert value[0].isalpha()
        assert re.fullmatch(r"[A-Za-z0-9_]+", value)
    assert dev.outputs["oracleAppPassword"] != dev.outputs["oracleConnectPassword"]


def test_oracle_safe_password_rotates_to_a_letter_without_losing_characters():
    assert oracle_safe_password("12_abC9") == "abC912_"
    assert oracle_safe_password("Xy1") == "Xy1"
    assert Counter(oracle_safe_password("9_8aZ")) == Counter("9_8aZ")


def test_user_data_holds_no_password(dev):
    user_data = only(dev, INSTANCE).inputs["userData"]
    passwords = generated_passwords(dev)
    assert len(passwords) >= 4
    for password in passwords:
        assert password not in user_data
    # no secret flowed into it either (a secret input would taint the user data)
    assert "userData" not in only(dev, INSTANCE).secret_inputs
    for name in PASSWORD_PARAMETERS:
        assert f"secret '{name}'" in user_data


def test_exports_are_connection_facts_and_secret_passwords(dev):
    assert {"oracleAppPassword", "oracleConnectPassword"} <= dev.secret_outputs
    public = {name for name in dev.outputs if name.startswith("oracle")} - dev.secret_outputs
    assert "oracleHost" in public and "oraclePrivateIp" in public
    assert dev.outputs["oracleHost"] == "ec2-198-51-100-20.eu-central-1.compute.amazonaws.com"
    assert dev.outputs["oraclePrivateIp"] == "10.40.128.10"
    assert dev.outputs["oraclePort"] == 1521
    assert dev.outputs["oracleServiceName"] == "XE"
    assert dev.outputs["oraclePdbName"] == "XEPDB1"
    assert dev.outputs["oracleOutboundServer"] == "XOUT"
    assert dev.outputs["oracleAppUser"] == "SAMPLE"
    assert dev.outputs["oracleConnectUser"] == "C##CDC_CONNECT"
    assert dev.outputs["oracleAppPassword"] in generated_passwords(dev)


# --- IAM ---


def policies(program: Program) -> list[dict]:
    return [json.loads(r.inputs["policy"]) for r in oracle_resources(program, ROLE_POLICY)]


def statements_with(program: Program, action: str) -> list[dict]:
    found = []
    for policy in policies(program):
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in actions):
                found.append(statement)
    return found


def test_instance_reads_exactly_its_password_and_app_schema_parameters(dev):
    readers = statements_with(dev, "ssm:GetParameter")
    assert all(reader["Effect"] == "Allow" for reader in readers)
    resources = [arn for reader in readers for arn in ([reader["Resource"]] if isinstance(reader["Resource"], str) else reader["Resource"])]
    assert sorted(resources) == sorted(
        f"arn:aws:ssm:{REGION}:123456789012:parameter{name}" for name in PASSWORD_PARAMETERS | {APP_SCHEMA_PARAMETER}
    )
    assert statements_with(dev, "ssm:GetParameters") == []


def test_instance_writes_only_the_status_parameter(dev):
    writers = statements_with(dev, "ssm:PutParameter")
    assert len(writers) == 1
    assert writers[0]["Resource"] == f"arn:aws:ssm:{REGION}:123456789012:parameter/fraud-dev/oracle/status"


def test_wildcard_resources_only_for_session_manager_actions(dev):
    session_manager = {
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }
    for policy in policies(dev):
        for statement in policy["Statement"]:
            if statement["Resource"] == "*" or "*" in statement["Resource"]:
                assert set(statement["Action"]) <= session_manager
    # the broad managed policy (which grants ssm:GetParameter on every parameter) is not attached
    assert oracle_resources(dev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    profile = only(dev, "aws:iam/instanceProfile:InstanceProfile")
    assert only(dev, INSTANCE).inputs["iamInstanceProfile"] == f"{profile.name}-id"


# --- readiness gate ---


def test_gate_waits_for_the_instance_and_its_status_parameter(dev, with_ssh):
    gate = only(dev, GATE)
    instance = only(dev, INSTANCE)
    assert dev.depends_on(gate, instance)
    assert gate.inputs["instance_id"] == f"{instance.name}-id"
    assert instance.urn in gate.property_dependencies["instance_id"]
    assert gate.inputs["parameter_name"] == "/fraud-dev/oracle/status"
    assert gate.inputs["region"] == REGION
    assert gate.inputs["timeout_seconds"] == 40 * 60
    assert only(with_ssh, GATE).inputs["timeout_seconds"] == 7 * 60


def test_instance_waits_for_its_parameters_and_permissions(dev):
    instance = only(dev, INSTANCE)
    for parameter in oracle_resources(dev, PARAMETER):
        assert dev.depends_on(instance, parameter)
    for policy in oracle_resources(dev, ROLE_POLICY):
        assert dev.depends_on(instance, policy)


def test_everything_is_a_child_of_the_component_on_the_aws_provider(dev):
    oracle = component(dev)
    aws_provider = dev.one("pulumi:providers:aws")
    ingress = dev.one("fraud:egress:ConnectorIngress", "fraud-dev-oracle-connector-ingress")
    for resource in oracle_resources(dev):
        assert resource.parent in (oracle.urn, ingress.urn)
        assert resource.name.startswith("fraud-dev-oracle-")
        if resource.type.startswith("aws:"):
            assert resource.provider.startswith(aws_provider.urn)


# --- the boot script as rendered ---


def test_rendered_user_data_is_valid_bash_without_leftover_placeholders(dev, tmp_path):
    for user_data in (only(dev, INSTANCE).inputs["userData"], render_user_data(boot_config())):
        script = tmp_path / "user_data.sh"
        script.write_text(user_data)
        checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        assert PLACEHOLDER.findall(user_data) == []
        assert user_data.startswith("#!/bin/bash\n")
        assert "set -Eeuo pipefail" in user_data
        assert len(user_data.encode()) <= 16 * 1024


def test_user_data_carries_the_stack_values(dev):
    user_data = only(dev, INSTANCE).inputs["userData"]
    assert f"REGION='{REGION}'" in user_data
    assert "IMAGE='container-registry.oracle.com/database/express:21.3.0-xe'" in user_data
    assert "STATUS_PARAMETER='/fraud-dev/oracle/status'" in user_data
    assert "db_recovery_file_dest_size = 20G" in user_data  # a third of the 60 GiB volume
    assert "--restart unless-stopped" in user_data and "--volume oracle-data:/opt/oracle/oradata" in user_data
    assert "OnCalendar=hourly" in user_data and "DELETE NOPROMPT ARCHIVELOG" in user_data


def test_every_sql_script_stops_on_error(dev):
    user_data = only(dev, INSTANCE).inputs["userData"]
    embedded = re.findall(r"<<'EOF_SQL'\n(.*?)\nEOF_SQL\n", user_data, flags=re.S)
    assert len(embedded) == len(SQL_SCRIPTS)
    sources = [(oracle_db.SCRIPTS / f"{stem}.sql").read_text() for stem in (*SQL_SCRIPTS, "app_schema")]
    for sql in [*embedded, *sources]:
        lines = sql.splitlines()
        assert lines[0] == "WHENEVER SQLERROR EXIT SQL.SQLCODE"
        assert lines[1] == "WHENEVER OSERROR EXIT FAILURE"
        assert "SET VERIFY OFF" in sql  # substituted passwords are never echoed
        assert lines[-1] == "EXIT"
    assert sorted(p.stem for p in oracle_db.SCRIPTS.glob("*.sql")) == sorted((*SQL_SCRIPTS, "app_schema"))


def test_sql_covers_the_xstream_preparation(dev):
    user_data = only(dev, INSTANCE).inputs["userData"]
    for expected in (
        "enable_goldengate_replication = TRUE",
        "ALTER DATABASE ARCHIVELOG",
        "ALTER PLUGGABLE DATABASE XEPDB1 SAVE STATE",
        "ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS",
        "ensure_user('C##CDC_ADMIN'",
        "privilege_type          => 'CAPTURE'",
        "FLASHBACK ANY TABLE TO C##CDC_CONNECT CONTAINER = ALL",
        "ALTER SESSION SET CONTAINER = XEPDB1",
        "CREATE TRIGGER, CREATE PROCEDURE TO SAMPLE",
        "v_schemas(1) := 'SAMPLE'",
        "source_container_name => 'XEPDB1'",
        "connect_user => 'C##CDC_CONNECT'",
        "WHERE server_name = 'XOUT'",
    ):
        assert expected in user_data, expected


def test_app_schema_reaches_the_sql():
    user_data = render_user_data(boot_config(app_schema="FRAUDAPP"))
    assert "USER FRAUDAPP IDENTIFIED BY" in user_data
    assert "v_schemas(1) := 'FRAUDAPP'" in user_data
    assert "SAMPLE" not in user_data


def test_values_that_could_change_the_scripts_are_refused():
    for bad in ("SAMPLE'; DROP USER X", "eu central 1", "a$(reboot)"):
        with pytest.raises(ValueError, match="expected letters"):
            render_user_data(boot_config(region=bad))


def test_script_template_fills_only_lower_case_braced_placeholders():
    template = ScriptTemplate('A=${a_b} B=$HOME C=${HOME} D=v$database E=$(date) F=$$')
    assert template.substitute(a_b="x") == "A=x B=$HOME C=${HOME} D=v$database E=$(date) F=$$"
    with pytest.raises(KeyError, match="missing"):
        ScriptTemplate("${missing}").substitute({})


def test_recovery_area_scales_with_the_volume():
    assert oracle_db.recovery_area_gb(60) == 20
    assert oracle_db.recovery_area_gb(40) == 13
    assert oracle_db.recovery_area_gb(30) == 10
