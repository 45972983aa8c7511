"""The throw-away stack: what must be there to deploy it, its unique name, its backend and passphrase, and its
config (the dev stack file, this machine's address in the access CIDRs, the Confluent key as secret config),
set through Pulumi's Automation API on this repository's program."""
from __future__ import annotations

import datetime
import ipaddress
import secrets
import shutil
import string
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

import settings
from components.opensearch import domain_name
from components.redshift import cluster_identifier
from e2e import naming
from preflight import access, aws, confluent, image_build, pulumi_cli, pulumi_version
from preflight.report import Finding, problems

ROOT = Path(__file__).resolve().parent.parent
BASE_STACK = "dev"
NAME_ALPHABET = string.ascii_lowercase + string.digits
CIDRS_ENV = "E2E_CALLER_CIDRS"
IMAGE_ENV = "E2E_APP_IMAGE"
CONFLUENT_KEY_ENV, CONFLUENT_SECRET_ENV = "CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"


def base_config() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / f"Pulumi.{BASE_STACK}.yaml").read_text()).get("config") or {})


def app_image(environ: Mapping[str, str], config: Mapping[str, Any]) -> str:
    return environ.get(IMAGE_ENV, "").strip() or str(config.get(f"{settings.PROJECT}:appImage", ""))


def missing_prerequisites(environ: Mapping[str, str], config: Mapping[str, Any],
                          which: Callable[[str], str | None] = shutil.which,
                          aws_credentials: Callable[[], object] | None = None) -> list[str]:
    """What this machine lacks to deploy the stack, one phrase each; empty when the run can start."""
    if aws_credentials is None:
        import boto3

        aws_credentials = boto3.Session().get_credentials
    missing = []
    if which("pulumi") is None:
        missing.append("the pulumi CLI on PATH")
    if aws_credentials() is None:
        missing.append("AWS credentials (boto3's credential chain found none)")
    missing += [name for name in (CONFLUENT_KEY_ENV, CONFLUENT_SECRET_ENV) if not environ.get(name)]
    if not app_image(environ, config) and which("docker") is None:
        missing.append(f"docker to build the app image (or {IMAGE_ENV}, a pushed image)")
    return missing


def preflight_problems(environ: Mapping[str, str], config: Mapping[str, Any]) -> list[Finding]:
    """What `make up`'s preflight would refuse before a deploy (CLI release, AWS credentials, the Confluent key,
    the image build), asked before anything is created: a run should not stop 20 minutes in."""
    findings = [
        pulumi_cli.check_cli(pulumi_version.required_version(ROOT)),
        aws.check_aws(str(config.get("aws:region", "")) or None),
        confluent.check_key(confluent.Credential(environ[CONFLUENT_KEY_ENV], environ[CONFLUENT_SECRET_ENV], "environment")),
        *image_build.check_image_build(app_image(environ, config)),
    ]
    return problems(findings)


def unique_name(rng: secrets.SystemRandom | None = None, today: datetime.date | None = None) -> str:
    """``e2e-<MMDD><4 random>``: short enough for the names derived from it (OpenSearch allows 28 characters)."""
    rng = rng or secrets.SystemRandom()
    today = today or datetime.date.today()
    name = f"e2e-{today:%m%d}{''.join(rng.choice(NAME_ALPHABET) for _ in range(4))}"
    domain_name(naming.prefix(name))  # raise now, not 20 minutes into the deploy
    cluster_identifier(naming.prefix(name))
    return name


def caller_cidrs(environ: Mapping[str, str], lookup: access.AddressLookup = access.lookup_address) -> list[str]:
    """The sources for eksPublicAccessCidrs and opensearchAccessCidrs: E2E_CALLER_CIDRS (comma-separated), or
    this machine's public address as a /32 (the run calls the Kubernetes API and OpenSearch from here), found
    the way the preflight finds it."""
    given = [cidr.strip() for cidr in environ.get(CIDRS_ENV, "").split(",") if cidr.strip()]
    if not given:
        address = lookup()
        if address.ip is None:
            raise ValueError(f"this machine's address is unknown ({address.reason}); set {CIDRS_ENV}")
        return [f"{address.ip}/32"]
    for cidr in given:
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            network = None
        if network is None or network.prefixlen == 0:
            raise ValueError(f"{CIDRS_ENV}: expected IPv4 CIDRs such as 203.0.113.7/32, comma-separated; got {cidr!r}")
    return given


def stack_config(base: Mapping[str, Any], cidrs: list[str], image: str) -> dict[str, Any]:
    """The dev stack's config with this run's access CIDRs (and a prebuilt image, when given)."""
    config = dict(base)
    config[f"{settings.PROJECT}:eksPublicAccessCidrs"] = list(cidrs)
    config[f"{settings.PROJECT}:opensearchAccessCidrs"] = list(cidrs)
    if image:
        config[f"{settings.PROJECT}:appImage"] = image
    return config


def config_values(config: Mapping[str, Any]) -> dict[str, auto.ConfigValue]:
    """Config for ``set_all_config(..., path=True)``: a list becomes ``key[0]``, ``key[1]``...; with ``--path`` the
    CLI stores numbers and booleans typed, as Pulumi.yaml's schema declares them."""
    values: dict[str, auto.ConfigValue] = {}
    for key, value in config.items():
        items = value if isinstance(value, list) else None
        if items is None:
            values[key] = auto.ConfigValue(_text(value))
        else:
            values.update({f"{key}[{index}]": auto.ConfigValue(_text(item)) for index, item in enumerate(items)})
    return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise ValueError(f"config value {value!r}: nested structures are not used by this project")
    return str(value)


@dataclass(frozen=True)
class Backend:
    """Where the stack's state lives and how its secrets are encrypted, as environment for the Pulumi CLI."""

    url: str
    folder: Path  # the run's own folder: the default state and a generated passphrase
    env_vars: dict[str, str]

    def retry_hint(self, stack: str) -> str:
        settings_text = " ".join(f"{key}={value}" for key, value in sorted(self.env_vars.items()))
        return f"{settings_text} pulumi destroy --yes --stack {stack} --cwd {ROOT}"


def backend(environ: Mapping[str, str], name: str) -> Backend:
    """A local file backend in a new temporary folder (PULUMI_BACKEND_URL overrides it) and, unless the caller
    set one, a generated passphrase kept in that folder (mode 600)."""
    folder = Path(tempfile.mkdtemp(prefix=f"fraud-{name}-"))
    url = environ.get("PULUMI_BACKEND_URL", "").strip()
    if not url:
        (folder / "state").mkdir()
        url = f"file://{folder / 'state'}"
    env = {"PULUMI_BACKEND_URL": url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    if not (environ.get("PULUMI_CONFIG_PASSPHRASE") or environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")):
        passphrase = folder / "passphrase"
        passphrase.touch(mode=0o600)
        passphrase.write_text(secrets.token_urlsafe(32))
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase)
    return Backend(url, folder, env)


def open_stack(name: str, store: Backend, config: Mapping[str, Any], confluent_key: str, confluent_secret: str,
               create: Callable[..., auto.Stack] = auto.create_stack) -> auto.Stack:
    """Create the stack over this repository's program and set its config; a stack that cannot be configured
    is removed again (it holds no resources yet)."""
    stack = create(name, work_dir=str(ROOT), opts=auto.LocalWorkspaceOptions(env_vars=store.env_vars))
    try:
        stack.set_all_config(config_values(config), path=True)
        stack.set_all_config({
            "confluentcloud:cloudApiKey": auto.ConfigValue(confluent_key, secret=True),
            "confluentcloud:cloudApiSecret": auto.ConfigValue(confluent_secret, secret=True),
        })
    except Exception:
        stack.workspace.remove_stack(name)
        raise
    return stack
