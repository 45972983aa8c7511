"""The SQL the stack sends to Redshift, run for real on a local PostgreSQL server.

Redshift speaks PostgreSQL's protocol, catalogs (pg_user, pg_roles), PL/pgSQL procedures, GRANT and the
pre-hashed 'md5...' password form, so the exact statements of the mock-run program (schema, procedure,
call) run here unchanged, and the sink logs in over TCP with the generated password. What this cannot show
is a difference in Redshift's own dialect; the README says so. Redshift lets every user create in the
public schema, which PostgreSQL 15 no longer does, so each database here starts with that grant.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.redshift import SINK_USER, md5_password_hash, prepare_sink_user_sql
from tests.system import free_port, require

STATEMENT = "aws:redshiftdata/statement:Statement"
PASSWORD = "random:index/randomPassword:RandomPassword"
ORDER = ("schema", "sink-user-procedure", "sink-user")  # as the stack's dependencies run them


def server_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class Server:
    bindir: Path
    socket_dir: Path
    port: int
    admin: str

    def psql(self, sql: str, database: str, user: str | None = None, password: str | None = None):
        """One statement; as the admin over the local socket, or as ``user`` over TCP with a password."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if user is None:
            host, user = str(self.socket_dir), self.admin
        else:
            host, env["PGPASSWORD"] = "127.0.0.1", password or ""
        return subprocess.run(
            [self.bindir / "psql", "-X", "-w", "-At", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", str(self.port),
             "-U", user, "-d", database, "-c", sql],
            env=env, capture_output=True, text=True, timeout=60,
        )

    def ok(self, sql: str, database: str, user: str | None = None, password: str | None = None) -> str:
        result = self.psql(sql, database, user, password)
        assert result.returncode == 0, f"{sql!r} as {user or self.admin} failed: {result.stderr}"
        return result.stdout.strip()

    def refused(self, sql: str, database: str, user: str, password: str) -> str:
        result = self.psql(sql, database, user, password)
        assert result.returncode != 0, f"{sql!r} as {user} succeeded"
        return result.stderr


@pytest.fixture(scope="module")
def server(dev):
    bindir = server_bindir()
    require(bindir is not None, "missing PostgreSQL server binaries (apt-get install postgresql)")
    admin = dev.one("aws:redshift/cluster:Cluster").inputs["masterUsername"]
    workdir = Path(tempfile.mkdtemp(prefix="fraud-redshift-sql-"))
    # PostgreSQL refuses to run as root: the server runs as the postgres account the package creates.
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    as_owner = {"user": owner.pw_uid, "group": owner.pw_gid} if owner else {}
    if owner:
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
    data, port = workdir / "data", free_port()

    def run(*command: str | Path) -> None:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, **as_owner)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"

    run(bindir / "initdb", "-D", data, "-U", admin, "--auth-local=trust", "--auth-host=md5", "-E", "UTF8",
        "--locale=C", "--no-sync")
    run(bindir / "pg_ctl", "-D", data, "-l", workdir / "server.log", "-w", "-t", "60", "-o",
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield Server(bindir=bindir, socket_dir=workdir, port=port, admin=admin)
    finally:
        subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True, timeout=60, **as_owner)
        shutil.rmtree(workdir, ignore_errors=True)


def statements(program) -> dict[str, object]:
    found = {r.name.removeprefix("fraud-dev-redshift-"): r for r in program.of_type(STATEMENT)}
    assert set(found) == set(ORDER)
    return found


@pytest.fixture
def warehouse(server, dev):
    """A fresh Redshift-like database prepared by the program's own statements; removed afterwards."""
    prepared = statements(dev)
    database = prepared["schema"].inputs["database"]
    server.ok(f"CREATE DATABASE {database}", "postgres")
    server.ok("GRANT CREATE ON SCHEMA public TO PUBLIC", database)  # Redshift's default
    for role in ORDER:
        server.ok(prepared[role].inputs["sql"], database)
    try:
        yield database
    finally:
        server.ok(f"DROP DATABASE {database} WITH (FORCE)", "postgres")
        server.ok(f"DROP USER IF EXISTS {SINK_USER}", "postgres")


def sink_password(program) -> str:
    [generator] = [r for r in program.of_type(PASSWORD) if r.name == "fraud-dev-redshift-sink-password"]
    return generator.outputs["result"]


def test_the_sink_logs_in_with_its_generated_password_and_writes_its_schema(server, warehouse, dev):
    password = sink_password(dev)
    sink = {"database": warehouse, "user": SINK_USER, "password": password}
    assert server.ok("SELECT current_user", **sink) == SINK_USER
    # What the connector does with auto.create and auto.evolve: create, alter and fill its own tables.
    server.ok("CREATE TABLE fraud.auth_user (id BIGINT, username VARCHAR(150))", **sink)
    server.ok("ALTER TABLE fraud.auth_user ADD COLUMN email VARCHAR(254)", **sink)
    server.ok("INSERT INTO fraud.auth_user VALUES (1, 'alice', 'alice@example.com')", **sink)
    assert server.ok("SELECT count(*) FROM fraud.auth_user", **sink) == "1"
    assert "password authentication failed" in server.refused("SELECT 1", warehouse, SINK_USER, password + "x")


def test_the_sink_user_can_do_nothing_outside_its_schema(server, warehouse, dev):
    password = sink_password(dev)
    server.ok("CREATE SCHEMA finance", warehouse)
    server.ok("CREATE TABLE finance.ledger (amount NUMERIC(12, 2))", warehouse)
    for sql in ("CREATE TABLE public.stray (id INTEGER)", "SELECT * FROM finance.ledger", "CREATE SCHEMA other",
                "CREATE DATABASE other", "CREATE USER intruder"):
        assert "permission denied" in server.refused(sql, warehouse, SINK_USER, password), sql
    flags = server.ok(f"SELECT rolsuper, rolcreatedb, rolcreaterole, rolconnlimit FROM pg_roles WHERE rolname = '{SINK_USER}'", warehouse)
    assert flags == "f|f|f|10"


def test_the_statements_run_again_and_a_new_password_replaces_the_old(server, warehouse, dev):
    old = sink_password(dev)
    server.ok("CREATE TABLE fraud.user_transaction (id BIGINT)", warehouse, SINK_USER, old)
    for role in ORDER:  # a replaced Data API statement runs again on the same cluster
        server.ok(statements(dev)[role].inputs["sql"], warehouse)
    assert server.ok("SELECT count(*) FROM fraud.user_transaction", warehouse, SINK_USER, old) == "0"

    new = "Rotated-Password-42"
    server.ok(prepare_sink_user_sql(SINK_USER, md5_password_hash(new, SINK_USER), "fraud"), warehouse)
    assert "password authentication failed" in server.refused("SELECT 1", warehouse, SINK_USER, old)
    assert server.ok("SELECT count(*) FROM fraud.user_transaction", warehouse, SINK_USER, new) == "0"


def test_an_unqualified_table_of_the_sink_lands_in_its_schema_and_public_stays_closed(server, warehouse, dev):
    """table.name.format is ${topic}: the connector names tables without a schema (quoted or not, depending on
    its identifier quoting), and the sink user's search_path puts them in fraud, whatever it does with dots."""
    [sink] = [r for r in dev.of_type("confluentcloud:index/connector:Connector")
              if r.inputs["configNonsensitive"]["connector.class"] == "RedshiftSink"]
    assert sink.inputs["configNonsensitive"]["table.name.format"] == "${topic}"
    login = {"database": warehouse, "user": SINK_USER, "password": sink_password(dev)}
    assert server.ok("SHOW search_path", **login) == "fraud"
    server.ok("CREATE TABLE auth_user (id BIGINT)", **login)
    server.ok('CREATE TABLE "user_transaction" (id BIGINT)', **login)
    server.ok("INSERT INTO auth_user VALUES (1)", **login)
    placed = server.ok("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                       "WHERE table_name IN ('auth_user', 'user_transaction') ORDER BY 1", warehouse)
    assert placed.splitlines() == ["fraud.auth_user", "fraud.user_transaction"]
    assert "permission denied" in server.refused("CREATE TABLE public.auth_user (id BIGINT)", **login)
    assert "permission denied" in server.refused("SET search_path TO public; CREATE TABLE stray (id INTEGER)", **login)
