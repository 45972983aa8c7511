"""`make demo`: the whole fraud pipeline on this machine, no cloud.

The web app runs on SQLite with its local change feed on (LOCAL_CDC_FEED), the statements in flink/
run continuously on local Apache Flink reading that feed, and what they flag is shown on the page
(LOCAL_FLINK_RESULTS). Ctrl-C or SIGTERM stops everything this command started.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
# PyFlink lives in its own virtualenv (requirements-flink.txt: its pins conflict with pulumi's).
FLINK_PYTHON = ROOT / ".venv-flink" / "bin" / "python"
STOP_GRACE_SECONDS = 10


class Demo:
    """The processes of one demo run, each in its own session so one signal stops it and its children."""

    def __init__(self, workdir: Path, port: int, users: int, flink_python: Path = FLINK_PYTHON):
        self.workdir, self.port, self.users, self.flink_python = workdir, port, users, flink_python
        self.feed, self.results = workdir / "feed", workdir / "results"
        self.env = {
            **os.environ,
            "SQLITE_PATH": str(workdir / "db.sqlite3"),
            "LOCAL_CDC_FEED": str(self.feed),
            "LOCAL_FLINK_RESULTS": str(self.results),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("ORACLE_HOST", None)
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, str(APP / "manage.py"), *args], cwd=ROOT, env=self.env, check=True)

    def prepare(self) -> None:
        """Database, static files, customers, then the snapshot of what exists (as the CDC connector does)."""
        self.feed.mkdir(parents=True, exist_ok=True)
        self.results.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage("seed", "--users", str(self.users))
        self.manage("cdc_snapshot")

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def start_all(self) -> None:
        from localdemo.streaming import command as flink_command

        if not self.flink_python.exists():
            raise RuntimeError(f"no {self.flink_python}: create it with `make flink-venv` (requirements-flink.txt)")
        self.start("flink", flink_command(self.flink_python, self.feed, self.results))
        self.start("web", [sys.executable, str(APP / "manage.py"), "runserver", f"127.0.0.1:{self.port}",
                           "--noreload", "--skip-checks"])

    def wait_until_serving(self, timeout: float = 180) -> None:
        """The web app answers and the Flink jobs run (the JVM's start dominates)."""
        deadline = time.monotonic() + timeout
        web = False
        while time.monotonic() < deadline:
            self.check_alive()
            if not web:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                        web = True
                except OSError:
                    pass
            if web and (self.results / "flink.ready").exists():
                return
            time.sleep(0.3)
        waiting = "the Flink jobs" if web else f"the web app on port {self.port}"
        raise RuntimeError(f"{waiting} did not come up within {timeout:.0f} s")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.workdir / (name + '.log')}")

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL what is still there after the grace period, reap all."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in self.processes.values():
            _signal_group(process, signal.SIGKILL)  # also reaches children left behind by a leader that exited
            process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdemo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--users", type=int, default=200, help="demo customers to seed (default 200)")
    parser.add_argument("--workdir", type=Path, help="where the database, feed, results and logs go (default: a new temp dir)")
    parser.add_argument("--flink-python", type=Path, default=FLINK_PYTHON, help=f"Python with PyFlink (default {FLINK_PYTHON})")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fraud-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    demo = Demo(workdir.resolve(), args.port, args.users, args.flink_python.absolute())

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    code = 0
    try:
        demo.prepare()
        demo.start_all()
        demo.wait_until_serving()
        print(f"demo running: http://127.0.0.1:{args.port}/ (logs and data in {workdir}); Ctrl-C stops it", flush=True)
        while not stopping:
            demo.check_alive()
            time.sleep(0.5)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"demo failed: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        demo.stop()
        print("demo stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
