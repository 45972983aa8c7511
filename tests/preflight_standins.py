"""What the preflight tests share: a bare environment (no credentials, no CLI, nothing on PATH but the
stand-ins a test writes) and stand-in `pulumi` and `docker` commands that answer like the real ones."""
from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

CLEARED_PREFIXES = ("AWS_", "CONFLUENT_CLOUD_", "PULUMI_", "DOCKER_")
CLEARED = ("PREFLIGHT", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def bare_env(tmp_path, monkeypatch) -> Path:
    """An environment with no credentials and only an empty bin directory on PATH; returns that directory."""
    for name in list(os.environ):
        if name.startswith(CLEARED_PREFIXES) or name in CLEARED:
            monkeypatch.delenv(name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path))
    # No shared AWS files and no instance metadata: the credential chain ends empty without the network.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return bin_dir


def write_command(bin_dir: Path, name: str, body: str) -> Path:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def pulumi_standin(bin_dir: Path, version: str = "v3.230.0", secrets: dict[str, str] | None = None,
                   log: Path | None = None) -> Path:
    """`pulumi version` prints ``version``; `pulumi config get KEY` prints ``secrets[KEY]`` or fails as the CLI
    does for an unknown key; every call is appended to ``log``."""
    cases = "".join(f"      {shlex.quote(key)}) printf '%s\\n' {shlex.quote(value)} ;;\n" for key, value in (secrets or {}).items())
    logging = f'echo "$*" >> {shlex.quote(str(log))}\n' if log else ""
    return write_command(bin_dir, "pulumi", (
        logging
        + 'case "$1" in\n'
        + f"  version) echo {shlex.quote(version)} ;;\n"
        + '  config)\n    case "$3" in\n' + cases
        + "      *) echo \"error: configuration key '$3' not found for stack '$5'\" >&2; exit 255 ;;\n    esac ;;\n"
        + "esac\n"
    ))


def docker_standin(bin_dir: Path, buildx: bool = True, engine: bool = True) -> Path:
    return write_command(bin_dir, "docker", (
        'case "$1" in\n'
        + ('  buildx) echo "github.com/docker/buildx v0.19.2 1fc5647" ;;\n' if buildx
           else "  buildx) echo \"docker: 'buildx' is not a docker command.\" >&2; exit 1 ;;\n")
        + ('  info) echo "27.4.0" ;;\n' if engine
           else '  info) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1 ;;\n')
        + "esac\n"
    ))
