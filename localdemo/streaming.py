"""The demo's Flink process: the statements of flink/ running continuously on the app's change feed.

Reuses the Flink engineer's runner (``flink_local.runner.LocalFlink.start``) as it is: the CDC sources watch
``<feed>/<TABLE>/`` for new files and the flagged tables come back as changelogs. This process keeps the
current content of each flagged table (rows of an append table, latest row per key of an upsert table) and
rewrites ``<results>/<kind>/current.json`` atomically after each change, which the app's flags endpoint
reads. ``<results>/flink.ready`` appears once the jobs run. SIGTERM ends the process (and with it the local
Flink cluster, which lives in its JVM child).

    python -m localdemo.streaming --feed DIR --results DIR
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

# The runner's table -> the kind the app's panel shows (transactions.local_flags.KINDS).
KINDS = {"flagged_user": "flagged_users", "flagged_transaction": "flagged_transactions"}


def command(python: Path, feed: Path, results: Path) -> list[str]:
    """How the demo starts this process, with the Python that has PyFlink (the .venv-flink virtualenv)."""
    return [str(python), "-m", "localdemo.streaming", "--feed", str(feed), "--results", str(results)]


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class TableMirror:
    """The current rows of one flagged table, written as one JSON-lines file replaced atomically."""

    def __init__(self, path: Path, key: tuple[str, ...]):
        self.path, self.key = path, key
        self.rows: dict[tuple, dict] = {}
        self.count = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.write()

    def apply(self, kind: str, row: dict) -> None:
        row = {name: _plain(value) for name, value in row.items()}
        identity = tuple(row[column] for column in self.key) if self.key else (self.count,)
        self.count += 1
        if kind in ("+I", "+U"):
            self.rows[identity] = row
        elif self.key:
            self.rows.pop(identity, None)
        self.write()

    def write(self) -> None:
        hidden = self.path.with_name(f".{self.path.name}.tmp")
        hidden.write_text("".join(json.dumps(row) + "\n" for row in self.rows.values()))
        os.replace(hidden, self.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdemo.streaming")
    parser.add_argument("--feed", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--monitor-interval", default="200 ms", help="how often the sources look for new files")
    args = parser.parse_args(argv)

    from flink_local.runner import LocalFlink

    flink = LocalFlink()
    running = flink.start(args.feed, tuple(KINDS), monitor_interval=args.monitor_interval)
    failures: list[BaseException] = []
    done = threading.Event()

    def follow(name: str, changes) -> None:
        mirror = TableMirror(args.results / KINDS[name] / "current.json", flink.tables[name].primary_key)
        try:
            for change in changes:
                mirror.apply(change.kind, change.row)
        except BaseException as error:  # a failed job ends the demo instead of leaving a silent panel
            failures.append(error)
        finally:
            done.set()

    for name, (changes, _client) in running.items():
        threading.Thread(target=follow, args=(name, changes), name=name, daemon=True).start()
    (args.results / "flink.ready").write_text("running\n")
    print(f"flink: {', '.join(running)} running on {args.feed}", flush=True)

    signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    for _changes, client in running.values():
        try:
            client.cancel()
        except Exception:
            pass  # the JVM goes with this process anyway
    if failures:
        print(f"flink: a job failed: {failures[0]}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
