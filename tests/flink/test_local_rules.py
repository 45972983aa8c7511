"""The local engine refuses what Confluent would refuse, with Flink's own message naming the file and the table;
what the rewrite rules cannot translate is refused too, and bad records are reported, never fed."""
from __future__ import annotations

import json
import shutil

import pytest

from flink_local.cdc import FeedBuilder, validate
from flink_local.runner import LocalFlink, MalformedRecordsError
from flink_local.sql import (
    FLINK_DIR,
    AlterOptions,
    LocalFlinkError,
    LocalRewriteError,
    check_source_options,
    local_table,
    parse_statement,
)

SOURCES = {"fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"}


def test_source_options_without_a_local_equivalent_are_refused():
    step = parse_statement("x.sql", "ALTER TABLE `fd.SAMPLE.AUTH_USER` SET ('changelog.mode' = 'append');")
    assert isinstance(step, AlterOptions) and step.options == {"changelog.mode": "append"}
    with pytest.raises(LocalRewriteError, match="'changelog.mode' = 'append'"):
        check_source_options(step, SOURCES)
    with pytest.raises(LocalRewriteError, match="only to the CDC sources"):
        check_source_options(parse_statement("y.sql", "ALTER TABLE auth_user SET ('value.format' = 'avro-registry')"), SOURCES)
    raw = parse_statement("z.sql", "ALTER TABLE `fd.SAMPLE.AUTH_USER` SET ('value.format' = 'avro-registry')")
    with pytest.raises(LocalRewriteError, match="'value.format' = 'avro-registry' has no local equivalent"):
        check_source_options(raw, SOURCES)  # the raw envelope: undocumented, see flink/README.md


@pytest.mark.parametrize("sql, message", [
    ("CREATE TABLE t WITH ('changelog.mode' = 'append') AS SELECT 1 AS id", "CREATE OR ALTER MATERIALIZED TABLE"),
    ("CREATE MATERIALIZED TABLE t (id AS 1) AS SELECT 1 AS id", "physical columns"),
    ("CREATE OR ALTER MATERIALIZED TABLE t WITH ('changelog.mode' = 'append')", r"\[START_MODE = \.\.\.\] AS <query>"),
    ("CREATE OR ALTER MATERIALIZED TABLE t START_MODE = SOMETIME AS SELECT 1", "START_MODE SOMETIME"),
    ("INSERT INTO t SELECT 1", "expected ALTER TABLE"),
    ("CREATE MATERIALIZED TABLE a AS SELECT 1; CREATE MATERIALIZED TABLE b AS SELECT 2", "one SQL statement per file"),
])
def test_statements_the_rules_cannot_translate_are_refused_with_the_file_named(sql, message):
    with pytest.raises(LocalRewriteError, match=message) as error:
        parse_statement("07_x.sql", sql)
    assert "flink/07_x.sql" in str(error.value)


def test_table_options_without_a_local_equivalent_are_refused(tmp_path):
    step = parse_statement("07_x.sql", "CREATE OR ALTER MATERIALIZED TABLE t WITH ('scan.startup.mode' = 'latest-offset') AS SELECT 1 AS a")
    with pytest.raises(LocalRewriteError, match=r"flink/07_x\.sql: table option\(s\) scan\.startup\.mode"):
        local_table(step, tmp_path)


def test_the_local_statement_keeps_everything_but_the_kafka_settings(tmp_path):
    step = parse_statement("z.sql", "-- a comment; with a semicolon\nCREATE OR ALTER MATERIALIZED TABLE t (PRIMARY KEY (k) NOT ENFORCED)"
                                    " DISTRIBUTED BY (k) INTO 1 BUCKETS WITH ('value.format' = 'x;y') START_MODE = FROM_BEGINNING"
                                    " AS SELECT 'a;(b' AS k")
    assert (step.table, step.primary_key, step.options, step.query) == ("t", ("k",), {"value.format": "x;y"}, "SELECT 'a;(b' AS k")
    local = local_table(step, tmp_path)
    assert local.changelog_mode == "upsert"  # Confluent's default for a table with a key
    assert local.create_sql == (f"CREATE OR ALTER MATERIALIZED TABLE `t` (\nPRIMARY KEY (k) NOT ENFORCED\n)\n"
                                f"WITH ('connector' = 'filesystem', 'path' = '{(tmp_path / 't').as_posix()}', "
                                f"'format' = 'debezium-json')\nSTART_MODE = FROM_BEGINNING\nAS SELECT 'a;(b' AS k")
    assert local.insert_sql == "INSERT INTO `t` SELECT 'a;(b' AS k"


def test_validation_names_the_field_and_the_expected_form():
    feed = FeedBuilder()
    user = feed.user(1_000)
    row = feed.transaction(user, 10, "192.0.2.10", 2_000)
    _, problems = validate("USER_TRANSACTION", {**feed.records["USER_TRANSACTION"][0], "after": {**row, "RECEIVED_AT": "noon"}})
    assert problems == ["after.RECEIVED_AT: expected epoch milliseconds (time.precision.mode=connect), got 'noon'"]
    _, problems = validate("USER_TRANSACTION", json.dumps({"op": "d", "ts_ms": 1, "before": None, "after": None}))
    assert any(problem.startswith("before: expected an object") for problem in problems)
    _, problems = validate("USER_TRANSACTION", {**feed.records["USER_TRANSACTION"][0], "op": "u"})
    assert any(problem.startswith("before: expected an object") for problem in problems)  # an update logs the old row
    _, problems = validate("USER_TRANSACTION", {**feed.records["USER_TRANSACTION"][0], "after": {**row, "ID": 1.5}})
    assert problems == ["after.ID: expected a whole number (NUMBER(p) as Avro int/long), got 1.5"]
    assert validate("USER_TRANSACTION", {**feed.records["USER_TRANSACTION"][0], "after": {**row, "ID": 1.0}}, "DOUBLE")[1] == []
    assert validate("AUTH_USER", feed.records["AUTH_USER"][0]) == (feed.records["AUTH_USER"][0], [])


def test_without_a_dead_letter_table_a_malformed_record_fails_the_run(tmp_path):
    """Confluent fails a statement on a record it cannot read unless 'error-handling.mode' = 'log'; so does the runner."""
    sql_dir = tmp_path / "flink"
    shutil.copytree(FLINK_DIR, sql_dir)
    for path in sql_dir.glob("0[12]_*.sql"):
        path.write_text(path.read_text().replace("'error-handling.mode' = 'log'", "'error-handling.mode' = 'fail'"))
    feed = FeedBuilder()
    feed.raw("USER_TRANSACTION", "not json")
    with pytest.raises(MalformedRecordsError, match="fd.SAMPLE.USER_TRANSACTION record 0: not valid JSON"):
        LocalFlink(sql_dir).run(feed.records)


# Deliberately wrong tables, each refused by Flink itself (the kinds Confluent refuses too).
BROKEN = {
    "nullable key": (
        "CREATE OR ALTER MATERIALIZED TABLE by_email (PRIMARY KEY (email) NOT ENFORCED) AS "
        "SELECT EMAIL AS email, COUNT(*) AS customers FROM `fd.SAMPLE.AUTH_USER` GROUP BY EMAIL",
        "by_email", "Invalid primary key 'PK_email'. Column 'email' is nullable.",
    ),
    "upsert without key": (
        "CREATE OR ALTER MATERIALIZED TABLE counts WITH ('changelog.mode' = 'upsert') AS "
        "SELECT account_id, COUNT(*) AS n FROM user_transaction GROUP BY account_id",
        "counts", "contains UPDATE_AFTER but no UPDATE_BEFORE. This requires defining a primary key constraint on the table.",
    ),
    "append fed by an updating query": (
        "CREATE OR ALTER MATERIALIZED TABLE counts WITH ('changelog.mode' = 'append') AS "
        "SELECT account_id, COUNT(*) AS n FROM user_transaction GROUP BY account_id",
        "counts", "Table sink 'default_catalog.default_database.counts' doesn't support consuming update changes",
    ),
    "watermark on a column that is not a time attribute": (
        "CREATE OR ALTER MATERIALIZED TABLE by_address (WATERMARK FOR ip_address AS ip_address) AS "
        "SELECT ip_address, amount FROM user_transaction",
        "by_address", "Invalid data type of time field for watermark definition",
    ),
    "key that is not the query's key": (
        "CREATE OR ALTER MATERIALIZED TABLE last_amount (PRIMARY KEY (account_id) NOT ENFORCED) AS "
        "SELECT t.account_id, t.amount FROM user_transaction AS t JOIN `fd.SAMPLE.AUTH_USER` AS u "
        "ON t.account_id = CAST(u.ID AS BIGINT)",
        "last_amount", "The query has an upsert key that differs from the primary key",
    ),
}


@pytest.mark.flink
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_wrong_table_is_refused_with_flinks_message_naming_it(kind, local_flink, tmp_path):
    sql, table, message = BROKEN[kind]
    sql_dir = tmp_path / "flink"
    shutil.copytree(FLINK_DIR, sql_dir)
    (sql_dir / "07_wrong.sql").write_text(f"-- {kind}\n{sql};\n")
    with pytest.raises(LocalFlinkError) as error:
        LocalFlink(sql_dir).run({})
    assert str(error.value).startswith(f"flink/07_wrong.sql: table {table}: ")
    assert message in str(error.value)
