"""The Confluent Cloud key the stack creates its environment with: set, valid, and of the right kind.

Found where the program looks (settings.py): stack config first, then CONFLUENT_CLOUD_API_KEY and
CONFLUENT_CLOUD_API_SECRET. A value set with `pulumi config set --secret` is encrypted in the stack file, so
it is read back through the CLI (`pulumi config get`). Then one call, GET /org/v2/environments, the one
Confluent's own Terraform provider makes to tell that a Cloud API key works (terraform-provider-confluent,
internal/provider/utils_wait.go, cloudApiKeySyncStatus; read 2026-12-01):
- 200: a Cloud resource-management key, the kind that manages environments, service accounts and clusters;
- 401: a wrong or deleted key, or a resource-specific one: a Kafka cluster, Schema Registry or Flink key is
  valid only at its own endpoint, and the Cloud APIs take Cloud API keys only
  (https://docs.confluent.io/cloud/current/security/authenticate/workload-identities/service-accounts/api-keys/overview.html);
- 403: a Cloud key whose owner may not list environments (what Confluent answers a key without any role is
  not documented; a 200 with an empty list is possible too).
Creating the environment and the service accounts also needs the owner to hold OrganizationAdmin
(https://docs.confluent.io/cloud/current/access-management/access-control/cloud-rbac.html); that takes
further calls and is not checked here. The key ID "is not considered secret information" (the API keys
page above) and is named in the line; the secret never is.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import requests

from preflight.pulumi_cli import config_get
from preflight.report import FAIL, OK, WARN, Finding
from preflight.stack import CONFLUENT_KEYS, StackFile

CHECK = "Confluent Cloud key"
API = "https://api.confluent.cloud"
TIMEOUT_SECONDS = 10
ENVIRONMENT = dict(zip(CONFLUENT_KEYS, ("CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET")))
CREATE_KEY = "create one with `confluent api-key create --resource cloud` (as an OrganizationAdmin or for a service account that is one)"


@dataclass(frozen=True)
class Credential:
    key: str
    secret: str
    source: str


def _set_commands(keys: list[str]) -> str:
    config = " and ".join(f"`pulumi config set --secret {key} <value>`" for key in keys)
    env = " and ".join(ENVIRONMENT[key] for key in keys)
    return f"{config} (or export {env})"


def find_credential(stack_file: StackFile, cli: str | None, root: Path) -> tuple[Credential | None, list[Finding]]:
    """The key and secret, where they come from, and what stops them being used."""
    findings: list[Finding] = []
    values: dict[str, str] = {}
    sources: list[str] = []
    missing: list[str] = []
    file = stack_file.path.name
    for key in CONFLUENT_KEYS:
        raw = stack_file.config.get(key)
        if stack_file.is_encrypted(key):
            if cli is None:
                findings.append(Finding(WARN, CHECK, f"{key} is set as a secret in {file} (a `secure:` value, encrypted; the program takes it before {ENVIRONMENT[key]}); not validated: decrypting it needs the Pulumi CLI"))
                continue
            value, error = config_get(cli, key, stack_file.stack, root)
            if value is None:
                findings.append(Finding(FAIL, CHECK, f"{key} is set as a secret in {file}, but `pulumi config get {key}` failed ({error}): check PULUMI_CONFIG_PASSPHRASE and PULUMI_BACKEND_URL (the stack's backend)"))
                continue
            values[key] = value
            sources.append(f"{key}: secret in {file}, read with `pulumi config get`")
        elif raw is not None:
            values[key] = str(raw)
            sources.append(f"{key}: plain text in {file}")
            findings.append(Finding(FAIL, CHECK, f"{key} is in plain text in {file}: remove it from the file and set it again with `pulumi config set --secret {key} <value>`"))
        elif os.environ.get(ENVIRONMENT[key]):
            values[key] = os.environ[ENVIRONMENT[key]]
            sources.append(f"{ENVIRONMENT[key]}")
        else:
            missing.append(key)
    if missing:
        findings.append(Finding(FAIL, CHECK, f"{' and '.join(missing)} not set (neither in {file} nor in the environment): {_set_commands(missing)}; {CREATE_KEY}"))
    if len(values) < len(CONFLUENT_KEYS):
        return None, findings
    return Credential(values[CONFLUENT_KEYS[0]], values[CONFLUENT_KEYS[1]], "; ".join(sources)), findings


def _kind(answer: requests.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body.get("kind") if isinstance(body, dict) else None


def check_key(credential: Credential, base_url: str = API) -> Finding:
    """One call with the key; the answer says whether it is a working Cloud resource-management key."""
    url = f"{base_url.rstrip('/')}/org/v2/environments"
    name = f"key {credential.key} ({credential.source})"
    try:
        answer = requests.get(url, params={"page_size": 1}, auth=(credential.key, credential.secret), timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        return Finding(FAIL, CHECK, f"could not reach {url} to check {name}: {error}")
    if answer.status_code == 401:
        return Finding(
            FAIL, CHECK,
            f"Confluent Cloud refused {name} (HTTP 401 on GET /org/v2/environments): the key or its secret is wrong "
            f"or deleted, or it is a resource-specific key (Kafka cluster, Schema Registry, Flink), which the Cloud "
            f"APIs do not take; use a Cloud resource-management key: {CREATE_KEY}",
        )
    if answer.status_code == 403:
        return Finding(
            FAIL, CHECK,
            f"{name} is a valid Cloud key, but its owner may not list environments (HTTP 403), so it cannot create "
            f"them either: give the owner the OrganizationAdmin role or use a key of an account that has it",
        )
    if answer.status_code != 200 or _kind(answer) != "EnvironmentList":
        return Finding(FAIL, CHECK, f"unexpected answer to {name} from {url}: HTTP {answer.status_code} {answer.text[:200]!r}")
    return Finding(
        OK, CHECK,
        f"{name} is a Cloud resource-management key that Confluent Cloud accepts; creating the environment and "
        f"service accounts also needs its owner to be OrganizationAdmin (not checked here)",
    )
