"""The Pulumi CLI: on PATH, recent enough for what the program uses, and the way to read a stack's secrets."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from preflight.pulumi_version import Requirement, parse_version
from preflight.report import FAIL, OK, Finding

CHECK = "Pulumi CLI"
# https://www.pulumi.com/docs/iac/download-install/ (read 2026-12-01); the script installs the latest release.
INSTALL = "curl -fsSL https://get.pulumi.com | sh"
TIMEOUT_SECONDS = 30


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    # No update check: it would talk to the network and print to stderr.
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def said(answer: subprocess.CompletedProcess) -> str:
    """The last line a command printed (its error, usually), or its exit status."""
    lines = (answer.stderr.strip() or answer.stdout.strip()).splitlines()
    return lines[-1] if lines else f"exit {answer.returncode}"


def find_cli() -> str | None:
    return shutil.which("pulumi")


def check_cli(requirement: Requirement) -> Finding:
    needed = f"this program needs {requirement.text} or newer ({requirement.reason()})"
    cli = find_cli()
    if cli is None:
        return Finding(FAIL, CHECK, f"`pulumi` is not on PATH; {needed}: install it with `{INSTALL}` and open a new shell")
    try:
        answer = _run([cli, "version"])
    except (OSError, subprocess.TimeoutExpired) as error:
        return Finding(FAIL, CHECK, f"`{cli} version` did not run ({error}); reinstall it with `{INSTALL}`")
    installed = parse_version(answer.stdout)
    if answer.returncode != 0 or installed is None:
        return Finding(FAIL, CHECK, f"`{cli} version` answered {said(answer)!r}; reinstall it with `{INSTALL}`")
    text = answer.stdout.strip()
    if installed < (*requirement.version, 1):
        return Finding(FAIL, CHECK, f"{text} at {cli} is older than {requirement.text}; {needed}: upgrade with `{INSTALL}` (or your package manager, e.g. `brew upgrade pulumi`)")
    return Finding(OK, CHECK, f"{text} at {cli}; {needed}")


def config_get(cli: str, key: str, stack: str, root: Path) -> tuple[str | None, str]:
    """The plain value of a stack config key, decrypted by the CLI; or None and what the CLI said."""
    try:
        answer = _run([cli, "config", "get", key, "--stack", stack], cwd=root)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    if answer.returncode != 0:
        return None, said(answer)
    return answer.stdout.rstrip("\n"), ""
