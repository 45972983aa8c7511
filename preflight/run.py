"""All the checks for one stack and purpose, in the order a newcomer fixes them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from preflight import access, aws, confluent, image_build, passphrase, pulumi_cli, pulumi_version, stack
from preflight.report import FAIL, WARN, Finding

ROOT = Path(__file__).resolve().parent.parent
PURPOSES = ("up", "destroy")


@dataclass(frozen=True)
class Context:
    """Where the checks read the program and the stack file, and how they reach outside this machine; tests
    point them at stand-ins."""

    root: Path = ROOT  # the program: Pulumi.yaml, __main__.py and what it imports
    stack_dir: Path = ROOT  # where Pulumi.<stack>.yaml lives (the project directory, in a real run)
    lookup_address: access.AddressLookup = field(default=access.lookup_address)
    confluent_url: str = confluent.API


def stack_config_findings(stack_file: stack.StackFile, purpose: str) -> list[Finding]:
    """What settings.py rejects stops `up`; `destroy` does not run the program, so there it is only said."""
    findings = []
    if not stack_file.exists:
        findings.append(Finding(FAIL, "stack config", f"no {stack_file.path.name}: copy Pulumi.dev.yaml to it and edit it, or `pulumi stack init {stack_file.stack}` and set its config"))
    level, note = (FAIL, "") if purpose == "up" else (WARN, " (pulumi destroy does not run the program)")
    for problem in stack.settings_problems(stack_file):
        key = problem.split(": ", 1)[0]
        findings.append(Finding(level, "stack config", f"{problem}; set it with `pulumi config set {key} <value> --stack {stack_file.stack}`{note}"))
    return findings


def run_checks(stack_name: str, purpose: str, context: Context = Context()) -> list[Finding]:
    """Every finding for `pulumi <purpose>` of the stack; the image check only matters to `up`."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    stack_file = stack.read_stack(context.stack_dir, stack_name)
    findings = [pulumi_cli.check_cli(pulumi_version.required_version(context.root))]
    findings.append(passphrase.check_passphrase(stack_file))
    findings += stack_config_findings(stack_file, purpose)
    region = stack_file.config.get("aws:region")
    findings.append(aws.check_aws(region if isinstance(region, str) and region else None))

    credential, found = confluent.find_credential(stack_file, pulumi_cli.find_cli(), context.root)
    findings += found
    if credential is not None:
        findings.append(confluent.check_key(credential, context.confluent_url))

    findings += access.check_access(
        stack_file.project_value("eksPublicAccessCidrs") or [],
        stack_file.project_value("opensearchAccessCidrs") or [],
        context.lookup_address(),
        purpose,
    )
    if purpose == "up":
        findings += image_build.check_image_build(stack_file.project_value("appImage") or "")
    return findings
