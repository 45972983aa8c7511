"""Flink tests run on a real local Apache Flink in their own virtualenv (.venv-flink, see requirements-flink.txt).

Without Java or PyFlink they are skipped on a developer machine and fail in CI (env CI set).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "app"):  # scenarios is pure Python and importable with app/ on the path
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from tests.system import require  # noqa: E402  (needs ROOT on the path)


def missing_dependencies() -> list[str]:
    missing = []
    if importlib.util.find_spec("pyflink") is None:
        missing.append("PyFlink (make flink-venv, then run with .venv-flink/bin/python)")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing.append("Java 17 (java on PATH or JAVA_HOME)")
    return missing


@pytest.fixture(scope="session")
def local_flink():
    """The statements of flink/ ready to run locally; skip (or fail in CI) when Java or PyFlink is missing."""
    missing = missing_dependencies()
    require(not missing, "local Flink needs " + " and ".join(missing))
    from flink_local.runner import LocalFlink

    return LocalFlink()


def pytest_configure(config):
    # Deprecated APIs used inside PyFlink itself and inside httplib2 (imported through apache-beam); ours are
    # reported against our own modules and still show.
    config.addinivalue_line("filterwarnings", r"ignore::DeprecationWarning:(httplib2|pyflink)\.")
