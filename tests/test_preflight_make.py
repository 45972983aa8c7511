"""`make up` and `make destroy` run the preflight before Pulumi and stop when it fails; `make preflight` runs it
alone; PREFLIGHT=skip lets Pulumi start and says so. Pulumi is a stand-in that logs how it was called."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from mockcloud.program import ROOT
from tests.preflight_standins import bare_env, pulumi_standin  # noqa: F401 (bare_env is a fixture)

MAKE = shutil.which("make")


@pytest.fixture
def make(bare_env, tmp_path):
    """Runs a target with the running interpreter as the Makefile's Python, never (re)building a virtualenv."""
    log = tmp_path / "pulumi.log"
    pulumi_standin(bare_env, log=log)
    venv = tmp_path / "venv"

    def run(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        log.write_text("")
        answer = subprocess.run(
            [MAKE, "--no-print-directory", "-C", str(ROOT), "-o", f"{venv}/.installed", f"VENV={venv}",
             f"PY={sys.executable}", f"STATE_DIR={tmp_path / 'state'}", *args],
            capture_output=True, text=True,
            # No network: the address lookup fails at once and says "unknown".
            env={**os.environ, "PATH": f"{bare_env}:/usr/bin:/bin", "HTTPS_PROXY": "http://127.0.0.1:9", **env},
        )
        return answer, log.read_text().splitlines()

    return run


@pytest.mark.parametrize("target, pulumi_calls", [
    ("up", ["stack select --create dev", "up --stack dev"]),
    ("destroy", ["destroy --stack dev"]),
])
def test_a_failing_preflight_stops_the_target_before_pulumi_and_skip_lets_it_through(make, target, pulumi_calls):
    stopped, calls = make(target)
    assert stopped.returncode != 0
    assert f"preflight for pulumi {target} of stack dev:" in stopped.stdout
    assert "FAIL  secrets passphrase:" in stopped.stdout
    assert calls == ["version"]  # the preflight asked the CLI its version; Pulumi itself never started

    skipped, calls = make(target, PREFLIGHT="skip")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert f"preflight skipped (PREFLIGHT=skip): pulumi {target} of stack dev starts unchecked" in skipped.stdout
    assert calls == pulumi_calls


def test_make_preflight_runs_the_checks_alone_for_either_purpose(make):
    answer, calls = make("preflight", "FOR=destroy", "STACK=ha")
    assert answer.returncode != 0
    assert "preflight for pulumi destroy of stack ha:" in answer.stdout
    assert "FAIL  access CIDRs: fraud-detection:eksPublicAccessCidrs holds 198.51.100.0/28" in answer.stdout
    assert calls == ["version"]
