"""Runs the real rendered Oracle boot script with bash against fake aws, docker, curl, dnf, systemctl and sleep.

Only the five host paths the script writes to (the serial console among them) are moved into a temporary
directory; everything else is the script as EC2 would run it. The fakes record their command lines, what
sqlplus reads on stdin, the status the script reports and how long it would have slept, so the tests see the
order of steps, where passwords travel, how AWS calls are retried and what a failure reports. The fake aws
can fail its first calls, as it does while an instance role is not usable yet.
"""
from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.oracle_db import app_schema_value, render_user_data
from components.oracle_readiness import CONSOLE_HEADER, console_failure
from tests.oracle_boot import boot_config

INSTANCE_ID = "i-0fake0fake0fake0"
PASSWORDS = {
    "/t/oracle/sys-password": "SysPw_4x9Q",
    "/t/oracle/app-password": "AppPw_7k2L",
    "/t/oracle/cdc-admin-password": "AdminPw_3m8R",
    "/t/oracle/cdc-connect-password": "ConnectPw_5n1T",
}
APP_SCHEMA_PARAMETER = "/t/oracle/app-schema-sql"
# What identifies each SQL script on sqlplus's stdin, in the order the boot script must run them.
SQL_MARKERS = {
    "cdb_settings": "enable_goldengate_replication",
    "log_mode": "SELECT log_mode",
    "enable_archivelog": "ALTER DATABASE ARCHIVELOG",
    "pdb_and_logging": "SUPPLEMENTAL LOG DATA",
    "users": "DBMS_XSTREAM_AUTH",
    "app_schema": "DJANGO_MIGRATIONS",
    "outbound": "CREATE_OUTBOUND",
}

FAKES = {
    "aws": r"""#!/bin/bash
echo "aws $*" >>"$FAKE_STATE/aws.args"
ACTION=$2
CALLS=$(wc -l <"$FAKE_STATE/aws.args")
if [ "$CALLS" -le "${FAKE_AWS_FAILURES:-0}" ]; then
  echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2
  exit 253
fi
if [ "$ACTION" = put-parameter ]; then
  echo put >>"$FAKE_STATE/puts"
  if [ "$(wc -l <"$FAKE_STATE/puts")" -le "${FAKE_PUT_FAILURES:-0}" ]; then
    echo "An error occurred (AccessDeniedException) when calling the PutParameter operation" >&2
    exit 254
  fi
fi
NAME=""; VALUE=""
while [ "$#" -gt 0 ]; do
  case "$1" in --name) NAME=$2; shift ;; --value) VALUE=$2; shift ;; esac
  shift
done
case "$ACTION" in
  get-parameter) grep -F "$NAME=" "$FAKE_STATE/secrets" | cut -d= -f2- ;;
  put-parameter) printf '%s' "$VALUE" >"$FAKE_STATE/status" ;;
  *) exit 2 ;;
esac
""",
    "curl": r"""#!/bin/bash
case "$*" in *api/token*) echo fake-token ;; *instance-id*) echo "$FAKE_INSTANCE_ID" ;; *) exit 22 ;; esac
""",
    "docker": r"""#!/bin/bash
echo "docker $*" >>"$FAKE_STATE/docker.args"
case "$1" in
  container) [ -f "$FAKE_STATE/container" ]; exit ;;
  run) printf '%s' "${ORACLE_PWD:-}" >"$FAKE_STATE/oracle_pwd"; touch "$FAKE_STATE/container" ;;
  inspect) echo healthy ;;
  exec)
    if [ "$2" = -i ]; then
      INPUT=$(cat)
      COUNT=$(find "$FAKE_STATE" -name 'sql.*' | wc -l)
      printf '%s\n' "$INPUT" >"$FAKE_STATE/sql.$COUNT"
      if [ -n "${FAKE_FAIL_ON:-}" ] && grep -q "$FAKE_FAIL_ON" <<<"$INPUT"; then
        echo "$FAKE_FAIL_OUTPUT"
        exit "$FAKE_FAIL_CODE"
      fi
      if grep -q "SELECT log_mode" <<<"$INPUT"; then echo "$FAKE_LOG_MODE"; fi
    fi ;;
esac
exit 0
""",
    "dnf": "#!/bin/bash\necho \"dnf $*\" >>\"$FAKE_STATE/dnf.args\"\n",
    "systemctl": "#!/bin/bash\necho \"systemctl $*\" >>\"$FAKE_STATE/systemctl.args\"\n",
    "sleep": "#!/bin/bash\necho \"$1\" >>\"$FAKE_STATE/sleeps\"\n",  # records the wait instead of waiting
}


@dataclass
class Run:
    returncode: int
    root: Path
    state: Path
    stderr: str

    def read(self, name: str) -> str:
        path = self.state / name
        return path.read_text() if path.exists() else ""

    @property
    def log(self) -> str:
        return (self.root / "oracle-setup.log").read_text()

    @property
    def status(self) -> str:
        return self.read("status")

    @property
    def console(self) -> str:
        path = self.root / "console"
        return path.read_text() if path.exists() else ""

    @property
    def sleeps(self) -> list[int]:
        return [int(line) for line in self.read("sleeps").split()]

    def sql_inputs(self) -> list[str]:
        count = len(list(self.state.glob("sql.*")))
        return [self.read(f"sql.{index}") for index in range(count)]

    def sql_order(self) -> list[str]:
        return [
            next(stem for stem, marker in SQL_MARKERS.items() if marker in text) for text in self.sql_inputs()
        ]


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "host"
    state = tmp_path / "state"
    bin_dir = tmp_path / "bin"
    for directory in (root / "sbin", root / "systemd", state, bin_dir):
        directory.mkdir(parents=True)
    for name, body in FAKES.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    parameters = {**PASSWORDS, APP_SCHEMA_PARAMETER: app_schema_value("SAMPLE")}
    (state / "secrets").write_text("".join(f"{name}={value}\n" for name, value in parameters.items()))
    user_data = render_user_data(boot_config())
    for host_path, local in (
        ("/var/log/oracle-setup.log", root / "oracle-setup.log"),
        ("/opt/oracle-setup", root / "setup"),
        ("/usr/local/sbin/", f"{root / 'sbin'}/"),
        ("/etc/systemd/system/", f"{root / 'systemd'}/"),
        ("/dev/console", root / "console"),
    ):
        assert host_path in user_data
        user_data = user_data.replace(host_path, str(local))
    (state / "aws.args").touch()
    script = tmp_path / "user_data.sh"
    script.write_text(user_data)

    def run(log_mode: str = "NOARCHIVELOG", fail_on: str = "", fail_output: str = "", fail_code: int = 0,
            aws_failures: int = 0, put_failures: int = 0) -> Run:
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "FAKE_STATE": str(state),
            "FAKE_INSTANCE_ID": INSTANCE_ID,
            "FAKE_LOG_MODE": log_mode,
            "FAKE_FAIL_ON": fail_on,
            "FAKE_FAIL_OUTPUT": fail_output,
            "FAKE_FAIL_CODE": str(fail_code),
            "FAKE_AWS_FAILURES": str(aws_failures),
            "FAKE_PUT_FAILURES": str(put_failures),
        }
        done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
        return Run(done.returncode, root, state, done.stderr)

    return run


def test_fresh_host_runs_every_step_in_order_and_reports_ready(host):
    run = host()
    assert run.returncode == 0, run.log
    assert run.status == f"{INSTANCE_ID} ready"
    assert run.sql_order() == list(SQL_MARKERS)
    assert "docker run --detach --name oracle-xe --restart unless-stopped" in run.read("docker.args")
    assert "docker exec oracle-xe mkdir -p /opt/oracle/oradata/fast_recovery_area" in run.read("docker.args")
    assert "systemctl enable --now oracle-archivelog-cleanup.timer" in run.read("systemctl.args")
    cleanup = run.root / "sbin" / "oracle-archivelog-cleanup"
    assert os.access(cleanup, os.X_OK)
    assert subprocess.run(["bash", "-n", str(cleanup)]).returncode == 0
    assert "COMPLETED BEFORE 'SYSDATE - 24/24'" in cleanup.read_text()
    assert (run.root / "systemd" / "oracle-archivelog-cleanup.timer").exists()


def test_passwords_travel_only_on_stdin_and_in_the_container_environment(host):
    run = host()
    assert run.returncode == 0, run.log
    users, app_schema, outbound = run.sql_inputs()[4:7]
    assert users.splitlines()[:3] == [
        f'DEFINE cdc_admin_password = "{PASSWORDS["/t/oracle/cdc-admin-password"]}"',
        f'DEFINE cdc_connect_password = "{PASSWORDS["/t/oracle/cdc-connect-password"]}"',
        f'DEFINE app_password = "{PASSWORDS["/t/oracle/app-password"]}"',
    ]
    assert users.splitlines()[3] == "WHENEVER SQLERROR EXIT SQL.SQLCODE"
    assert outbound.splitlines()[0] == f'DEFINE cdc_admin_password = "{PASSWORDS["/t/oracle/cdc-admin-password"]}"'
    # The app's tables are created as the app's own user, in the PDB, as Django would.
    assert app_schema.splitlines()[0] == f'DEFINE app_password = "{PASSWORDS["/t/oracle/app-password"]}"'
    assert 'CONNECT SAMPLE/"&app_password"@//localhost:1521/XEPDB1' in app_schema.splitlines()
    assert run.read("oracle_pwd") == PASSWORDS["/t/oracle/sys-password"]
    for password in PASSWORDS.values():
        for record in (run.log, run.read("docker.args"), run.read("aws.args"), run.status, run.stderr):
            assert password not in record
    assert "--with-decryption" in run.read("aws.args")


def test_archivelog_mode_is_switched_only_when_off(host):
    run = host(log_mode="ARCHIVELOG")
    assert run.returncode == 0, run.log
    assert "enable_archivelog" not in run.sql_order()
    assert run.status == f"{INSTANCE_ID} ready"


def test_second_run_keeps_the_container_and_converges(host):
    assert host().returncode == 0
    again = host(log_mode="ARCHIVELOG")
    assert again.returncode == 0, again.log
    assert again.read("docker.args").count("docker run ") == 1
    assert again.read("docker.args").count("docker pull ") == 1
    assert again.status == f"{INSTANCE_ID} ready"


def test_an_ora_error_that_sqlplus_did_not_exit_on_still_fails_the_boot(host):
    run = host(fail_on="DBMS_XSTREAM_AUTH", fail_output="ORA-01031: insufficient privileges", fail_code=0)
    assert run.returncode != 0
    assert run.status.startswith(f"{INSTANCE_ID} failed: ")
    assert "ORA-01031: insufficient privileges" in run.status
    assert "users.sql: error in output" in run.status
    assert "outbound" not in run.sql_order()
    assert "ready" not in run.read("aws.args").replace("already", "")


def test_sqlplus_exit_code_fails_the_boot(host):
    run = host(fail_on="CREATE_OUTBOUND", fail_output="ORA-26723: missing privileges", fail_code=211)
    assert run.returncode != 0
    assert run.status.startswith(f"{INSTANCE_ID} failed: ")
    assert "outbound.sql: sqlplus failed" in run.status


def test_an_sp2_error_in_the_log_mode_query_fails_the_boot(host):
    run = host(fail_on="SELECT log_mode", fail_output="SP2-0640: Not connected", fail_code=0)
    assert run.returncode != 0
    assert "SP2-0640: Not connected" in run.status
    assert run.sql_order() == ["cdb_settings", "log_mode"]


def test_failure_report_fits_an_ssm_parameter(host):
    run = host(fail_on="DBMS_XSTREAM_AUTH", fail_output="ORA-01031: insufficient privileges\n" * 400)
    assert run.returncode != 0
    assert len(run.status) <= 4096
    assert "users.sql: error in output" in run.status
    assert "FAILED at line" in run.status.splitlines()[-1]  # the newest lines are kept, not the oldest


# --- AWS calls while the instance role is not usable, and failures that cannot be reported ---------------------------

BACKOFF = [2, 4, 8, 16, 32, 60, 60]  # between the 8 attempts of one call


def test_aws_calls_are_retried_with_backoff_until_the_role_works(host):
    run = host(aws_failures=3)
    assert run.returncode == 0, run.log
    assert run.status == f"{INSTANCE_ID} ready"
    assert run.sleeps[:3] == [2, 4, 8]  # the first password read failed three times, then worked
    assert run.log.count("attempt 1 failed: aws ssm get-parameter") == 1
    assert "Unable to locate credentials" in run.log
    assert run.sql_order() == list(SQL_MARKERS) and run.console == ""
    for password in PASSWORDS.values():
        assert password not in run.log and password not in run.read("aws.args")


def test_a_role_that_never_works_is_still_reported_on_the_console(host):
    run = host(aws_failures=10_000)
    assert run.returncode != 0
    assert run.status == ""  # nothing could be written to the parameter
    assert run.sleeps == BACKOFF + BACKOFF  # the first password read, then the failure report: bounded, not endless
    assert run.sql_order() == []  # no step ran without its passwords
    assert run.console.startswith(CONSOLE_HEADER)
    report = console_failure(run.console)  # what the readiness gate reads from the console
    assert "gave up after 8 attempts: aws ssm get-parameter" in report
    assert "FAILED at line" in report.splitlines()[-1]
    assert "could not report the failure" in run.log


def test_a_report_that_fails_once_is_retried(host):
    run = host(fail_on="DBMS_XSTREAM_AUTH", fail_output="ORA-01031: insufficient privileges", put_failures=1)
    assert run.returncode != 0
    assert run.status.startswith(f"{INSTANCE_ID} failed: ") and "ORA-01031: insufficient privileges" in run.status
    assert run.read("aws.args").count("put-parameter") == 2 and run.sleeps == [2]
    assert "ORA-01031: insufficient privileges" in console_failure(run.console)


def test_a_failure_is_reported_once_even_inside_a_command_substitution(host):
    run = host(log_mode="ARCHIVELOG", fail_on="SELECT log_mode", fail_output="SP2-0640: Not connected")
    assert run.returncode != 0
    assert run.read("aws.args").count("put-parameter") == 1
    assert run.console.count(CONSOLE_HEADER) == 1 and run.log.count("FAILED at line") == 1
