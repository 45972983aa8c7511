"""The proof, in order: create and configure the stack; ``up`` with its timeline; the checks of the running
stack, stopping at the first that fails; diagnostics when ``up`` or a check failed; then, always (``finally``),
``destroy`` (tried twice), the stack's removal and the look for leftovers. The exit code is 0 only when every
check passed and nothing was left behind; a failed destroy keeps the state and says how to retry it."""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from pulumi import automation as auto

from e2e import diagnostics, leftovers, naming
from e2e.checks import (
    Warehouse,
    cluster_identifier,
    confluent_running,
    healthz,
    opensearch_flags,
    redshift_history,
)
from e2e.confluent import CloudApi, FlinkApi, organization_id
from e2e.scenarios import AppClient, Posted, post_all, wait_for_flags
from e2e.stack import Backend
from e2e.timeline import Timeline
from e2e.waiting import wait_until

CLOUD = "AWS"
CONNECTOR_OUTPUTS = ("cdcConnectorId", "redshiftSinkConnectorId", "opensearchSinkConnectorId")
ERROR_TAIL_LINES = 40


@dataclass(frozen=True)
class Patience:
    """How long each wait may take (seconds). The ALB's name needs minutes to resolve after ``up``; a managed
    connector reports RUNNING some minutes after it is created; the sinks write in batches."""

    healthz: float = 900.0
    confluent: float = 900.0
    flags: float = 900.0
    history: float = 900.0
    leftovers: float = 600.0
    poll: float = 10.0


@dataclass(frozen=True)
class AwsClients:
    ssm: Any
    tagging: Any
    ec2: Any
    elbv2: Any
    redshift_data: Any

    @classmethod
    def connect(cls, region: str, session=None) -> "AwsClients":
        import boto3

        session = session or boto3.Session(region_name=region)
        return cls(*(session.client(service, region_name=region)
                     for service in ("ssm", "resourcegroupstaggingapi", "ec2", "elbv2", "redshift-data")))


@dataclass(frozen=True)
class Clients:
    aws: AwsClients
    cloud: CloudApi
    http: requests.Session


Check = tuple[str, Callable[[], None]]


def stack_checks(outputs: dict, clients: Clients, region: str, patience: Patience) -> list[Check]:
    """The checks of a stack that came up, in the order they depend on each other."""
    app = AppClient(outputs["appUrl"], clients.http)
    posted: list[Posted] = []

    def flink() -> FlinkApi:
        environment = clients.cloud.environment(outputs["confluentEnvironmentId"])
        return FlinkApi(clients.cloud.flink_endpoint(CLOUD, region), organization_id(environment),
                        outputs["confluentEnvironmentId"], outputs["flinkApiKey"], outputs["flinkApiSecret"], clients.http)

    def flags():
        return opensearch_flags(clients.http, f"https://{outputs['opensearchEndpoint']}",
                                outputs["opensearchMasterUser"], outputs["opensearchMasterPassword"])

    warehouse = Warehouse(cluster_identifier(outputs["redshiftHost"]), outputs["redshiftDatabase"],
                          outputs["redshiftAdminUser"], outputs["redshiftSchema"])
    return [
        ("the app answers /healthz through the ALB", lambda: wait_until(
            healthz(clients.http, outputs["appUrl"]), "the app's /healthz", patience.healthz, patience.poll)),
        ("the three connectors and every Flink statement or materialized table run", lambda: wait_until(
            confluent_running(clients.cloud, flink(), outputs["confluentEnvironmentId"], outputs["kafkaClusterId"],
                              [outputs[name] for name in CONNECTOR_OUTPUTS]),
            "connectors RUNNING and Flink running", patience.confluent, patience.poll)),
        ("the four fraud scenarios are posted through the app's API", lambda: posted.extend(post_all(app))),
        # Nothing is written while waiting: each flag must come without a later transaction.
        ("OpenSearch holds their flags", lambda: wait_for_flags(flags, posted, patience.flags, patience.poll)),
        ("Redshift's history tables hold the posted transactions", lambda: wait_until(
            redshift_history(clients.aws.redshift_data, warehouse, posted), "the Redshift history", patience.history,
            patience.poll)),
    ]


def _tail(error: BaseException) -> str:
    return "\n".join(str(error).rstrip().splitlines()[-ERROR_TAIL_LINES:])


class Proof:
    def __init__(self, name: str, region: str, config: dict, open_stack: Callable[[], auto.Stack], clients: Clients,
                 timeline: Timeline, store: Backend, patience: Patience = Patience(),
                 checks: Callable[..., Sequence[Check]] = stack_checks, out: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.name, self.region, self.config = name, region, config
        self.open_stack, self.clients, self.timeline, self.store = open_stack, clients, timeline, store
        self.patience, self.checks, self.out, self.clock, self.sleep = patience, checks, out, clock, sleep
        self.failures: list[str] = []

    def run(self) -> int:
        try:
            stack = self.open_stack()
        except Exception as error:  # noqa: BLE001 - nothing exists yet: report and stop
            self.out(f"e2e: FAILED before anything was deployed: could not create stack {self.name}: {_tail(error)}")
            self.timeline.close()
            return 1
        outputs: dict = {}
        try:
            outputs = self.up(stack)
            if not self.failures:
                self.check(outputs)
            if self.failures:
                self.diagnose(outputs)
            else:
                self.record_cdc_schemas(outputs)
        except BaseException as error:  # e.g. Ctrl-C: still torn down below, and never reported as passed
            self.failures.append(f"interrupted: {type(error).__name__}: {error}")
            raise
        finally:
            vpc_ids = self.vpcs(outputs)
            destroyed = self.destroy(stack)
            if destroyed:
                self.remove(stack)
            left = self.leftovers(stack, vpc_ids, wait=destroyed)
            code = self.report(left, destroyed)
        return code

    def up(self, stack: auto.Stack) -> dict:
        self.out(f"e2e: pulumi up of stack {self.name} (backend {self.store.url})")
        try:
            result = stack.up(on_event=self.timeline.recorder("up"), on_output=self.out, color="never",
                              suppress_outputs=True)
        except auto.CommandError as error:
            self.failures.append(f"pulumi up failed:\n{_tail(error)}")
            try:
                return {key: output.value for key, output in stack.outputs().items()}
            except auto.CommandError:
                return {}
        return {key: output.value for key, output in result.outputs.items()}

    def check(self, outputs: dict) -> None:
        try:
            checks = self.checks(outputs, self.clients, self.region, self.patience)
        except KeyError as error:
            self.failures.append(f"the stack has no output {error}")
            return
        for title, run in checks:
            self.out(f"e2e: checking that {title}")
            try:
                run()
            except Exception as error:  # noqa: BLE001 - any failure of a check is reported as that check's
                self.failures.append(f"{title}: {error}")
                self.out(f"e2e: FAILED: {title}: {error}")
                return
            self.out(f"e2e: ok: {title}")

    def diagnose(self, outputs: dict) -> None:
        sections = diagnostics.collect(self.name, self.region, self.config, outputs, self.clients.aws,
                                       self.clients.cloud, self._flink_key(outputs))
        self.out("e2e: diagnostics\n" + diagnostics.render(sections))

    def record_cdc_schemas(self, outputs: dict) -> None:
        """A passing run still records how Flink sees the CDC topics (flink/README.md's open question)."""
        section = diagnostics.cdc_schemas(self.name, self.region, self.config, outputs, self.clients.cloud,
                                          self._flink_key(outputs))
        self.out(diagnostics.render([section]))

    def _flink_key(self, outputs: dict) -> tuple[str, str] | None:
        return (outputs["flinkApiKey"], outputs["flinkApiSecret"]) if outputs.get("flinkApiKey") else None

    def vpcs(self, outputs: dict) -> list[str]:
        found = {outputs["vpcId"]} if outputs.get("vpcId") else set()
        try:
            found |= set(leftovers.stack_vpcs(self.clients.aws.ec2, naming.aws_tags(self.name)))
        except Exception as error:  # noqa: BLE001 - the leftover check then says it could not look
            self.out(f"e2e: could not list the stack's VPCs before destroy: {error}")
        return sorted(found)

    def destroy(self, stack: auto.Stack) -> bool:
        for attempt in (1, 2):
            self.out(f"e2e: pulumi destroy of stack {self.name} (attempt {attempt})")
            try:
                stack.destroy(on_event=self.timeline.recorder("destroy"), on_output=self.out, color="never")
                return True
            except auto.CommandError as error:
                failure = _tail(error)
                self.out(f"e2e: destroy attempt {attempt} failed:\n{failure}")
        self.failures.append(f"pulumi destroy failed twice:\n{failure}")
        return False

    def remove(self, stack: auto.Stack) -> None:
        try:
            stack.workspace.remove_stack(self.name)
        except auto.CommandError as error:
            self.failures.append(f"pulumi stack rm {self.name} failed:\n{_tail(error)}")

    def leftovers(self, stack: auto.Stack, vpc_ids: list[str], wait: bool) -> list[str]:
        """What is left; after a good destroy, asked again until nothing is or the patience runs out (deleted
        resources stay listed for a while); after a failed one, asked once."""
        deadline = self.clock() + (self.patience.leftovers if wait else 0)
        while True:
            found = leftovers.find_all(self.clients.aws, self.clients.cloud, stack.workspace, self.name, vpc_ids)
            if not found or self.clock() >= deadline:
                return found
            self.sleep(min(self.patience.poll, max(0.0, deadline - self.clock())))

    def report(self, left: list[str], destroyed: bool) -> int:
        self.timeline.close()
        if left:
            self.out("e2e: LEFT BEHIND:\n" + "\n".join(f"  - {item}" for item in left))
        if not destroyed:
            self.out(f"e2e: the state is kept in {self.store.folder}; finish the teardown with:\n"
                     f"  {self.store.retry_hint(self.name)}")
        elif not left:
            shutil.rmtree(self.store.folder, ignore_errors=True)
        self.out(f"e2e: timeline in {self.timeline.path}")
        if self.failures or left:
            self.out("e2e: FAILED\n" + "\n".join(f"  - {failure}" for failure in self.failures))
            return 1
        self.out(f"e2e: PASSED: stack {self.name} came up, flagged the four scenarios and left nothing behind")
        return 0
