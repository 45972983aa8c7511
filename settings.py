"""All stack configuration, read and validated in one place before any resource is registered.

Every key the program reads is declared once in ``KEYS`` below (name, type, default, check) and in
``Pulumi.yaml`` (a test keeps the two in agreement). ``load()`` reads them all, collects every problem
and raises one ``SettingsError`` listing each key with the form it expects, so a bad stack config
never gets as far as a half-created stack.
"""
from __future__ import annotations

import difflib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
import pulumi_aws as aws
from pulumi.runtime import config as runtime_config

PROJECT = "fraud-detection"

AWS_REGION_FORM = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$")
INSTANCE_TYPE_FORM = re.compile(r"^[a-z][a-z0-9-]*\.[0-9]*[a-z0-9]+$")
NAME_FORM = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TOPIC_PREFIX_FORM = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,31}$")
ORACLE_SCHEMA_FORM = re.compile(r"^[A-Z][A-Z0-9_]{0,29}$")
TAG_VALUE_FORM = re.compile(r"^[\w .:/=+\-@]{1,256}$")
IMAGE_FORM = re.compile(r"^[\w.\-/:]+(@sha256:[0-9a-f]{64}|:[\w.\-]{1,128})$")
MOVING_TAGS = ("latest",)  # a tag that names whatever was pushed last pins nothing
# Oracle's installation guide for XE on Linux, "System Requirements": RAM "1 gigabyte minimum, 2 gigabytes
# recommended" (https://docs.oracle.com/en/database/oracle/oracle-database/18/xeinl/system-requirements.html,
# the 18c edition, read 2026-12-01; the 21c edition's page could not be read). The host also runs the OS and
# Docker next to XE, so the stack asks for the recommended figure (judgement: the minimum leaves them nothing).
ORACLE_XE_MIN_MEMORY_MIB = 2048
# Redshift refuses the first three as the admin; the stack creates the last for the sink connector.
RESERVED_REDSHIFT_USERS = ("admin", "awsuser", "root", "fraud_sink")


class SettingsError(ValueError):
    """Raised with every configuration problem of a stack at once."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid stack configuration:\n" + "\n".join(f"  - {problem}" for problem in problems)
        )


@dataclass(frozen=True)
class Key:
    """One configuration key of the project namespace: its type, default and the check it must pass."""

    name: str
    kind: type
    default: Any = None
    check: Callable[[Any], bool] | None = None
    expected: str = ""
    required: bool = False


def _cidr(value: str, min_prefix: int = 0, max_prefix: int = 32) -> bool:
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return network.version == 4 and min_prefix <= network.prefixlen <= max_prefix


def _cidr_list(values: list, allow_empty: bool = False) -> bool:
    return (allow_empty or len(values) > 0) and all(isinstance(v, str) and _cidr(v) for v in values)


def _between(low: int, high: int) -> Callable[[int], bool]:
    return lambda value: low <= value <= high


def _one_of(*choices: Any) -> Callable[[Any], bool]:
    return lambda value: value in choices


def _matches(form: re.Pattern) -> Callable[[str], bool]:
    return lambda value: bool(form.match(value))


def _pinned_image(value: str) -> bool:
    """An image reference with a digest, or with a tag other than a moving one such as ``latest``."""
    if not IMAGE_FORM.match(value):
        return False
    if "@sha256:" in value:
        return True
    return value.rsplit(":", 1)[1] not in MOVING_TAGS


KEYS: tuple[Key, ...] = (
    Key("owner", str, None, _matches(TAG_VALUE_FORM), "a team or person for the owner tag, 1-256 tag-safe characters", required=True),
    # Network
    Key("vpcCidr", str, "10.40.0.0/16", lambda v: _cidr(v, 16, 20), "an IPv4 network in CIDR form with a prefix from /16 to /20, e.g. 10.40.0.0/16"),
    Key("azCount", int, 3, _between(2, 4), "an integer from 2 to 4"),
    Key("natPerAz", bool, False, None, "true or false"),
    # Oracle
    Key("oracleInstanceType", str, "t3.large", _matches(INSTANCE_TYPE_FORM), f"an EC2 instance type such as t3.large, with at least {ORACLE_XE_MIN_MEMORY_MIB} MiB of memory (checked against EC2 at preview)"),
    Key("oracleVolumeGb", int, 60, _between(40, 500), "an integer from 40 to 500 (GiB)"),
    Key("oracleImage", str, "container-registry.oracle.com/database/express:21.3.0-xe", _pinned_image, "a container image with an explicit tag other than latest, or a digest"),
    Key("oracleReadyTimeoutMinutes", int, 40, _between(5, 120), "an integer from 5 to 120 (minutes)"),
    Key("oracleSshKeyName", str, "", None, "the name of an EC2 key pair, or empty for none (Session Manager is the default way in)"),
    # The host's own security group holds them next to the VPC's rule; AWS allows 60 inbound rules per group.
    Key("oracleSshCidrs", list, [], lambda v: _cidr_list(v, allow_empty=True) and "0.0.0.0/0" not in v and len(v) <= 59, "a list of at most 59 IPv4 CIDRs other than 0.0.0.0/0"),
    # EKS and the app
    Key("eksPublicAccessCidrs", list, None, _cidr_list, "a non-empty list of IPv4 CIDRs allowed to reach the Kubernetes API, e.g. [\"198.51.100.7/32\"]", required=True),
    Key("appIngressCidrs", list, ["0.0.0.0/0"], _cidr_list, "a non-empty list of IPv4 CIDRs allowed to reach the web app"),
    Key("appReplicas", int, 2, _between(1, 10), "an integer from 1 to 10"),
    Key("appImage", str, "", lambda v: v == "" or _pinned_image(v), "empty (build from app/) or an image reference with a pinned tag or digest, not :latest"),
    Key("appGunicornWorkers", int, 2, _between(1, 16), "an integer from 1 to 16"),
    Key("appSeedUsers", int, 1000, _between(1, 100000), "an integer from 1 to 100000"),
    Key("appStreamIntervalMs", int, 1000, _between(100, 60000), "an integer from 100 to 60000 (milliseconds)"),
    # Confluent Cloud
    Key("streamGovernance", str, "ESSENTIALS", _one_of("ESSENTIALS", "ADVANCED"), "ESSENTIALS or ADVANCED"),
    Key("kafkaClusterType", str, "basic", _one_of("basic", "standard", "enterprise"), "basic, standard or enterprise"),
    Key("kafkaAvailability", str, "SINGLE_ZONE", _one_of("SINGLE_ZONE", "MULTI_ZONE"), "SINGLE_ZONE or MULTI_ZONE"),
    Key("topicPrefix", str, "fd", _matches(TOPIC_PREFIX_FORM), "a letter then up to 31 letters, digits, _ or -"),
    Key("oracleAppSchema", str, "SAMPLE", _matches(ORACLE_SCHEMA_FORM), "an upper-case Oracle identifier such as SAMPLE"),
    Key("flinkMaxCfu", int, 10, _one_of(5, 10, 20, 30, 40, 50), "one of 5, 10, 20, 30, 40, 50"),
    Key("cdcReadyTimeoutMinutes", int, 20, _between(5, 60), "an integer from 5 to 60 (minutes)"),
    # Redshift
    Key("redshiftNodeType", str, "ra3.large", _matches(INSTANCE_TYPE_FORM), "a Redshift node type such as ra3.large"),
    Key("redshiftNodeCount", int, 1, _between(1, 16), "an integer from 1 to 16"),
    Key("redshiftDatabase", str, "fraud", _matches(NAME_FORM), "a lower-case identifier of up to 63 characters"),
    Key("redshiftAdminUser", str, "fraud_admin", lambda v: bool(NAME_FORM.match(v)) and v not in RESERVED_REDSHIFT_USERS, "a lower-case identifier that is not admin, awsuser, root or fraud_sink (the sink connector's user)"),
    Key("redshiftFinalSnapshot", bool, False, None, "true or false"),
    # OpenSearch
    Key("opensearchInstanceType", str, "t3.small.search", lambda v: v.endswith(".search") and bool(INSTANCE_TYPE_FORM.match(v[: -len(".search")])), "an OpenSearch instance type such as t3.small.search"),
    Key("opensearchInstanceCount", int, 1, _one_of(1, 2, 3, 4, 6), "1, 2, 3, 4 or 6 (nodes spread evenly over the zones)"),
    Key("opensearchVolumeGb", int, 10, _between(10, 1000), "an integer from 10 to 1000 (GiB)"),
    Key("opensearchEngineVersion", str, "OpenSearch_2.19", _matches(re.compile(r"^OpenSearch_\d+\.\d+$")), "OpenSearch_<major>.<minor>, e.g. OpenSearch_2.19"),
    Key("opensearchAccessCidrs", list, [], lambda v: _cidr_list(v, allow_empty=True) and not any(c.endswith("/0") for c in v), "a list of IPv4 CIDRs without /0 ranges (empty: the eksPublicAccessCidrs)"),
)


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str
    az_count: int
    nat_per_az: bool


@dataclass(frozen=True)
class OracleSettings:
    instance_type: str
    volume_gb: int
    image: str
    ready_timeout_minutes: int
    ssh_key_name: str
    ssh_cidrs: tuple[str, ...]
    app_schema: str


@dataclass(frozen=True)
class AppSettings:
    eks_public_access_cidrs: tuple[str, ...]
    ingress_cidrs: tuple[str, ...]
    replicas: int
    image: str
    gunicorn_workers: int
    seed_users: int
    stream_interval_ms: int


@dataclass(frozen=True)
class ConfluentSettings:
    cloud_api_key: pulumi.Output[str] = field(repr=False)
    cloud_api_secret: pulumi.Output[str] = field(repr=False)
    stream_governance: str
    cluster_type: str
    availability: str
    topic_prefix: str
    flink_max_cfu: int
    cdc_ready_timeout_minutes: int


@dataclass(frozen=True)
class RedshiftSettings:
    node_type: str
    node_count: int
    database: str
    admin_user: str
    final_snapshot: bool


@dataclass(frozen=True)
class OpenSearchSettings:
    instance_type: str
    instance_count: int
    volume_gb: int
    engine_version: str
    access_cidrs: tuple[str, ...]  # who may open Dashboards and the API besides Confluent's connectors


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    region: str
    owner: str
    network: NetworkSettings
    oracle: OracleSettings
    app: AppSettings
    confluent: ConfluentSettings
    redshift: RedshiftSettings
    opensearch: OpenSearchSettings

    @property
    def tags(self) -> dict[str, str]:
        """The tags every AWS resource carries (set as the AWS provider's default tags)."""
        return {"project": self.project, "stack": self.stack, "owner": self.owner}

    @property
    def prefix(self) -> str:
        """Short name for cloud-side names, unique per stack."""
        return f"fraud-{self.stack}"


def _read(config: pulumi.Config, key: Key, problems: list[str]) -> Any:
    def bad(detail: str = "") -> None:
        problems.append(f"{PROJECT}:{key.name}: expected {key.expected}{detail}")

    try:
        if key.kind is bool:
            value = config.get_bool(key.name)
        elif key.kind is int:
            value = config.get_int(key.name)
        elif key.kind is list:
            value = config.get_object(key.name)
        else:
            value = config.get(key.name)
    except Exception as error:  # the SDK's own type errors name the key but not the form
        bad(f" ({error.__class__.__name__}: {error})")
        return key.default
    if value is None:
        if key.required:
            bad(" (missing)")
        return key.default
    if key.kind is list and not isinstance(value, list):
        bad(f" (got {value!r})")
        return key.default
    if key.check is not None and not key.check(value):
        bad(f" (got {value!r})")
        return key.default
    return value


def _stack_config_keys() -> set[str]:
    """Every config key the engine handed the program: the SDK holds them in its runtime config, set from the
    PULUMI_CONFIG variable by the language host (or by ``set_all_config`` under mocks)."""
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def _undeclared(keys: set[str]) -> list[str]:
    """Problems for keys in the project namespace that no ``Key`` declares.

    The Pulumi CLI does not catch them: since pulumi/pulumi#11192 (the fix of #11127, Oct 2022) it checks only
    the keys Pulumi.yaml declares (missing required ones, wrong types), so a typo such as ``azcount`` would
    silently leave ``azCount`` at its default.
    """
    declared = {key.name for key in KEYS}
    by_lower = {name.lower(): name for name in declared}
    problems = []
    for key in sorted(k for k in keys if k.startswith(f"{PROJECT}:")):
        name = key.split(":", 1)[1]
        if name in declared:
            continue
        guess = by_lower.get(name.lower()) or next(iter(difflib.get_close_matches(name, sorted(declared), n=1)), None)
        hint = f"; did you mean {PROJECT}:{guess}?" if guess else ""
        problems.append(f"{key}: not a key of this project (Pulumi.yaml does not declare it, so nothing would read it){hint}")
    return problems


def check_oracle_instance_memory(instance_type: str, opts: pulumi.InvokeOptions | None = None) -> int:
    """The memory (MiB) of the Oracle host's instance type, read from EC2's instance-type data in the stack's
    region; raises SettingsError when it is below what Oracle XE needs. A plain invoke, so ``pulumi preview``
    fails here, before anything is created, instead of the boot failing 40 minutes into ``pulumi up``."""
    memory = int(aws.ec2.get_instance_type(instance_type=instance_type, opts=opts).memory_size)
    if memory < ORACLE_XE_MIN_MEMORY_MIB:
        raise SettingsError([
            f"{PROJECT}:oracleInstanceType: {instance_type} has {memory} MiB of memory; Oracle XE needs at least "
            f"{ORACLE_XE_MIN_MEMORY_MIB} MiB (Oracle's recommended RAM for XE), e.g. t3.large"
        ])
    return memory


def _confluent_credential(config: pulumi.Config, name: str, env: str, problems: list[str]) -> pulumi.Output[str]:
    secret = config.get_secret(name)
    if secret is None and os.environ.get(env):
        secret = pulumi.Output.secret(os.environ[env])
    if secret is None:
        problems.append(
            f"confluentcloud:{name}: missing; set it with `pulumi config set --secret confluentcloud:{name} ...`"
            f" or the {env} environment variable (a Confluent Cloud API key of a Cloud resource manager)"
        )
        return pulumi.Output.secret("")
    return secret


def load() -> Settings:
    """Read and validate the whole stack configuration; raise SettingsError listing every problem."""
    problems: list[str] = []
    config = pulumi.Config(PROJECT)
    values = {key.name: _read(config, key, problems) for key in KEYS}
    problems.extend(_undeclared(_stack_config_keys()))

    region = pulumi.Config("aws").get("region") or ""
    if not AWS_REGION_FORM.match(region):
        problems.append(f"aws:region: expected an AWS region such as eu-central-1 (got {region!r})")

    confluent_config = pulumi.Config("confluentcloud")
    api_key = _confluent_credential(confluent_config, "cloudApiKey", "CONFLUENT_CLOUD_API_KEY", problems)
    api_secret = _confluent_credential(confluent_config, "cloudApiSecret", "CONFLUENT_CLOUD_API_SECRET", problems)

    if values["kafkaClusterType"] == "basic" and values["kafkaAvailability"] != "SINGLE_ZONE":
        problems.append(f"{PROJECT}:kafkaAvailability: expected SINGLE_ZONE for a basic cluster (got {values['kafkaAvailability']!r})")
    if values["oracleSshKeyName"] and not values["oracleSshCidrs"]:
        problems.append(f"{PROJECT}:oracleSshCidrs: expected at least one CIDR when oracleSshKeyName is set")
    if values["opensearchInstanceCount"] % 3 == 0 and values["azCount"] < 3:
        problems.append(f"{PROJECT}:opensearchInstanceCount: expected 1, 2 or 4 nodes when azCount is 2 (3 and 6 spread over three zones)")

    if not values["opensearchAccessCidrs"] and any(c.endswith("/0") for c in values["eksPublicAccessCidrs"] or []):
        problems.append(f"{PROJECT}:opensearchAccessCidrs: expected your own addresses when eksPublicAccessCidrs (its default) includes a /0 range")
    if problems:
        raise SettingsError(problems)

    return Settings(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        region=region,
        owner=values["owner"],
        network=NetworkSettings(values["vpcCidr"], values["azCount"], values["natPerAz"]),
        oracle=OracleSettings(
            instance_type=values["oracleInstanceType"],
            volume_gb=values["oracleVolumeGb"],
            image=values["oracleImage"],
            ready_timeout_minutes=values["oracleReadyTimeoutMinutes"],
            ssh_key_name=values["oracleSshKeyName"],
            ssh_cidrs=tuple(values["oracleSshCidrs"]),
            app_schema=values["oracleAppSchema"],
        ),
        app=AppSettings(
            eks_public_access_cidrs=tuple(values["eksPublicAccessCidrs"]),
            ingress_cidrs=tuple(values["appIngressCidrs"]),
            replicas=values["appReplicas"],
            image=values["appImage"],
            gunicorn_workers=values["appGunicornWorkers"],
            seed_users=values["appSeedUsers"],
            stream_interval_ms=values["appStreamIntervalMs"],
        ),
        confluent=ConfluentSettings(
            cloud_api_key=api_key,
            cloud_api_secret=api_secret,
            stream_governance=values["streamGovernance"],
            cluster_type=values["kafkaClusterType"],
            availability=values["kafkaAvailability"],
            topic_prefix=values["topicPrefix"],
            flink_max_cfu=values["flinkMaxCfu"],
            cdc_ready_timeout_minutes=values["cdcReadyTimeoutMinutes"],
        ),
        redshift=RedshiftSettings(
            node_type=values["redshiftNodeType"],
            node_count=values["redshiftNodeCount"],
            database=values["redshiftDatabase"],
            admin_user=values["redshiftAdminUser"],
            final_snapshot=values["redshiftFinalSnapshot"],
        ),
        opensearch=OpenSearchSettings(
            instance_type=values["opensearchInstanceType"],
            instance_count=values["opensearchInstanceCount"],
            volume_gb=values["opensearchVolumeGb"],
            engine_version=values["opensearchEngineVersion"],
            access_cidrs=tuple(values["opensearchAccessCidrs"] or values["eksPublicAccessCidrs"]),
        ),
    )
