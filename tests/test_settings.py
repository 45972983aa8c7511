"""Stack configuration: every bad value is reported with its key and expected form, before any resource."""
import pytest
import yaml

import settings
from components.redshift import SINK_USER
from mockcloud import StackConfigError
from mockcloud.program import ROOT, run_program

NS = "fraud-detection"


def _failure(error: type[Exception] = settings.SettingsError, before: tuple[str, ...] = (), **kwargs) -> Exception:
    """The error a bad config stops the program with; nothing but ``before`` may have been registered by then."""
    with pytest.raises(error) as caught:
        run_program("dev", **kwargs)
    registered = [r.type for r in getattr(caught.value, "registered", [])]
    assert registered == list(before), f"resources were registered before the config was rejected: {registered}"
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
        (f"{NS}:appReplicas", 0, "from 1 to 10"),
        (f"{NS}:oracleVolumeGb", 10, "from 40 to 500"),
        (f"{NS}:kafkaClusterType", "huge", "basic, standard or enterprise"),
        (f"{NS}:streamGovernance", "PREMIUM", "ESSENTIALS or ADVANCED"),
        (f"{NS}:flinkMaxCfu", 7, "5, 10, 20"),
        (f"{NS}:eksPublicAccessCidrs", ["198.51.100.7"], "IPv4 CIDRs"),
        (f"{NS}:eksPublicAccessCidrs", [], "non-empty list"),
        (f"{NS}:oracleSshCidrs", ["0.0.0.0/0"], "other than 0.0.0.0/0"),
        (f"{NS}:oracleSshCidrs", [f"203.0.113.{i}/32" for i in range(60)], "at most 59"),
        (f"{NS}:appImage", "registry.example.com/fraud-app:latest", "not :latest"),
        (f"{NS}:oracleImage", "container-registry.oracle.com/database/express", "explicit tag"),
        (f"{NS}:oracleImage", "container-registry.oracle.com/database/express:latest", "other than latest"),
        (f"{NS}:oracleImage", "registry.example.com:5000/express", "explicit tag"),
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


@pytest.mark.parametrize(
    ("key", "value", "cli_type"),
    [
        (f"{NS}:azCount", "three", "integer"),
        (f"{NS}:azCount", 2.5, "integer"),
        (f"{NS}:natPerAz", "sometimes", "boolean"),
        (f"{NS}:appIngressCidrs", "0.0.0.0/0", "array<string>"),
        (f"{NS}:eksPublicAccessCidrs", [7], "array<string>"),
        (f"{NS}:owner", ["a", "team"], "string"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_as_the_pulumi_cli_does(key, value, cli_type):
    error = _failure(StackConfigError, overrides={key: value})
    name = key.split(":", 1)[1]
    assert f"Stack 'dev' with configuration key '{name}' must be of type '{cli_type}'" in str(error), str(error)


@pytest.mark.parametrize(("key", "value"), [(f"{NS}:azCount", "3"), (f"{NS}:natPerAz", "true"), (f"{NS}:owner", 42)])
def test_scalars_the_cli_accepts_as_strings_pass_its_check(key, value):
    """The CLI holds scalars as strings: "3" is an integer to it, and any scalar a string."""
    run_program("dev", overrides={key: value})


@pytest.mark.parametrize("key", [f"{NS}:owner", f"{NS}:eksPublicAccessCidrs"])
def test_missing_required_key(key):
    name = key.split(":", 1)[1]
    assert f"Stack 'dev' is missing configuration value '{name}'" in str(_failure(StackConfigError, remove=[key]))
    # The program's own check says the same where the CLI's is skipped (pulumi up --skip-config-validation).
    assert key in str(_failure(remove=[key], skip_config_validation=True))


def test_missing_region_is_named():
    assert "aws:region" in str(_failure(remove=["aws:region"]))


@pytest.mark.parametrize(
    ("key", "guess"),
    [(f"{NS}:azcount", f"{NS}:azCount"), (f"{NS}:oracleInstanceTyp", f"{NS}:oracleInstanceType"), (f"{NS}:colour", None)],
)
def test_an_undeclared_key_of_the_project_is_refused(key, guess):
    """The CLI lets an undeclared key through (pulumi/pulumi#11192); the program does not, typos included."""
    message = str(_failure(overrides={key: 2}))
    assert f"{key}: not a key of this project" in message, message
    assert (f"did you mean {guess}?" in message) if guess else ("did you mean" not in message)


def test_keys_of_other_namespaces_are_left_to_their_owners():
    run_program("dev", overrides={"aws:profile": "demo", "kubernetes:enableServerSideApply": "true"})


@pytest.mark.parametrize(("instance_type", "memory"), [("t3.nano", 512), ("t3.micro", 1024)])
def test_an_instance_type_too_small_for_oracle_xe_is_refused_at_preview(instance_type, memory):
    # Checked through the AWS provider of the stack's region, before any other resource is registered.
    error = _failure(overrides={f"{NS}:oracleInstanceType": instance_type}, before=("pulumi:providers:aws",))
    message = str(error)
    for part in (f"{NS}:oracleInstanceType", instance_type, f"{memory} MiB", f"at least {settings.ORACLE_XE_MIN_MEMORY_MIB} MiB"):
        assert part in message, message


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_the_oracle_hosts_memory_is_read_from_ec2_in_the_stacks_region(stack, request):
    program = request.getfixturevalue(stack)
    [lookup] = program.invokes_of("aws:ec2/getInstanceType:getInstanceType")
    assert lookup.args == {"instanceType": program.one("aws:ec2/instance:Instance").inputs["instanceType"]}
    assert lookup.provider.startswith(program.one("pulumi:providers:aws").urn)
    run_program(stack, overrides={f"{NS}:oracleInstanceType": "t3.small"})  # exactly the minimum: 2048 MiB


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
        skip_config_validation=True,
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
def test_stack_files_set_only_declared_keys_with_valid_values(stack, request):
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    known = {f"{NS}:{key.name}" for key in settings.KEYS} | {"aws:region"}
    assert set(config) <= known, set(config) - known
    assert request.getfixturevalue(stack).resources  # run_program(stack) of the session: it validates every value


def test_the_sink_connectors_redshift_user_is_reserved():
    assert SINK_USER in settings.RESERVED_REDSHIFT_USERS
