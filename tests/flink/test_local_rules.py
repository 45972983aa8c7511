"""The local rewrite rules refuse what they cannot translate, and bad records are reported, never fed."""
from __future__ import annotations

import json
import shutil

import pytest

from flink_local.cdc import FeedBuilder, validate
from flink_local.runner import LocalFlink, MalformedRecordsError
from flink_local.sql import FLINK_DIR, LocalRewriteError, SourceOptions, check_source_options, parse_statement

SOURCES = {"fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"}


def test_source_options_without_a_local_equivalent_are_refused():
    step = parse_statement("x.sql", "ALTER TABLE `fd.SAMPLE.AUTH_USER` SET ('changelog.mode' = 'retract');")
    assert isinstance(step, SourceOptions) and step.options == {"changelog.mode": "retract"}
    with pytest.raises(LocalRewriteError, match="'changelog.mode' = 'retract'"):
        check_source_options(step, SOURCES)
    with pytest.raises(LocalRewriteError, match="only to the CDC sources"):
        check_source_options(parse_statement("y.sql", "ALTER TABLE auth_user SET ('value.format' = 'avro-registry')"), SOURCES)


@pytest.mark.parametrize("sql, message", [
    ("CREATE TABLE t (id BIGINT) WITH ('changelog.mode' = 'append') AS SELECT 1 AS id", "only a WATERMARK and a PRIMARY KEY"),
    ("CREATE TABLE t (id BIGINT) WITH ('changelog.mode' = 'append')", "AS <query>"),
    ("CREATE TABLE t WITH ('changelog.mode' = 'upsert') AS SELECT 1 AS id", "needs a PRIMARY KEY"),
    ("INSERT INTO t SELECT 1", "supports ALTER TABLE"),
    ("CREATE TABLE a AS SELECT 1; CREATE TABLE b AS SELECT 2", "one statement per file"),
])
def test_statements_the_rules_cannot_translate_are_refused_with_the_file_named(sql, message):
    with pytest.raises(LocalRewriteError, match=message) as error:
        parse_statement("07_x.sql", sql)
    assert "flink/07_x.sql" in str(error.value)


def test_comments_and_literals_do_not_confuse_the_parser():
    step = parse_statement("z.sql", "-- CREATE TABLE nope AS SELECT 1;\nCREATE TABLE t (PRIMARY KEY (k) NOT ENFORCED)"
                                    " DISTRIBUTED BY (k) INTO 1 BUCKETS WITH ('a' = 'x;y') AS SELECT 'a;(b' AS k")
    assert (step.table, step.primary_key, step.options, step.query) == ("t", ("k",), {"a": "x;y"}, "SELECT 'a;(b' AS k")


def test_validation_names_the_field_and_the_expected_form():
    feed = FeedBuilder()
    user = feed.user(1_000)
    row = feed.transaction(user, 10, "192.0.2.10", 2_000)
    _, problems = validate("USER_TRANSACTION", {**feed.records["USER_TRANSACTION"][0], "after": {**row, "RECEIVED_AT": "noon"}})
    assert problems == ["after.RECEIVED_AT: expected epoch milliseconds (time.precision.mode=connect), got 'noon'"]
    _, problems = validate("USER_TRANSACTION", json.dumps({"op": "d", "ts_ms": 1, "before": None, "after": None}))
    assert any(problem.startswith("before: expected an object") for problem in problems)
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


@pytest.mark.flink
def test_an_append_table_whose_query_updates_is_refused(local_flink, tmp_path):
    sql_dir = tmp_path / "flink"
    shutil.copytree(FLINK_DIR, sql_dir)
    (sql_dir / "07_counts.sql").write_text(
        "-- an updating query declared append-only\nCREATE TABLE counts WITH ('changelog.mode' = 'append') AS "
        "SELECT account_id, COUNT(*) AS n FROM user_transaction GROUP BY account_id;\n"
    )
    with pytest.raises(LocalRewriteError, match="counts is declared 'changelog.mode' = 'append'"):
        LocalFlink(sql_dir).run({})
