"""What the stack needs to build the app image itself (appImage empty): Docker with the buildx plugin and a
running engine. pulumi-docker-build builds with buildx and BuildKit through the engine at DOCKER_HOST
(https://www.pulumi.com/registry/packages/docker-build/installation-configuration/, read 2026-12-01)."""
from __future__ import annotations

import shutil
import subprocess

from preflight.report import FAIL, OK, Finding

CHECK = "app image build"
TIMEOUT_SECONDS = 20
PREBUILT = "or skip the build with a prebuilt image: `pulumi config set fraud-detection:appImage <registry>/<image>:<tag>`"


def _docker(docker: str, *args: str) -> tuple[bool, str]:
    try:
        answer = subprocess.run([docker, *args], capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error)
    lines = (answer.stdout.strip() if answer.returncode == 0 else answer.stderr.strip() or answer.stdout.strip()).splitlines()
    return answer.returncode == 0, lines[0] if lines else f"exit {answer.returncode}"


def check_image_build(app_image: str) -> list[Finding]:
    if app_image:
        return [Finding(OK, CHECK, f"not needed: appImage is {app_image}, a prebuilt image")]
    docker = shutil.which("docker")
    if docker is None:
        return [Finding(FAIL, CHECK, f"appImage is empty, so the stack builds app/ with Docker, and `docker` is not on PATH: install Docker with the buildx plugin (https://docs.docker.com/engine/install/), {PREBUILT}")]
    findings = []
    has_buildx, buildx = _docker(docker, "buildx", "version")
    if not has_buildx:
        findings.append(Finding(FAIL, CHECK, f"appImage is empty, so the stack builds app/ with buildx, and `docker buildx version` failed ({buildx}): install the buildx plugin (in Docker Desktop; on Linux the docker-buildx-plugin package, https://github.com/docker/buildx#installing), {PREBUILT}"))
    engine_up, engine = _docker(docker, "info", "--format", "{{.ServerVersion}}")
    if not engine_up:
        findings.append(Finding(FAIL, CHECK, f"appImage is empty, so the stack builds app/ on a Docker engine, and `docker info` failed ({engine}): start Docker (or point DOCKER_HOST at a running engine), {PREBUILT}"))
    return findings or [Finding(OK, CHECK, f"appImage is empty: the stack builds app/ with {buildx} on Docker engine {engine}")]
