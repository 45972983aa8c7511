"""What tests that drive real programs (a browser, Flink, PostgreSQL) share: the rule for a missing program
and a free port on loopback."""
from __future__ import annotations

import os
import socket

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
