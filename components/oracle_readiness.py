"""OracleReadiness: holds `pulumi up` until the Oracle host says XStream is set up, or says why not.

The instance's boot script writes ``<instance-id> ready`` or ``<instance-id> failed: <log tail>`` to an SSM
parameter the stack created with the value ``pending``. The instance id in the value matters: after the
instance is replaced, the old host's ``ready`` is still there and must not be taken for the new host's.
The gate's inputs carry the instance id, so a replaced instance gets a new gate that waits again; a gate
created again after a failure reports the same failure at once instead of waiting out the timeout.

A failure must be seen even when the parameter cannot be written, e.g. while the instance role is not usable
yet or at all (the host retries every AWS call, but not forever). So the boot script also writes its failure
report to the instance's serial console, and the gate reads that through EC2 GetConsoleOutput with
``Latest=True`` (the newest output at any time, on Nitro instance types:
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html, read 2026-12-01). The console
needs nothing from the instance role. A heartbeat or the instance status checks would not do: a heartbeat needs
the same parameter that cannot be written, and the status checks see the machine, not the boot script. Success
still comes only from the parameter.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, UpdateResult

from components.dynamic_provider import NotYet, StackProvider, aws_client, keep_trying, log_tail

READY = "ready"
FAILED = "failed"
PENDING = "pending"
# Lines of the boot script's failure report on the serial console (user_data.sh renders them from here):
# a header, the log tail with each line behind CONSOLE_LINE, an end line.
CONSOLE_MARKER = "oracle-setup"
CONSOLE_HEADER = f"{CONSOLE_MARKER}: failed"
CONSOLE_LINE = f"{CONSOLE_MARKER}| "
CONSOLE_END = f"{CONSOLE_MARKER}: end of report"


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


def console_failure(console: str) -> str | None:
    """The log tail of the last failure report on the console, or None when the console shows none."""
    lines = [line.rstrip("\r") for line in console.splitlines()]
    headers = [index for index, line in enumerate(lines) if line.startswith(CONSOLE_HEADER)]
    if not headers:
        return None
    report = []
    for line in lines[headers[-1] + 1 :]:
        if line.startswith(CONSOLE_END):
            break
        if line.startswith(CONSOLE_LINE):
            report.append(line[len(CONSOLE_LINE) :])
    return "\n".join(report)


def read_console(ec2: Any, instance_id: str) -> tuple[str | None, str]:
    """(failure report or None, a note when the console could not be read)."""
    try:
        output = ec2.get_console_output(InstanceId=instance_id, Latest=True).get("Output") or ""
    except ec2.exceptions.ClientError as error:
        return None, f"; the console could not be read: {error}"
    return console_failure(output), ""


def _failed(instance_id: str, where: str, detail: str) -> OracleNotReady:
    return OracleNotReady(
        f"Oracle setup failed on {instance_id} ({where}; full log: /var/log/oracle-setup.log, reach the host with "
        f"`aws ssm start-session --target {instance_id}`). Last lines of the log:\n{log_tail(detail)}"
    )


def wait_for_ready(
    ssm: Any,
    parameter_name: str,
    instance_id: str,
    timeout_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    ec2: Any = None,
) -> str:
    """Poll the status parameter (and, given ``ec2``, the console) until this instance reports ready; raise
    OracleNotReady as soon as either shows a failure, or at the timeout."""

    def attempt() -> str:
        try:
            value = ssm.get_parameter(Name=parameter_name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            value = "<parameter missing>"
        state, detail = parse_status(value, instance_id)
        if state == READY:
            return READY
        if state == FAILED:
            raise _failed(instance_id, f"reported to {parameter_name}", detail)
        note = ""
        if ec2 is not None:
            report, note = read_console(ec2, instance_id)
            if report is not None:
                raise _failed(instance_id, f"reported on the instance's console; {parameter_name} still says {value!r}", report)
        raise NotYet(f"last value of {parameter_name}: {value!r}{note}")

    def gave_up(latest: NotYet) -> OracleNotReady:
        return OracleNotReady(
            f"Oracle on {instance_id} did not report ready within {timeout_seconds / 60:g} minutes "
            f"(oracleReadyTimeoutMinutes); {latest}. Inspect /var/log/oracle-setup.log on the host "
            f"(`aws ssm start-session --target {instance_id}`)."
        )

    return keep_trying(attempt, timeout_seconds, poll_seconds, gave_up, sleep, clock)


class OracleReadyProvider(StackProvider):
    """Dynamic provider of the gate. Another host or place to look waits again; a new timeout or poll interval
    changes nothing (the same host is already ready)."""

    replacing = ("instance_id", "parameter_name", "region")
    updating = ("timeout_seconds", "poll_seconds")

    def create(self, props: dict[str, Any]) -> CreateResult:
        status = wait_for_ready(
            aws_client("ssm", props["region"]),
            props["parameter_name"],
            props["instance_id"],
            float(props["timeout_seconds"]),
            float(props["poll_seconds"]),
            ec2=aws_client("ec2", props["region"]),
        )
        return CreateResult(id_=f"{props['instance_id']}-ready", outs={**props, "status": status})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
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
