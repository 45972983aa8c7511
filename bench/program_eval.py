"""Time to evaluate the whole Pulumi program under mocks (target: under 3 s per stack).

Usage: .venv/bin/python bench/program_eval.py [--stack dev] [--runs 5]
Prints the first (cold: imports included) run and the median of the warm runs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 3.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    from mockcloud import run_program

    program = run_program(args.stack)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(args.runs):
        started = time.perf_counter()
        run_program(args.stack)
        warm.append(time.perf_counter() - started)
    median = statistics.median(warm)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"stack {args.stack}: {len(program.resources)} resources, {len(program.invokes)} invokes")
    print(f"cold run (imports included): {cold:.2f} s")
    print(f"median of {args.runs} warm runs: {median:.2f} s (min {min(warm):.2f}, max {max(warm):.2f})")
    print(f"target < {TARGET_SECONDS:.0f} s: {'met' if median < TARGET_SECONDS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
