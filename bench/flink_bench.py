"""Throughput and detection latency of the statements in flink/ on local Apache Flink (not a test).

    .venv-flink/bin/python bench/flink_bench.py [--records 100000] [--seconds 120] [--rate 20] [--quiet 2]

Throughput: one bounded run over --records CDC transaction records (plus their customers) from the app's
generators: mostly normal traffic with a fraud scenario every 500 transactions, in transaction-time order.
The run is what the tests do: both flagged tables are collected by their own job (both jobs read all records,
at parallelism 1, at the same time on this 2-core machine). Printed: the wall time from submitting the jobs to
the last result, its events/s, and the same after subtracting a 10-record run's time (planning, job start-up).

flagged_user alone (--flagged-user, optionally --original-demo MIRROR): the flagged_user table's query on its own
(one job collecting only flagged_user) over one bounded feed, --rounds times; with the git directory of a mirror of
the original demo (confluentinc/demo-dsp-fraud-detection), its flagged_user query, read from that mirror's
LAB2/LAB2-README.md at run time (never copied here), runs on the same feed right after ours in each round, over
tables shaped the way it reads them (the after-image columns, `$rowtime` = RECEIVED_AT with the same 3 s watermark).
Printed: each query's median events/s, its median JVM CPU time per event (steadier than wall time on a shared
machine), and the ratio ours/original. --root DIR measures another checkout's flink/ and flink_local with the same
harness and feed, so that a change is compared with the commit before it.

Latency, with nothing after the fraud: the pipeline runs continuously on a directory that a writer thread feeds
the way the app's local change feed does (one new JSON file per write, renamed into place). Each transaction is
written at the moment of its own transaction time (RECEIVED_AT = wall clock at the write), so event time and
arrival time agree and latency = the wall time a flag row reaches this process - the event time of the
transaction it flags (flagged_transaction: that transaction; flagged_user: its last_transaction_at). The writer
runs cycles of 1 s of normal traffic (--rate per second), one fraud scenario for a customer of its own (each of
its transactions at its own time), then --quiet seconds in which nothing is written at all: a burst's flag has no
later transaction to help it along. The figures include the source's 100 ms directory poll. Percentiles are over
every flag row received in --seconds; each line also says how many rows arrived before the next write.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --root DIR measures another checkout's flink/ and flink_local (e.g. the commit before a change) with this harness.
CODE_ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve() if "--root" in sys.argv else ROOT
sys.path[:0] = [str(CODE_ROOT), str(CODE_ROOT / "app")]

from flink_local.cdc import FeedBuilder, write_feed  # noqa: E402
from flink_local.runner import LocalFlink  # noqa: E402
from transactions import scenarios  # noqa: E402

USERS = 20_000  # so that a customer's normal traffic averages under one transaction per 10 minutes
FRAUD_EVERY = 500  # transactions between two fraud scenarios in the throughput run
NORMAL_SECONDS = 1  # normal traffic before each fraud scenario in the latency run
SCENARIO_ACCOUNTS = 1_000  # customers that only ever get fraud scenarios, one each, in the latency run


def bounded_feed(records: int, rng: random.Random) -> FeedBuilder:
    feed = FeedBuilder()
    start = 1_704_067_200_000
    users = [feed.user(start) for _ in range(USERS)]
    clock = start
    while len(feed.records["USER_TRANSACTION"]) < records:
        clock += 50  # 20 transactions a second of event time
        if len(feed.records["USER_TRANSACTION"]) % FRAUD_EVERY == 0:
            kind = rng.choice(scenarios.FRAUD_TYPES)
            feed.transactions(rng.choice(users), scenarios.fraud_transactions(kind, rng), clock)
        else:
            spec = scenarios.normal_transaction(rng)
            feed.transaction(rng.choice(users), spec.amount, spec.ip_address, clock)
    return feed


def throughput(records: int) -> None:
    rng = random.Random(7)
    flink = LocalFlink()
    small = bounded_feed(10, rng)
    flink.run(small.records)  # warm-up: starts the JVM
    began = time.perf_counter()
    flink.run(small.records)
    fixed = time.perf_counter() - began
    feed = bounded_feed(records, rng)
    count = sum(len(rows) for rows in feed.records.values())
    began = time.perf_counter()
    result = flink.run(feed.records)
    elapsed = time.perf_counter() - began
    print(f"throughput: {count} CDC records ({len(feed.records['USER_TRANSACTION'])} transactions, "
          f"{USERS} customers) in {elapsed:.1f} s = {count / elapsed:,.0f} events/s end to end; "
          f"net of the {fixed:.1f} s a 10-record run takes: {count / max(elapsed - fixed, 1e-9):,.0f} events/s; "
          f"{len(result.tables['flagged_user'])} accounts and {len(result.tables['flagged_transaction'])} "
          f"transactions flagged")


class OriginalDemoQuery:
    """The original demo's flagged_user query, its text read from a mirror of its repository at run time."""

    def __init__(self, mirror: Path):
        readme = subprocess.run(["git", "--git-dir", str(mirror), "show", "HEAD:LAB2/LAB2-README.md"],
                                check=True, capture_output=True, text=True).stdout
        block = next(b for b in re.findall(r"```SQL\n(.*?)```", readme, re.S | re.I) if "CREATE TABLE flagged_user" in b)
        self.query = re.search(r"\)\s*AS\s+(WITH\b.*?);?\s*$", block, re.S | re.I).group(1)

    def run(self, records) -> int:
        """Rows of flagged_user's changelog, computed over ``records`` (the tables it reads, as it reads them)."""
        from pyflink.datastream import StreamExecutionEnvironment
        from pyflink.table import EnvironmentSettings, StreamTableEnvironment

        with tempfile.TemporaryDirectory(prefix="flink-original-") as workdir:
            write_feed(Path(workdir), records, {})
            env = StreamExecutionEnvironment.get_execution_environment()
            env.set_parallelism(1)
            t_env = StreamTableEnvironment.create(env, EnvironmentSettings.in_streaming_mode())
            t_env.get_config().set("table.local-time-zone", "UTC")
            t_env.get_config().set("table.exec.source.idle-timeout", "1 s")
            t_env.execute_sql(
                "CREATE TEMPORARY TABLE user_transaction (`after` ROW<ID DOUBLE, AMOUNT DOUBLE, RECEIVED_AT BIGINT, "
                "IP_ADDRESS STRING, ACCOUNT_ID DOUBLE>, ACCOUNT_ID AS `after`.ACCOUNT_ID, AMOUNT AS `after`.AMOUNT, "
                "`$rowtime` AS TO_TIMESTAMP_LTZ(`after`.RECEIVED_AT, 3), "
                "WATERMARK FOR `$rowtime` AS `$rowtime` - INTERVAL '3' SECOND) "
                f"WITH ('connector' = 'filesystem', 'path' = '{workdir}/USER_TRANSACTION', 'format' = 'json')"
            )
            t_env.execute_sql(
                "CREATE TEMPORARY TABLE auth_user (`after` ROW<ID DOUBLE, USERNAME STRING, EMAIL STRING>, "
                "ID AS `after`.ID, USERNAME AS `after`.USERNAME, EMAIL AS `after`.EMAIL) "
                f"WITH ('connector' = 'filesystem', 'path' = '{workdir}/AUTH_USER', 'format' = 'json')"
            )
            result = t_env.sql_query(self.query)
            # TIMESTAMP_LTZ columns as UTC TIMESTAMP(3), as LocalFlink collects them (PyFlink cannot unpickle Instant)
            columns = ", ".join(
                f"CAST(`{name}` AS TIMESTAMP(3)) AS `{name}`" if "LOCALZONEDTIMESTAMP" in str(kind).upper() else f"`{name}`"
                for name, kind in zip(result.get_resolved_schema().get_column_names(),
                                      result.get_resolved_schema().get_column_data_types())
            )
            t_env.create_temporary_view("original_flagged_user", result)
            with t_env.sql_query(f"SELECT {columns} FROM original_flagged_user").execute().collect() as rows:
                return sum(1 for _ in rows)


class JvmCpu:
    """User plus system CPU time so far of the JVM that PyFlink started as a child of this process (Linux /proc).
    Unlike wall time it does not count the time other processes hold the cores, so it compares two designs more
    steadily on a shared machine; it does count the JVM's own garbage collection and compilation."""

    def __init__(self):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                name, fields = stat.read_text().rsplit(")", 1)
            except OSError:  # a process that ended meanwhile
                continue
            if name.endswith("(java") and int(fields.split()[1]) == os.getpid():
                self.stat, self.ticks = stat, os.sysconf("SC_CLK_TCK")
                return
        raise RuntimeError("no JVM child of this process: PyFlink has not started its gateway")

    def seconds(self) -> float:
        fields = self.stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks


def flagged_user_throughput(records: int, rounds: int, mirror: Path | None) -> None:
    """Each query's run over the feed, net of the same query's run over 10 records (planning, job start-up), in
    wall time and in the JVM's CPU time."""
    rng = random.Random(7)
    feed, small = bounded_feed(records, rng), bounded_feed(10, rng)
    count = sum(len(rows) for rows in feed.records.values())
    ours = LocalFlink()
    queries = {"ours": lambda records: len(ours.run(records, ("flagged_user",)).tables["flagged_user"])}
    if mirror:
        queries["original"] = OriginalDemoQuery(mirror).run
    for run in queries.values():
        run(small.records)  # warm-up: the JVM, the classes
    jvm = JvmCpu()
    net: dict[str, list[float]] = {name: [] for name in queries}
    cpu: dict[str, list[float]] = {name: [] for name in queries}
    for _ in range(rounds):
        for name, run in queries.items():
            began, cpu_began = time.perf_counter(), jvm.seconds()
            run(small.records)
            fixed, cpu_fixed = time.perf_counter() - began, jvm.seconds() - cpu_began
            began, cpu_began = time.perf_counter(), jvm.seconds()
            run(feed.records)
            net[name].append(max(time.perf_counter() - began - fixed, 1e-9))
            cpu[name].append(jvm.seconds() - cpu_began - cpu_fixed)
    rates = {name: count / statistics.median(values) for name, values in net.items()}
    cpu_per_event = {name: statistics.median(values) / count * 1e6 for name, values in cpu.items()}
    line = (f"flagged_user alone: {count} CDC records; ours {rates['ours']:,.0f} events/s, "
            f"{cpu_per_event['ours']:.1f} µs of JVM CPU per event")
    if mirror:
        ratios = [o / n for n, o in zip(net["ours"], net["original"])]
        line += (f", the original demo's query {rates['original']:,.0f} events/s, "
                 f"{cpu_per_event['original']:.1f} µs; ours/original {statistics.median(ratios):.2f}")
    print(line + f" (net of a 10-record run, median of {rounds} rounds, the queries one after the other)")


class Writer(threading.Thread):
    """Writes CDC files into the feed as the app's local change feed does, each transaction at its own time, in
    cycles: NORMAL_SECONDS of normal traffic, one fraud scenario for an account of its own, then ``quiet`` seconds
    in which nothing at all is written."""

    def __init__(self, feed_dir: Path, seconds: float, rate: float, quiet: float, rng: random.Random):
        super().__init__(daemon=True)
        self.feed_dir, self.seconds, self.rate, self.quiet, self.rng = feed_dir, seconds, rate, quiet, rng
        self.builder = FeedBuilder()
        self.written = 0
        self.scenarios = 0
        users = [self.builder.user(int(time.time() * 1000)) for _ in range(USERS)]
        self.scenario_accounts, self.normal_accounts = users[:SCENARIO_ACCOUNTS], users[SCENARIO_ACCOUNTS:]
        self.quiet_ends: dict[int, float] = {}  # scenario account -> when the writes after its scenario resumed
        self._flush("AUTH_USER")

    def _flush(self, table: str) -> None:
        records = self.builder.records[table]
        if not records:
            return
        directory = self.feed_dir / table
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{self.written}.json"
        hidden = directory / f".{name}.tmp"
        hidden.write_text("".join(json.dumps(record) + "\n" for record in records))
        os.replace(hidden, directory / name)
        self.written += len(records)
        records.clear()

    def _write_at(self, moment: float, account: dict, spec) -> None:
        time.sleep(max(0.0, moment - time.time()))
        self.builder.transaction(account, spec.amount, spec.ip_address, int(time.time() * 1000))
        self._flush("USER_TRANSACTION")

    def run(self) -> None:
        end = time.time() + self.seconds
        accounts = iter(self.rng.sample(self.scenario_accounts, len(self.scenario_accounts)))
        while time.time() < end:
            start = time.time()
            for index in range(round(NORMAL_SECONDS * self.rate)):
                self._write_at(start + index / self.rate, self.rng.choice(self.normal_accounts),
                               scenarios.normal_transaction(self.rng))
            account, start = next(accounts), time.time()
            for spec in scenarios.fraud_transactions(self.rng.choice(scenarios.FRAUD_TYPES), self.rng):
                self._write_at(start + spec.offset_seconds, account, spec)
            self.scenarios += 1
            self.quiet_ends[int(account["ID"])] = time.time() + self.quiet
            time.sleep(self.quiet)


def latency(seconds: float, rate: float, quiet: float) -> None:
    with tempfile.TemporaryDirectory(prefix="flink-bench-") as workdir:
        feed_dir = Path(workdir)
        writer = Writer(feed_dir, seconds, rate, quiet, random.Random(11))
        running = LocalFlink().start(feed_dir, monitor_interval="100 ms")
        delays: dict[str, list[float]] = {name: [] for name in running}
        unaided: dict[str, int] = {name: 0 for name in running}  # flag rows that arrived before the next write
        stopping = threading.Event()

        def follow(name, changes):
            event_column = "received_at" if name == "flagged_transaction" else "last_transaction_at"
            try:
                for change in changes:
                    if change.kind in ("+I", "+U"):
                        delays[name].append(change.arrived - change.row[event_column].timestamp())
                        quiet_end = writer.quiet_ends.get(change.row["account_id"], float("inf"))
                        unaided[name] += change.arrived <= quiet_end
            except Exception:
                if not stopping.is_set():  # the job failed rather than being cancelled below
                    raise

        for name, (changes, _client) in running.items():
            threading.Thread(target=follow, args=(name, changes), daemon=True).start()
        time.sleep(3)  # let the jobs reach RUNNING before the clock of the first transaction starts
        writer.start()
        writer.join()
        stopping.set()
        for _changes, client in running.values():
            client.cancel().result()
        print(f"latency: {writer.written} CDC records written over {seconds:.0f} s: {writer.scenarios} cycles of "
              f"{NORMAL_SECONDS} s of normal traffic ({rate:g}/s), one fraud scenario, then {quiet:g} s without writes")
        for name, values in delays.items():
            if len(values) < 2:
                print(f"  {name}: {len(values)} flag rows, too few for percentiles")
                continue
            cuts = statistics.quantiles(values, n=100, method="inclusive")
            print(f"  {name}: {len(values)} flag rows, event time -> flag p50 {cuts[49]:.2f} s, "
                  f"p99 {cuts[98]:.2f} s, max {max(values):.2f} s; {unaided[name]} of them before anything else "
                  f"was written")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="transactions in the throughput run")
    parser.add_argument("--seconds", type=float, default=120, help="length of the latency run")
    parser.add_argument("--rate", type=float, default=20, help="normal transactions per second in the latency run")
    parser.add_argument("--quiet", type=float, default=2, help="seconds without writes after each scenario")
    parser.add_argument("--flagged-user", action="store_true", help="only the flagged_user query's throughput")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the --flagged-user measurement")
    parser.add_argument("--original-demo", type=Path, help="git dir of a mirror of the original demo, for --flagged-user")
    parser.add_argument("--root", type=Path, help="a checkout whose flink/ and flink_local to measure (default: this one)")
    args = parser.parse_args()
    if args.flagged_user:
        flagged_user_throughput(args.records, args.rounds, args.original_demo)
        return
    throughput(args.records)
    latency(args.seconds, args.rate, args.quiet)


if __name__ == "__main__":
    main()
