"""OracleReadiness: holds `pulumi up` until the Oracle host says XStream is set up, or says why not.

The instance's boot script writes ``<instance-id> ready`` or ``<instance-id> failed: <log tail>`` to an SSM
parameter the stack created with the value ``pending``. The instance id in the value matters: after the
instance is replaced, the old host's ``ready`` is still there and must not be taken for the new host's.
The gate's inputs carry the instance id, so a replaced instance gets a new gate that waits again; a gate
created again after a failure reports the same failure at once instead of waiting out the timeout.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

READY = "ready"
FAILED = "failed"
PENDING = "pending"
# Inputs whose change means a different host (or a different place to look): wait again.
REPLACING_INPUTS = ("instance_id", "parameter_name", "region")


class OracleNotReady(Exception):
    """The database host failed its setup or did not finish in time."""


def parse_status(value: str, instance_id: str) -> tuple[str, str]:
    """(state, detail) of a status value for this instance; another instance's status counts as pending."""
    owner, _, report = value.partition(" ")
    if owner != instance_id:
        return PENDING, ""
    if report == READY:
        return READY, ""
    if report.startswith(f"{FAILED}:"):
        return FAILED, report[len(FAILED) + 1 :].strip()
    return PENDING, report


def wait_for_ready(
    ssm: Any,
    parameter_name: str,
    instance_id: str,
    timeout_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll the status parameter until this instance reports ready; raise OracleNotReady on failure or timeout."""
    deadline = clock() + timeout_seconds
    last_value = "<not read yet>"
    while True:
        try:
            last_value = ssm.get_parameter(Name=parameter_name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            last_value = "<parameter missing>"
        state, detail = parse_status(last_value, instance_id)
        if state == READY:
            return READY
        if state == FAILED:
            raise OracleNotReady(
                f"Oracle setup failed on {instance_id} (full log: /var/log/oracle-setup.log, reach the host with "
                f"`aws ssm start-session --target {instance_id}`). Last lines of the log:\n{detail}"
            )
        if clock() >= deadline:
            raise OracleNotReady(
                f"Oracle on {instance_id} did not report ready within {timeout_seconds / 60:g} minutes "
                f"(oracleReadyTimeoutMinutes); last value of {parameter_name}: {last_value!r}. Inspect "
                f"/var/log/oracle-setup.log on the host (`aws ssm start-session --target {instance_id}`)."
            )
        sleep(min(poll_seconds, max(deadline - clock(), 0)))


class OracleReadyProvider(ResourceProvider):
    """Dynamic provider of the gate; builds its boto3 client per call so it pickles without one."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        import boto3

        status = wait_for_ready(
            boto3.client("ssm", region_name=props["region"]),
            props["parameter_name"],
            props["instance_id"],
            float(props["timeout_seconds"]),
            float(props["poll_seconds"]),
        )
        return CreateResult(id_=f"{props['instance_id']}-ready", outs={**props, "status": status})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACING_INPUTS if olds.get(key) != news.get(key)]
        tunables = [key for key in ("timeout_seconds", "poll_seconds") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(replaces or tunables), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Only the timeout or poll interval changed: the same host is already ready.
        return UpdateResult(outs={**news, "status": olds.get("status", READY)})


class OracleReadiness(pulumi.dynamic.Resource):
    """Created once the instance reports ``ready``; later components ``depends_on`` it."""

    status: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        instance_id: pulumi.Input[str],
        parameter_name: pulumi.Input[str],
        region: pulumi.Input[str],
        timeout_seconds: int,
        poll_seconds: int = 15,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(
            OracleReadyProvider(),
            name,
            {
                "instance_id": instance_id,
                "parameter_name": parameter_name,
                "region": region,
                "timeout_seconds": timeout_seconds,
                "poll_seconds": poll_seconds,
                "status": None,
            },
            opts,
        )
