"""The passphrase that encrypts the stack's secrets in a self-managed backend (the Makefile's file:// state).

Without it a non-interactive `pulumi up` stops at the first secret (FACTS: local backend). Stacks whose
file names another secrets provider (awskms://, ...) and stacks kept in Pulumi Cloud do not need one.
"""
from __future__ import annotations

import os
from pathlib import Path

from preflight.report import FAIL, OK, Finding
from preflight.stack import StackFile

CHECK = "secrets passphrase"


def check_passphrase(stack_file: StackFile) -> Finding:
    provider = stack_file.secrets_provider
    backend = os.environ.get("PULUMI_BACKEND_URL", "")
    if provider and not provider.startswith("passphrase"):
        return Finding(OK, CHECK, f"not needed: {stack_file.path.name} encrypts secrets with {provider}")
    if not provider and backend.startswith(("https://", "http://")):
        return Finding(OK, CHECK, f"not needed: the backend {backend} keeps the stack's secrets")
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        return Finding(OK, CHECK, "PULUMI_CONFIG_PASSPHRASE is set")
    passphrase_file = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if passphrase_file:
        if os.access(Path(passphrase_file), os.R_OK) and Path(passphrase_file).is_file():
            return Finding(OK, CHECK, f"PULUMI_CONFIG_PASSPHRASE_FILE is set ({passphrase_file})")
        return Finding(FAIL, CHECK, f"PULUMI_CONFIG_PASSPHRASE_FILE names {passphrase_file}, which is not a readable file: point it at the file that holds the stack's passphrase")
    return Finding(
        FAIL, CHECK,
        "neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set, and the local backend encrypts "
        "the stack's secrets with it: `export PULUMI_CONFIG_PASSPHRASE=...` (the same one every time: it is the only "
        "way to decrypt this stack's secrets later) or `export PULUMI_CONFIG_PASSPHRASE_FILE=<file>`",
    )
