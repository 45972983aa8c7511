"""Stack configuration: every bad value is reported with its key and expected form, before any resource."""
import pytest
import yaml

import settings
from components.redshift import SINK_USER
from mockcloud.program import ROOT, run_program

NS = "fraud-detection"


def _failure(**kwargs) -> settings.SettingsError:
    with pytest.raises(settings.SettingsError) as caught:
        run_program("dev", **kwargs)
    registered = [r.type for r in caught.value.registered]
    assert registered == [], f"resources were registered before the config was rejected: {registered}"
    return caught.value


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (f"{NS}:vpcCidr", "10.40.0.0/33", "CIDR form"),
        (f"{NS}:vpcCidr", "10.40.1.0/16", "CIDR form"),  # host bits set
        (f"{NS}:vpcCidr", "not-a-network", "CIDR form"),
        (f"{NS}:vpcCidr", "10.0.0.0/8", "/16 to /20"),
        ("aws:region", "Frankfurt", "AWS region"),
        ("aws:region", "eu-central", "AWS region"),
        (f"{NS}:azCount", 7, "from 2 to 4"),
        (f"{NS}:azCount", "three", "from 2 to 4"),
        (f"{NS}:appReplicas", 0, "from 1 to 10"),
        (f"{NS}:oracleVolumeGb", 10, "from 40 to 500"),
        (f"{NS}:kafkaClusterType", "huge", "basic, standard or enterprise"),
        (f"{NS}:streamGovernance", "PREMIUM", "ESSENTIALS or ADVANCED"),
        (f"{NS}:flinkMaxCfu", 7, "5, 10, 20"),
        (f"{NS}:natPerAz", "sometimes", "true or false"),
        (f"{NS}:eksPublicAccessCidrs", ["198.51.100.7"], "IPv4 CIDRs"),
        (f"{NS}:eksPublicAccessCidrs", [], "non-empty list"),
        (f"{NS}:appIngressCidrs", "0.0.0.0/0", "list of IPv4 CIDRs"),
        (f"{NS}:oracleSshCidrs", ["0.0.0.0/0"], "other than 0.0.0.0/0"),
        (f"{NS}:appImage", "registry.example.com/fraud-app:latest", "not :latest"),
        (f"{NS}:oracleImage", "container-registry.oracle.com/database/express", "explicit tag"),
        (f"{NS}:redshiftAdminUser", "admin", "not admin"),
        (f"{NS}:redshiftAdminUser", "fraud_sink", "the sink connector's user"),
        (f"{NS}:opensearchInstanceType", "t3.small", "OpenSearch instance type"),
        (f"{NS}:topicPrefix", "9bad", "a letter then"),
        (f"{NS}:oracleAppSchema", "sample", "upper-case Oracle identifier"),
    ],
)
def test_bad_value_names_key_and_form(key, value, expected):
    error = _failure(overrides={key: value})
    message = str(error)
    assert key in message and expected in message, message


@pytest.mark.parametrize("key", [f"{NS}:owner", f"{NS}:eksPublicAccessCidrs", "aws:region"])
def test_missing_required_key(key):
    error = _failure(remove=[key])
    assert key in str(error)


def test_missing_confluent_credentials_are_named(monkeypatch):
    monkeypatch.delenv("CONFLUENT_CLOUD_API_KEY", raising=False)
    monkeypatch.delenv("CONFLUENT_CLOUD_API_SECRET", raising=False)
    error = _failure(credentials=False)
    assert "confluentcloud:cloudApiKey" in str(error)
    assert "confluentcloud:cloudApiSecret" in str(error)


def test_confluent_credentials_from_environment(monkeypatch):
    monkeypatch.setenv("CONFLUENT_CLOUD_API_KEY", "ENVKEY")
    monkeypatch.setenv("CONFLUENT_CLOUD_API_SECRET", "env-secret")
    program = run_program("dev", credentials=False)
    assert program.resources


def test_every_problem_is_reported_at_once():
    error = _failure(
        overrides={f"{NS}:vpcCidr": "300.1.1.0/16", f"{NS}:azCount": 9, f"{NS}:kafkaClusterType": "huge"},
        remove=[f"{NS}:owner"],
    )
    assert len(error.problems) == 4
    for key in ("vpcCidr", "azCount", "kafkaClusterType", "owner"):
        assert any(key in problem for problem in error.problems)


def test_cross_key_rules():
    error = _failure(overrides={f"{NS}:kafkaClusterType": "basic", f"{NS}:kafkaAvailability": "MULTI_ZONE"})
    assert "kafkaAvailability" in str(error) and "basic" in str(error)
    error = _failure(overrides={f"{NS}:oracleSshKeyName": "ops-key"})
    assert "oracleSshCidrs" in str(error)


def test_pulumi_yaml_declares_exactly_the_keys_the_program_reads():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == {key.name for key in settings.KEYS}
    types = {str: "string", int: "integer", bool: "boolean", list: "array"}
    for key in settings.KEYS:
        entry = declared[key.name]
        assert entry["type"] == types[key.kind], key.name
        assert entry["description"].strip(), key.name
        if key.required:
            assert "default" not in entry, key.name
        else:
            assert entry["default"] == key.default, key.name


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_stack_files_set_only_declared_keys_with_valid_values(stack):
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    known = {f"{NS}:{key.name}" for key in settings.KEYS} | {"aws:region"}
    assert set(config) <= known, set(config) - known
    run_program(stack)  # validates every value


def test_the_sink_connectors_redshift_user_is_reserved():
    assert SINK_USER in settings.RESERVED_REDSHIFT_USERS
