"""Wall time of the test suite without the Flink and browser tests (target: under 60 s).

Usage: .venv/bin/python bench/test_suite_time.py [extra pytest args]
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0


def main() -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-m", "not flink and not browser", *sys.argv[1:]]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    summary = [line for line in result.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
    print(f"command: {' '.join(command[1:])}")
    print(f"pytest result: {summary[0]} (exit {result.returncode})")
    print(f"wall time: {elapsed:.1f} s; target < {TARGET_SECONDS:.0f} s: {'met' if elapsed < TARGET_SECONDS else 'MISSED'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
