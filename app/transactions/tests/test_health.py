"""GET /healthz on SQLite, on an unreachable Oracle, and with probe-style Host headers."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection

APP_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_ok_on_sqlite(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_kubelet_probe_host_header_is_accepted(client):
    """Probes send the pod IP as Host; the page itself still rejects unknown hosts."""
    assert client.get("/healthz", HTTP_HOST="10.0.12.34:8000").status_code == 200
    assert client.get("/", HTTP_HOST="10.0.12.34:8000").status_code == 400


@pytest.mark.django_db
def test_503_with_error_class_when_the_database_fails(client):
    with mock.patch.object(connection, "ensure_connection", side_effect=OperationalError("password=hunter2 refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "error": "OperationalError"}
    assert b"hunter2" not in response.content


@pytest.mark.django_db
def test_only_get(client):
    response = client.post("/healthz")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


_HEALTH_ON_ORACLE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_unreachable_oracle_gives_503_without_secrets():
    """Oracle mode for real: python-oracledb thin mode connects (no Instant Client) and fails cleanly."""
    with socket.socket() as sock:  # a port on which nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environ = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(APP_DIR), "DJANGO_SETTINGS_MODULE": "frauddemo.settings",
        "ORACLE_HOST": "127.0.0.1", "ORACLE_PORT": str(port), "ORACLE_USER": "SAMPLE",
        "ORACLE_PASSWORD": "pw-must-not-leak", "DJANGO_SECRET_KEY": "k" * 50, "DJANGO_ALLOWED_HOSTS": "fraud.example.com",
    }
    result = subprocess.run([sys.executable, "-c", _HEALTH_ON_ORACLE], env=environ, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": 503, "body": {"status": "error", "error": "OperationalError"}}
    assert "pw-must-not-leak" not in result.stdout + result.stderr
    assert "health check failed: OperationalError" in result.stdout  # logged to stdout
