"""`make e2e`'s orchestration with a stand-in for the Automation API's stack and workspace (there is no Pulumi CLI
here), real clouds stood in by moto (the stack's resources, its Oracle gate's report) and local servers (Confluent
Cloud, the app): ``up`` failing, a check failing, ``destroy`` failing, and a clean run. Also the stack's setup:
what must be there, its name, backend, passphrase and config."""
from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from moto import mock_aws
from pulumi import automation as auto
from pulumi.automation import events

from e2e import naming
from e2e import stack as throwaway
from e2e.__main__ import main
from e2e.confluent import CloudApi
from e2e.run import AwsClients, Clients, Patience, Proof
from e2e.timeline import Timeline
from tests.e2e_standins import FakeConfluent
from preflight.access import Address
from preflight.report import FAIL, Finding
from tests.local_http import JsonHandler, LocalServer

REGION = "eu-central-1"
NAME = "e2e-1201test"
ROOT = Path(__file__).resolve().parent.parent
QUICK = Patience(healthz=0.3, confluent=0.3, flags=0.3, history=0.3, leftovers=0.3, poll=0.01)
REQUIRED_CONFIG = ("aws:region", "fraud-detection:owner", "fraud-detection:eksPublicAccessCidrs[0]",
                   "confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret")


def failure(stderr: str) -> auto.CommandError:
    return auto.CommandError(auto.CommandResult(stdout="", stderr=stderr, code=255))


class FakeWorkspace:
    """LocalWorkspace's stack list and ``stack rm``, which refuses a stack that still holds resources (as
    ``pulumi stack rm`` does without --force) and one that does not exist."""

    def __init__(self):
        self.stacks: dict[str, FakeStack] = {}

    def list_stacks(self):
        return [auto.StackSummary(name=name, current=False) for name in self.stacks]

    def remove_stack(self, name, force=None, preserve_config=None):
        if name not in self.stacks:
            raise auto.StackNotFoundError(auto.CommandResult("", f"no stack named '{name}' found", 255))
        if self.stacks[name].resources and not force:
            raise failure(f"error: '{name}' still has resources; removal rejected")
        del self.stacks[name]


class FakeStack:
    """``auto.Stack`` as the proof uses it. ``up`` refuses to run without the config the program requires, creates
    the stack's tagged VPC in moto and reports it as engine events, then (unless it fails first) its Confluent
    environment in the Confluent stand-in; ``destroy`` deletes what it created."""

    def __init__(self, name, workspace, ec2, confluent, outputs=None, fail_up="", destroy_failures=0, populate=None):
        self.name, self.workspace, self.ec2, self.confluent = name, workspace, ec2, confluent
        self.outputs_after_up, self.fail_up, self.destroy_failures = outputs or {}, fail_up, destroy_failures
        self.populate = populate  # fills the stack's Confluent environment (connectors, statements) on up
        self.config: dict[str, auto.ConfigValue] = {}
        self.resources: list[str] = []
        self.registered: dict[str, auto.OutputValue] = {}
        self.calls: list[str] = []
        workspace.stacks[name] = self

    def set_all_config(self, config, *, path=False):
        assert all(isinstance(value, auto.ConfigValue) for value in config.values())
        assert path or not any("[" in key for key in config), "list items need path=True"
        self.config.update(config)

    def _event(self, on_event, kind, op, urn, **extra):
        metadata = {"op": op, "urn": urn, "type": urn.split("::")[2], "provider": ""}
        on_event(events.EngineEvent.from_json({"sequence": 1, "timestamp": 1, kind: {"metadata": metadata, **extra}}))

    def up(self, on_event=None, on_output=None, color=None, suppress_outputs=None):
        self.calls.append("up")
        missing = [key for key in REQUIRED_CONFIG if key not in self.config]
        if missing:
            raise failure(f"error: Missing required configuration variable(s): {missing}")
        assert self.config["confluentcloud:cloudApiKey"].secret and self.config["confluentcloud:cloudApiSecret"].secret
        urn = f"urn:pulumi:{self.name}::fraud-detection::aws:ec2/vpc:Vpc::fraud-{self.name}-vpc"
        self._event(on_event, "resourcePreEvent", "create", urn)
        tags = [{"Key": k, "Value": v} for k, v in naming.aws_tags(self.name).items()]
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])
        self.resources.append(vpc["Vpc"]["VpcId"])
        self._event(on_event, "resOutputsEvent", "create", urn)
        on_output(f"+ aws:ec2/vpc:Vpc fraud-{self.name}-vpc created")
        if self.fail_up:
            gate = f"urn:pulumi:{self.name}::fraud-detection::pulumi-python:dynamic:Resource::fraud-{self.name}-oracle-ready"
            self._event(on_event, "resourcePreEvent", "create", gate)
            self._event(on_event, "resOpFailedEvent", "create", gate, status=1, steps=1)
            raise failure(self.fail_up)
        environment = f"env-{self.name}"
        self.confluent.add_environment(environment, naming.environment_name(self.name))
        if self.populate:
            self.populate(self.confluent, environment)
        outputs = {**self.outputs_after_up, "confluentEnvironmentId": environment, "vpcId": self.resources[0]}
        self.registered = {k: auto.OutputValue(v, k.endswith(("Password", "Secret"))) for k, v in outputs.items()}
        return auto.UpResult("", "", None, dict(self.registered))

    def outputs(self):
        return dict(self.registered)

    def destroy(self, on_event=None, on_output=None, color=None):
        self.calls.append("destroy")
        if self.destroy_failures:
            self.destroy_failures -= 1
            raise failure("error: deleting VPC: DependencyViolation: The vpc has dependencies and cannot be deleted.")
        for vpc in self.resources:
            urn = f"urn:pulumi:{self.name}::fraud-detection::aws:ec2/vpc:Vpc::fraud-{self.name}-vpc"
            self._event(on_event, "resourcePreEvent", "delete", urn)
            self.ec2.delete_vpc(VpcId=vpc)
            self._event(on_event, "resOutputsEvent", "delete", urn)
        self.resources = []
        self.confluent.environments.pop(f"env-{self.name}", None)


@pytest.fixture(scope="module")
def aws():
    with mock_aws():
        session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        yield AwsClients.connect(REGION, session)


@pytest.fixture
def world(aws, tmp_path):
    """A fresh stack name per test, a Confluent stand-in, a workspace and the proof's collaborators."""
    with FakeConfluent() as confluent:
        lines: list[str] = []
        folder = tmp_path / "backend"
        (folder / "state").mkdir(parents=True)
        store = throwaway.Backend(f"file://{folder / 'state'}", folder, {"PULUMI_BACKEND_URL": f"file://{folder / 'state'}"})
        workspace = FakeWorkspace()
        yield type("World", (), {
            "aws": aws, "confluent": confluent, "lines": lines, "store": store, "workspace": workspace,
            "timeline_path": tmp_path / "timeline.jsonl",
        })


counter = iter(range(1000, 10000))


def next_name() -> str:
    return f"e2e-1201t{next(counter)}"  # one per test: the mocked account is shared by the module


def build(world, checks=None, name=None, **stack_options) -> tuple[Proof, list[FakeStack]]:
    name = name or next_name()
    config = throwaway.stack_config(throwaway.base_config(), ["198.51.100.7/32"], "")
    created: list[FakeStack] = []

    def create(stack_name, work_dir, opts):
        assert Path(work_dir) == ROOT and opts.env_vars == world.store.env_vars
        created.append(FakeStack(stack_name, world.workspace, world.aws.ec2, world.confluent, **stack_options))
        return created[0]

    http = requests.Session()
    proof = Proof(
        name, REGION, config,
        open_stack=lambda: throwaway.open_stack(name, world.store, config, "CLOUDKEY", "cloud-secret", create=create),
        clients=Clients(world.aws, CloudApi("CLOUDKEY", "cloud-secret", http, base_url=world.confluent.url), http),
        timeline=Timeline(world.timeline_path, name, "fraud-detection", REGION),
        store=world.store, patience=QUICK, out=world.lines.append,
        **({"checks": checks} if checks else {}),
    )
    return proof, created


def prove(world, checks=None, name=None, **stack_options) -> tuple[int, FakeStack, str]:
    proof, created = build(world, checks, name, **stack_options)
    code = proof.run()
    return code, created[0] if created else None, "\n".join(world.lines)


def passing(*_args):
    return [("everything is fine", lambda: None)]


def timeline_steps(world) -> list[tuple[str, str, str]]:
    import json

    lines = [json.loads(line) for line in world.timeline_path.read_text().splitlines()]
    return [(l["operation"], l["phase"], l["urn"].rsplit("::", 1)[1]) for l in lines if l["kind"] == "step"]


def test_up_fails_then_destroy_still_runs_and_the_gates_report_is_printed(world):
    name = next_name()
    world.aws.ssm.put_parameter(Name=naming.oracle_status_parameter(name), Type="String",
                                Value="i-0abc failed: ORA-01034: ORACLE not available")
    code, stack, text = prove(world, name=name, fail_up="error: Oracle setup failed on i-0abc ... ORA-01034")
    assert code == 1
    assert stack.calls == ["up", "destroy"]
    assert "pulumi up failed:" in text and "ORA-01034: ORACLE not available" in text  # the gate's log tail
    assert f"--- Confluent Cloud\nno environment fraud-{name}-env" in text
    assert world.workspace.stacks == {}  # destroyed, then removed
    assert world.aws.ec2.describe_vpcs(Filters=[{"Name": "tag:stack", "Values": [stack.name]}])["Vpcs"] == []
    assert "LEFT BEHIND" not in text and text.rstrip().endswith("- pulumi up failed:\n\n code: 255\n stdout: \n stderr: error: Oracle setup failed on i-0abc ... ORA-01034")
    steps = timeline_steps(world)
    assert ("up", "start", f"fraud-{stack.name}-vpc") in steps and ("up", "failed", f"fraud-{stack.name}-oracle-ready") in steps
    assert steps[-2:] == [("destroy", "start", f"fraud-{stack.name}-vpc"), ("destroy", "end", f"fraud-{stack.name}-vpc")]


def test_a_failed_check_is_followed_by_the_diagnostics_and_destroy(world):
    class App(JsonHandler):
        def do_GET(self):
            self.answer(503, {"status": "error", "error": "DatabaseError"})

    def populate(confluent, environment):
        confluent.add_connector(environment, "lkc-1", "fraud-cdc", "lcc-1", state="FAILED", tasks=("FAILED",),
                                trace="ORA-12541: TNS:no listener")

    with LocalServer(App) as app:
        outputs = {"appUrl": app.url, "flinkApiKey": "FLINKKEY",
                   "flinkApiSecret": "flink-secret", "kafkaClusterId": "lkc-1", "redshiftHost": "c.x.eu-central-1.redshift.amazonaws.com",
                   "redshiftDatabase": "fraud", "redshiftAdminUser": "fraud_admin", "redshiftSchema": "fraud",
                   "opensearchEndpoint": "search.example", "opensearchMasterUser": "fraud_admin",
                   "opensearchMasterPassword": "pw", "cdcConnectorId": "lcc-1", "redshiftSinkConnectorId": "lcc-2",
                   "opensearchSinkConnectorId": "lcc-3"}
        code, stack, text = prove(world, outputs=outputs, populate=populate)
    assert code == 1
    assert "e2e: FAILED: the app answers /healthz through the ALB: the app's /healthz: not within 0.3 s" in text
    assert "DatabaseError" in text
    assert "--- Connectors\nfraud-cdc (lcc-1) in lkc-1: FAILED\n  task 0: FAILED\n  trace: ORA-12541: TNS:no listener" in text
    assert text.index("--- Connectors") < text.index("pulumi destroy of stack")  # read while the stack is there
    assert stack.calls == ["up", "destroy"] and world.workspace.stacks == {}
    assert "checking that the three connectors" not in text  # later checks depend on the app


def test_destroy_failing_lists_the_leftovers_keeps_the_state_and_fails(world):
    code, stack, text = prove(world, checks=passing, destroy_failures=2)
    assert code == 1
    assert stack.calls == ["up", "destroy", "destroy"]
    vpc = stack.resources[0]
    left = text[text.index("e2e: LEFT BEHIND:"):]
    assert f"vpc/{vpc}" in left
    assert f"Confluent environment fraud-{stack.name}-env (env-{stack.name})" in left
    assert f"Pulumi stack {stack.name}" in left  # kept on purpose: its state is what a retry needs
    assert "pulumi destroy failed twice:" in text and "DependencyViolation" in text
    assert f"PULUMI_BACKEND_URL=file://{world.store.folder / 'state'} pulumi destroy --yes --stack {stack.name}" in text
    assert world.store.folder.exists()


def test_a_clean_run_passes_records_the_cdc_schemas_and_removes_the_stack_and_its_temporary_state(world):
    def populate(confluent, environment):
        confluent.add_statement("fraud-01-alter", "ALTER TABLE `fd.SAMPLE.AUTH_USER` SET ()", "COMPLETED")
        confluent.describe_rows.update({"fd.SAMPLE.AUTH_USER": [["ID", "BIGINT", "NOT NULL"]],
                                        "fd.SAMPLE.USER_TRANSACTION": [["AMOUNT", "DOUBLE", "NULL"]]})

    outputs = {"flinkApiKey": "FLINKKEY", "flinkApiSecret": "flink-secret",
               "cdcTopics": ["fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"]}
    code, stack, text = prove(world, checks=passing, destroy_failures=1, outputs=outputs, populate=populate)
    assert code == 0, text
    assert "--- CDC source tables as Flink sees them\nDESCRIBE `fd.SAMPLE.AUTH_USER`:\n" in text
    assert "AMOUNT | DOUBLE | NULL" in text
    assert stack.calls == ["up", "destroy", "destroy"]
    assert world.workspace.stacks == {} and not world.store.folder.exists()
    assert "e2e: ok: everything is fine" in text and "PASSED" in text
    # The config reached the stack as the CLI needs it: list items by path, the Confluent key as secrets.
    assert stack.config["fraud-detection:eksPublicAccessCidrs[0]"].value == "198.51.100.7/32"
    assert stack.config["fraud-detection:opensearchAccessCidrs[0]"].value == "198.51.100.7/32"
    assert stack.config["fraud-detection:azCount"].value == "3" and stack.config["fraud-detection:natPerAz"].value == "false"


def test_a_stack_that_cannot_be_configured_is_removed_and_the_run_fails_before_deploying(world):
    def create(stack_name, work_dir, opts):
        stack = FakeStack(stack_name, world.workspace, world.aws.ec2, world.confluent)
        stack.set_all_config = lambda *a, **k: (_ for _ in ()).throw(failure("error: invalid configuration key"))
        return stack

    lines = []
    proof = Proof(NAME, REGION, {}, open_stack=lambda: throwaway.open_stack(NAME, world.store, {}, "k", "s", create=create),
                  clients=None, timeline=Timeline(world.timeline_path, NAME, "fraud-detection", REGION),
                  store=world.store, out=lines.append)
    assert proof.run() == 1
    assert "could not create stack e2e-1201test" in lines[-1] and "invalid configuration key" in lines[-1]
    assert world.workspace.stacks == {}


# -- the stack's setup

def test_without_credentials_make_e2e_names_what_is_missing_in_one_line_and_exits_0():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFLUENT_"))}
    env.update(AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_EC2_METADATA_DISABLED="true",
               PATH=os.path.dirname(sys.executable))  # no pulumi, no docker on this PATH
    done = subprocess.run([sys.executable, "-m", "e2e"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "e2e skipped: missing the pulumi CLI on PATH, AWS credentials (boto3's credential chain found none), "
        "CONFLUENT_CLOUD_API_KEY, CONFLUENT_CLOUD_API_SECRET, docker to build the app image (or E2E_APP_IMAGE, a pushed image)"
    ]


def test_only_what_is_missing_is_named():
    which = {"pulumi": "/usr/bin/pulumi", "docker": None}.get
    environ = {"CONFLUENT_CLOUD_API_KEY": "k", "CONFLUENT_CLOUD_API_SECRET": "s"}
    assert throwaway.missing_prerequisites(environ, {}, which, lambda: object()) == [
        "docker to build the app image (or E2E_APP_IMAGE, a pushed image)"]
    assert throwaway.missing_prerequisites({**environ, "E2E_APP_IMAGE": "r/app:1"}, {}, which, lambda: object()) == []
    assert throwaway.missing_prerequisites(environ, {}, which, lambda: None) == [
        "AWS credentials (boto3's credential chain found none)", "docker to build the app image (or E2E_APP_IMAGE, a pushed image)"]


def test_main_skips_before_touching_anything(capsys, monkeypatch):
    monkeypatch.setattr(throwaway.shutil, "which", lambda name: None)
    assert main([], environ={}) == 0
    assert capsys.readouterr().out.startswith("e2e skipped: missing the pulumi CLI on PATH")


def test_stack_names_are_unique_and_short_enough_for_every_name_derived_from_them():
    names = {throwaway.unique_name() for _ in range(50)}
    assert len(names) == 50
    assert all(len(name) <= 15 and name.startswith("e2e-") for name in names)


def test_the_callers_address_is_detected_as_the_preflight_does_or_given():
    detected = lambda: Address(ipaddress.IPv4Address("203.0.113.42"))  # noqa: E731
    assert throwaway.caller_cidrs({}, detected) == ["203.0.113.42/32"]
    unknown = lambda: Address(None, "https://checkip.amazonaws.com did not answer: ConnectTimeout")  # noqa: E731
    with pytest.raises(ValueError, match=r"address is unknown \(https://checkip.amazonaws.com did not answer: "
                                         r"ConnectTimeout\); set E2E_CALLER_CIDRS"):
        throwaway.caller_cidrs({}, unknown)
    given = {"E2E_CALLER_CIDRS": "198.51.100.0/28, 192.0.2.9/32"}
    assert throwaway.caller_cidrs(given, unknown) == ["198.51.100.0/28", "192.0.2.9/32"]
    with pytest.raises(ValueError, match=r"E2E_CALLER_CIDRS: expected IPv4 CIDRs .*got '0.0.0.0/0'"):
        throwaway.caller_cidrs({"E2E_CALLER_CIDRS": "0.0.0.0/0"}, unknown)
    with pytest.raises(ValueError, match=r"got '10.0.0.1/8'"):
        throwaway.caller_cidrs({"E2E_CALLER_CIDRS": "10.0.0.1/8"}, unknown)


def test_what_the_preflight_refuses_stops_the_run_before_anything_is_created(capsys, monkeypatch):
    monkeypatch.setattr(throwaway, "missing_prerequisites", lambda environ, config: [])
    refusal = Finding(FAIL, "Pulumi CLI", "v3.100.0 at /usr/bin/pulumi is older than v3.207.0")
    monkeypatch.setattr(throwaway, "preflight_problems", lambda environ, config: [refusal])
    monkeypatch.setattr(throwaway, "unique_name", lambda: pytest.fail("a stack name was made"))
    assert main([], environ={"CONFLUENT_CLOUD_API_KEY": "k", "CONFLUENT_CLOUD_API_SECRET": "s"}) == 1
    assert capsys.readouterr().out == "e2e: not started, the preflight refuses:\n" + refusal.line + "\n"


def test_the_default_backend_is_a_new_local_folder_with_a_generated_passphrase():
    store = throwaway.backend({}, NAME)
    try:
        assert store.url == f"file://{store.folder / 'state'}" and (store.folder / "state").is_dir()
        passphrase = Path(store.env_vars["PULUMI_CONFIG_PASSPHRASE_FILE"])
        assert len(passphrase.read_text()) >= 40 and stat.S_IMODE(passphrase.stat().st_mode) == 0o600
        other = throwaway.backend({}, NAME)
        assert other.folder != store.folder and other.env_vars != store.env_vars
        given = throwaway.backend({"PULUMI_BACKEND_URL": "s3://bucket/state", "PULUMI_CONFIG_PASSPHRASE": "x"}, NAME)
        assert given.env_vars == {"PULUMI_BACKEND_URL": "s3://bucket/state", "PULUMI_SKIP_UPDATE_CHECK": "true"}
    finally:
        for folder in (store.folder, other.folder, given.folder):
            subprocess.run(["rm", "-rf", str(folder)], check=True)


def test_config_is_the_dev_stack_file_with_this_runs_access_and_image():
    base = throwaway.base_config()
    config = throwaway.stack_config(base, ["203.0.113.42/32"], "registry.example/app:1.2")
    assert base["fraud-detection:eksPublicAccessCidrs"] != ["203.0.113.42/32"]
    assert config["fraud-detection:appImage"] == "registry.example/app:1.2"
    assert {k: v for k, v in config.items() if k in base and "Cidrs" not in k} == {k: v for k, v in base.items() if "Cidrs" not in k}
    values = throwaway.config_values(config)
    assert values["fraud-detection:eksPublicAccessCidrs[0]"].value == "203.0.113.42/32"
    assert "fraud-detection:eksPublicAccessCidrs" not in values
    assert not any(v.secret for v in values.values())


def test_an_interrupted_run_is_still_torn_down_and_never_reported_as_passed(world):
    def interrupted(*_args):
        def ctrl_c():
            raise KeyboardInterrupt()
        return [("the user waits", ctrl_c)]

    proof, created = build(world, checks=interrupted)
    with pytest.raises(KeyboardInterrupt):
        proof.run()
    text = "\n".join(world.lines)
    assert created[0].calls == ["up", "destroy"] and world.workspace.stacks == {}
    assert "PASSED" not in text and "interrupted: KeyboardInterrupt" in text
