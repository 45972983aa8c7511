"""`python -m preflight --stack dev [--for up|destroy]`: what stops `pulumi up`/`destroy`, before it starts.

Prints one line per check (ok, warn, FAIL with what to run or set) and exits 1 when any check fails.
`PREFLIGHT=skip` skips every check and says so.
"""
from __future__ import annotations

import argparse
import os
import sys

from preflight.report import problems
from preflight.run import PURPOSES, run_checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="the stack, read from Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--for", dest="purpose", choices=PURPOSES, default="up", help="what runs next (default: up)")
    args = parser.parse_args(argv)

    switch = os.environ.get("PREFLIGHT", "")
    if switch == "skip":
        print(f"preflight skipped (PREFLIGHT=skip): pulumi {args.purpose} of stack {args.stack} starts unchecked")
        return 0
    if switch:
        print(f"PREFLIGHT={switch} is not understood (only PREFLIGHT=skip is): running the checks")

    print(f"preflight for pulumi {args.purpose} of stack {args.stack}:")
    findings = run_checks(args.stack, args.purpose)
    for finding in findings:
        print(f"  {finding.line}")
    failed = problems(findings)
    if failed:
        print(f"{len(failed)} problem(s): fix them and run it again (PREFLIGHT=skip skips these checks)")
        return 1
    print("preflight passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
