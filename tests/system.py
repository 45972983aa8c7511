"""What tests that drive real programs (a browser, Flink, PostgreSQL) share: the rule for a missing program
and a free port on loopback."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest


def require(condition: bool, message: str) -> None:
    """Skip on a developer machine without the program; fail in CI (env CI set), which installs it."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider_class_in_a_fresh_interpreter(provider) -> str:
    """Serialize a dynamic provider the way Pulumi does and load it in a new Python: its class name there.

    The engine runs a dynamic provider in another process from its pickled form, so a provider that
    holds a client or a closure over unpicklable state fails only at deploy time; this fails it here."""
    import subprocess
    import sys

    from pulumi.dynamic.dynamic import serialize_provider

    loaded = subprocess.run(
        [sys.executable, "-c",
         "import base64, sys, dill; p = dill.loads(base64.b64decode(sys.stdin.read())); print(type(p).__name__)"],
        input=serialize_provider(provider), capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
    )
    assert loaded.returncode == 0, loaded.stderr
    return loaded.stdout.strip()
