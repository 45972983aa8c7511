"""The image recipe (no Docker engine here: parsed) and the gunicorn command it runs (started for real)."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (APP_DIR / "Dockerfile").read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        result[-1].append(instruction)
    return result


def test_multi_stage_from_pinned_slim_python():
    froms = [args for name, args in instructions() if name == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS builder")
    for image in froms:
        assert re.fullmatch(r"python:3\.12-slim(-\w+)?( AS builder)?", image), image
    assert ":latest" not in (APP_DIR / "Dockerfile").read_text()


def test_wheels_built_in_builder_and_installed_offline_in_final_stage():
    builder, final = stages()
    assert any(name == "RUN" and "pip wheel" in args for name, args in builder)
    install = [args for name, args in final if name == "RUN" and "pip install" in args]
    assert len(install) == 1 and "--no-index" in install[0] and "from=builder" in install[0]
    final_runs = " ".join(args for name, args in final if name == "RUN")
    assert not re.search(r"apt-get|gcc|build-essential", final_runs)


def test_final_stage_collects_static_and_runs_as_uid_10001():
    _, final = stages()
    names = [name for name, _ in final]
    users = [args for name, args in final if name == "USER"]
    assert users == ["10001:10001"]
    collect = next(i for i, (name, args) in enumerate(final) if name == "RUN" and "collectstatic" in args)
    assert names.index("COPY") < collect < names.index("USER")  # collected as root, read-only for the app user
    assert ("EXPOSE", "8000") in final
    assert any(name == "RUN" and "useradd --uid 10001" in args for name, args in final)


def test_cmd_is_gunicorn_with_tmp_heartbeat_dir():
    _, final = stages()
    (cmd,) = [json.loads(args) for name, args in final if name == "CMD"]
    assert cmd[0] == "gunicorn" and cmd[-1] == "frauddemo.wsgi"
    assert cmd[cmd.index("--worker-tmp-dir") + 1] == "/tmp"
    assert cmd[cmd.index("--config") + 1] == "gunicorn.conf.py"
    assert (APP_DIR / "gunicorn.conf.py").exists()


def test_dockerignore_keeps_tests_and_local_data_out():
    ignored = (APP_DIR / ".dockerignore").read_text().split()
    assert {"**/tests", "*.sqlite3", "staticfiles", "**/__pycache__"} <= set(ignored)


def _gunicorn_config(environ: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--print-config",
                           "frauddemo.wsgi"], cwd=APP_DIR, env={"PATH": os.environ["PATH"], **environ},
                          capture_output=True, text=True, timeout=60)


def test_gunicorn_workers_from_env():
    default = _gunicorn_config({})
    assert default.returncode == 0, default.stderr
    assert re.search(r"^workers\s*=\s*2$", default.stdout, re.M)
    assert re.search(r"^worker_tmp_dir\s*=\s*/tmp$", default.stdout, re.M)
    assert re.search(r"^control_socket_disable\s*=\s*True$", default.stdout, re.M)
    assert re.search(r"^bind\s*=\s*\['0\.0\.0\.0:8000'\]$", default.stdout, re.M)
    assert re.search(r"^workers\s*=\s*5$", _gunicorn_config({"GUNICORN_WORKERS": "5"}).stdout, re.M)


@pytest.mark.parametrize("bad", ["0", "many", "-1", "100"])
def test_bad_gunicorn_workers(bad):
    result = _gunicorn_config({"GUNICORN_WORKERS": bad})
    assert result.returncode != 0
    assert "GUNICORN_WORKERS must be a whole number from 1 to 64" in result.stdout + result.stderr


def test_the_image_command_serves_the_app(tmp_path):
    """Run the CMD as written (bind moved to a free local port) against a migrated SQLite file."""
    environ = {"PATH": os.environ["PATH"], "SQLITE_PATH": str(tmp_path / "db.sqlite3"), "HOME": str(tmp_path)}
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=APP_DIR,
                             env=environ, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _, final = stages()
    (cmd,) = [json.loads(args) for name, args in final if name == "CMD"]
    command = [str(VENV_BIN / cmd[0]), *cmd[1:-1], "--bind", f"127.0.0.1:{port}", cmd[-1]]
    server = subprocess.Popen(command, cwd=APP_DIR, env={**environ, "GUNICORN_WORKERS": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and health is None:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        assert health is not None and health.status == 200
        assert json.load(health) == {"status": "ok"}
        api = urllib.request.urlopen(f"http://localhost:{port}/api/transactions", timeout=5)
        assert json.load(api) == {"transactions": []}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "GET /api/transactions" in output  # access log on stdout
    assert not (tmp_path / ".gunicorn").exists()  # no control socket
