"""The preflight of `make up`/`make destroy`: each check's line for the mistakes a newcomer makes, the CLI
release the program needs, and the whole run (every problem at once, PREFLIGHT=skip)."""
from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from mockcloud.program import ROOT
from preflight import pulumi_version
from preflight.__main__ import main
from preflight.access import Address, check_access, lookup_address
from preflight.image_build import check_image_build
from preflight.passphrase import check_passphrase
from preflight.pulumi_cli import check_cli
from preflight.report import FAIL, OK, WARN, problems
from preflight.run import Context, run_checks
from preflight.stack import read_stack
from tests.local_http import LocalServer
from tests.preflight_standins import bare_env, docker_standin, pulumi_standin  # noqa: F401 (bare_env is a fixture)

REQUIREMENT = pulumi_version.required_version(ROOT)
HERE = Address(ipaddress.ip_address("81.2.69.160"))
UNKNOWN = Address(None, "https://checkip.amazonaws.com did not answer: ConnectTimeout")


def lines(findings, level=None):
    return [f.line for f in findings if level is None or f.level == level]


def write_stack(directory: Path, stack: str, **changes) -> Path:
    """A copy of Pulumi.dev.yaml with some keys changed (None removes one)."""
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    for key, value in changes.items():
        key = key if ":" in key else f"fraud-detection:{key}"
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


# -- The Pulumi CLI and the release the program needs ---------------------------------------------------

def test_no_cli_on_path_says_what_to_install_and_which_release(bare_env):
    finding = check_cli(REQUIREMENT)
    assert finding.level == FAIL
    assert "`pulumi` is not on PATH" in finding.message
    assert f"needs {REQUIREMENT.text} or newer" in finding.message
    assert "curl -fsSL https://get.pulumi.com | sh" in finding.message


def test_an_old_cli_is_named_with_both_versions_then_a_recent_one_passes(bare_env):
    assert REQUIREMENT.version > (3, 0, 0)
    pulumi_standin(bare_env, version="v3.0.0")
    old = check_cli(REQUIREMENT)
    assert old.level == FAIL
    assert old.message.startswith(f"v3.0.0 at {bare_env / 'pulumi'} is older than {REQUIREMENT.text}")
    assert "upgrade with `curl -fsSL https://get.pulumi.com | sh`" in old.message

    major, minor, patch = REQUIREMENT.version
    pulumi_standin(bare_env, version=f"v{major}.{minor + 1}.0")
    recent = check_cli(REQUIREMENT)
    assert recent.level == OK, recent.line
    assert recent.message.startswith(f"v{major}.{minor + 1}.0 at {bare_env / 'pulumi'}")


def test_the_exact_release_passes_and_its_pre_release_does_not(bare_env):
    pulumi_standin(bare_env, version=REQUIREMENT.text)
    assert check_cli(REQUIREMENT).level == OK
    pulumi_standin(bare_env, version=f"{REQUIREMENT.text}-alpha.x1f2e3d4")
    assert check_cli(REQUIREMENT).level == FAIL


def test_a_cli_that_does_not_answer_with_a_version_is_reported(bare_env):
    (bare_env / "pulumi").write_text("#!/bin/sh\necho 'segmentation fault' >&2\nexit 139\n")
    (bare_env / "pulumi").chmod(0o755)
    finding = check_cli(REQUIREMENT)
    assert finding.level == FAIL and "answered 'segmentation fault'" in finding.message


def test_the_required_release_follows_every_resource_option_the_program_registers(dev, ha):
    """The source scan sees each option the program actually sets on a resource, under mocks, and no other."""
    scanned = {use.feature.name for use in pulumi_version.feature_uses(ROOT)}
    for option, recorded in (("replace_with", "replace_with"), ("replace_on_changes", "replace_on_changes"),
                             ("deleted_with", "deleted_with"), ("retain_on_delete", "retain_on_delete")):
        registered = any(r.options[recorded] for program in (dev, ha) for r in program.resources)
        assert (pulumi_version.RESOURCE_OPTIONS[option].name in scanned) == registered, option


def test_the_required_release_is_the_newest_feature_used(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nconfig:\n  size:\n    type: integer\n")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "__init__.py").write_text("")
    (tmp_path / "parts" / "thing.py").write_text(
        "import pulumi\nfrom .other import x\n"
        "opts = pulumi.ResourceOptions(deleted_with=x, replace_on_changes=['a'])\n")
    (tmp_path / "parts" / "other.py").write_text("import pulumi\nx = pulumi.ResourceOptions(retain_on_delete=True)\n")
    (tmp_path / "unused.py").write_text("import pulumi\npulumi.ResourceOptions(replace_with=[])\n")
    (tmp_path / "__main__.py").write_text("from parts.thing import opts\n")

    requirement = pulumi_version.required_version(tmp_path)
    assert requirement.text == "v3.46.1"
    assert requirement.reason() == "deletedWith in parts/thing.py:3; pulumi CHANGELOG 3.46.1 (2022-11-09), #11095"
    assert {use.where for use in pulumi_version.feature_uses(tmp_path)} == {
        "parts/thing.py:3", "parts/other.py:2", "Pulumi.yaml"}  # unused.py is not imported by the program

    (tmp_path / "__main__.py").write_text("import pulumi\npulumi.runtime.register_invoke_transform(lambda a: a)\n")
    assert pulumi_version.required_version(tmp_path).text == "v3.124.0"
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    assert pulumi_version.required_version(tmp_path).text == "v3.0.0"


# -- Stack config, passphrase -------------------------------------------------------------------------

def test_the_stack_config_is_validated_by_settings_and_every_problem_named(bare_env, tmp_path):
    write_stack(tmp_path, "bad", owner=None, azCount=9)
    findings = run_checks("bad", "up", Context(stack_dir=tmp_path, lookup_address=lambda: UNKNOWN))
    config_lines = [line for line in lines(findings, FAIL) if "stack config:" in line]
    assert len(config_lines) == 2, config_lines
    assert any("fraud-detection:owner: expected a team or person" in line and "(missing)" in line
               and "`pulumi config set fraud-detection:owner <value> --stack bad`" in line for line in config_lines)
    assert any("fraud-detection:azCount: expected an integer from 2 to 4 (got 9)" in line for line in config_lines)

    # pulumi destroy does not run the program: the same problems are said, and do not stop it.
    findings = run_checks("bad", "destroy", Context(stack_dir=tmp_path, lookup_address=lambda: UNKNOWN))
    config_lines = [line for line in lines(findings) if "stack config:" in line]
    assert len(config_lines) == 2 and all(line.startswith("warn") and line.endswith("(pulumi destroy does not run the program)")
                                          for line in config_lines)


def test_a_missing_stack_file_is_one_problem_among_the_others(bare_env, tmp_path):
    findings = run_checks("nowhere", "up", Context(stack_dir=tmp_path, lookup_address=lambda: UNKNOWN))
    assert any("no Pulumi.nowhere.yaml" in line for line in lines(findings, FAIL))
    assert any("Pulumi CLI:" in line for line in lines(findings, FAIL))


def test_the_passphrase_is_required_for_the_local_backend_and_read_from_either_variable(bare_env, tmp_path, monkeypatch):
    dev = read_stack(ROOT, "dev")
    missing = check_passphrase(dev)
    assert missing.level == FAIL
    assert "neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set" in missing.message
    assert "`export PULUMI_CONFIG_PASSPHRASE=...`" in missing.message

    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "absent"))
    assert "is not a readable file" in check_passphrase(dev).message
    (tmp_path / "passphrase").write_text("correct horse")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    assert check_passphrase(dev).level == OK
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct horse")
    assert check_passphrase(dev).line == "ok    secrets passphrase: PULUMI_CONFIG_PASSPHRASE is set"


def test_no_passphrase_is_needed_with_another_secrets_provider_or_pulumi_cloud(bare_env, tmp_path, monkeypatch):
    path = write_stack(tmp_path, "kms")
    document = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**document, "secretsprovider": "awskms://alias/fraud"}))
    assert "not needed: Pulumi.kms.yaml encrypts secrets with awskms://alias/fraud" in check_passphrase(read_stack(tmp_path, "kms")).line
    monkeypatch.setenv("PULUMI_BACKEND_URL", "https://api.pulumi.com")
    assert check_passphrase(read_stack(ROOT, "dev")).level == OK


# -- Access CIDRs ---------------------------------------------------------------------------------------

def test_the_placeholder_cidr_of_the_dev_stack_is_refused_with_the_command_that_fixes_it():
    dev = read_stack(ROOT, "dev")
    eks = dev.project_value("eksPublicAccessCidrs")
    assert eks == ["198.51.100.7/32"]
    findings = check_access(eks, dev.project_value("opensearchAccessCidrs"), HERE, "up")
    failed = lines(findings, FAIL)
    assert failed[0] == (
        "FAIL  access CIDRs: fraud-detection:eksPublicAccessCidrs holds 198.51.100.7/32, in the documentation range "
        "198.51.100.0/24 (RFC 5737), a placeholder that reaches no one: put your own address there: "
        "`pulumi config set --path 'fraud-detection:eksPublicAccessCidrs[0]' 81.2.69.160/32`"
    )
    # This machine is in neither list: the Kubernetes API and (through the default) OpenSearch refuse it.
    assert any("81.2.69.160) is not in fraud-detection:eksPublicAccessCidrs" in line for line in failed)
    assert any("is not in fraud-detection:opensearchAccessCidrs (empty, so it takes fraud-detection:eksPublicAccessCidrs)"
               in line and "dashboard import" in line for line in failed)
    assert len(failed) == 3


@pytest.mark.parametrize("cidr", ["192.0.2.0/24", "203.0.113.128/25", "198.51.0.0/16"])
def test_every_documentation_range_is_refused_also_in_opensearch_cidrs(cidr):
    findings = check_access(["81.2.69.0/24"], ["81.2.69.160/32", cidr], HERE, "up")
    [failed] = lines(findings, FAIL)
    assert f"fraud-detection:opensearchAccessCidrs holds {cidr}, in the documentation range" in failed
    assert "`pulumi config set --path 'fraud-detection:opensearchAccessCidrs[1]' 81.2.69.160/32`" in failed


def test_own_address_in_both_lists_passes():
    findings = check_access(["81.2.69.0/24"], [], HERE, "up")
    assert lines(findings) == [
        "ok    access CIDRs: this machine (81.2.69.160) is in fraud-detection:eksPublicAccessCidrs",
        "ok    access CIDRs: this machine (81.2.69.160) is in fraud-detection:opensearchAccessCidrs "
        "(empty, so it takes fraud-detection:eksPublicAccessCidrs)",
    ]


def test_an_unknown_address_is_said_never_guessed():
    findings = check_access(["81.2.69.0/24"], [], UNKNOWN, "up")
    assert lines(findings) == [
        "warn  access CIDRs: this machine's internet address: unknown (https://checkip.amazonaws.com did not "
        "answer: ConnectTimeout); make sure fraud-detection:eksPublicAccessCidrs and "
        "fraud-detection:opensearchAccessCidrs contain it"
    ]
    assert not problems(findings)


def test_destroy_warns_that_opensearch_objects_are_left_to_the_domain_when_this_machine_is_outside():
    findings = check_access(["81.2.69.0/24"], ["10.9.0.0/16"], HERE, "destroy")
    assert not problems(findings)
    assert lines(findings, WARN) == [
        "warn  access CIDRs: this machine (81.2.69.160) is not in fraud-detection:opensearchAccessCidrs: the destroy "
        "cannot reach the domain's APIs, so the dashboard and the sink's user will be left to the domain's deletion"
    ]
    outside = check_access(["10.8.0.0/16"], ["10.9.0.0/16"], HERE, "destroy")
    assert any("`pulumi destroy` cannot reach the Kubernetes API" in line for line in lines(outside, FAIL))
    placeholder = check_access(["198.51.100.7/32"], [], HERE, "destroy")
    assert lines(placeholder, FAIL)[0].endswith("81.2.69.160/32` and run `make up` before the destroy (the deployed stack allows what its config said)")


def test_the_address_lookup_reads_an_ipv4_address_and_nothing_else():
    answers = iter([b"81.2.69.160\n", b"<html>captive portal</html>", b"2001:db8::1\n"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = next(answers)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with LocalServer(Handler) as server:
        assert lookup_address(server.url) == HERE
        assert "not an address" in lookup_address(server.url).reason
        assert "IPv6" in lookup_address(server.url).reason
    refused = lookup_address(server.url, timeout=1)
    assert refused.ip is None and "did not answer" in refused.reason


# -- The image build ------------------------------------------------------------------------------------

def test_with_app_image_set_no_docker_is_needed(bare_env):
    assert lines(check_image_build("123456789012.dkr.ecr.eu-central-1.amazonaws.com/fraud-app:1.4.2")) == [
        "ok    app image build: not needed: appImage is 123456789012.dkr.ecr.eu-central-1.amazonaws.com/fraud-app:1.4.2, a prebuilt image"
    ]


def test_with_app_image_empty_docker_buildx_and_an_engine_are_needed(bare_env):
    [no_docker] = check_image_build("")
    assert no_docker.level == FAIL
    assert "appImage is empty, so the stack builds app/ with Docker, and `docker` is not on PATH" in no_docker.message
    assert "`pulumi config set fraud-detection:appImage <registry>/<image>:<tag>`" in no_docker.message

    docker_standin(bare_env, buildx=False, engine=False)
    no_buildx, no_engine = check_image_build("")
    assert "`docker buildx version` failed (docker: 'buildx' is not a docker command.)" in no_buildx.message
    assert "`docker info` failed (Cannot connect to the Docker daemon" in no_engine.message

    docker_standin(bare_env)
    assert lines(check_image_build("")) == [
        "ok    app image build: appImage is empty: the stack builds app/ with github.com/docker/buildx v0.19.2 1fc5647 on Docker engine 27.4.0"
    ]


def test_destroy_does_not_check_the_image_build_and_up_does(bare_env, tmp_path):
    write_stack(tmp_path, "built", appImage="")
    context = Context(stack_dir=tmp_path, lookup_address=lambda: UNKNOWN)
    assert any(f.check == "app image build" for f in run_checks("built", "up", context))
    assert not any(f.check == "app image build" for f in run_checks("built", "destroy", context))
    write_stack(tmp_path, "prebuilt", appImage="registry.example/fraud-app:1.0.0")
    [image] = [f for f in run_checks("prebuilt", "up", context) if f.check == "app image build"]
    assert image.level == OK and "not needed" in image.message


# -- The whole run --------------------------------------------------------------------------------------

def test_a_fresh_machine_gets_every_problem_at_once_one_line_each(bare_env):
    findings = run_checks("dev", "up", Context(lookup_address=lambda: HERE))
    failed = {f.check for f in problems(findings)}
    assert failed == {"Pulumi CLI", "secrets passphrase", "AWS", "Confluent Cloud key", "access CIDRs", "app image build"}
    assert all("\n" not in f.line for f in findings)


def test_preflight_skip_skips_and_says_so(bare_env, capsys, monkeypatch):
    monkeypatch.setenv("PREFLIGHT", "skip")
    assert main(["--stack", "dev", "--for", "destroy"]) == 0
    assert capsys.readouterr().out == "preflight skipped (PREFLIGHT=skip): pulumi destroy of stack dev starts unchecked\n"


def test_the_command_exits_non_zero_and_prints_each_line(bare_env):
    answer = subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", "dev", "--for", "destroy"], cwd=ROOT, capture_output=True,
        text=True, env={**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9"},
    )
    assert answer.returncode == 1, answer.stdout + answer.stderr
    out = answer.stdout.splitlines()
    assert out[0] == "preflight for pulumi destroy of stack dev:"
    assert "  FAIL  Pulumi CLI: `pulumi` is not on PATH;" in "\n".join(out)
    assert "unknown (https://checkip.amazonaws.com did not answer: ProxyError)" in answer.stdout
    assert not any("app image build" in line for line in out)
    assert out[-1].endswith("problem(s): fix them and run it again (PREFLIGHT=skip skips these checks)")


def test_the_readme_names_the_release_the_preflight_requires():
    readme = (ROOT / "README.md").read_text()
    feature = REQUIREMENT.uses[0].feature.name
    assert REQUIREMENT.text in readme and feature in readme, f"the README should say {REQUIREMENT.reason()}"
