"""The Flink statement planner and the SQL text scanner: parts of each file, dependencies, names, topic rewriting."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import sql_text
from components.flink_pool import (
    FLINK_DIR,
    NAME_LIMIT,
    materialized_table_inputs,
    plan_statements,
    rewrite_cdc_topics,
    statement_name,
)

SAMPLE_SQL = {
    "01_cdc_auth_user.sql": "-- options\nALTER TABLE `fd.SAMPLE.AUTH_USER` SET ('changelog.mode' = 'retract');\n",
    "02_auth_user.sql": (
        "-- flattened users; FROM flagged_transaction in a comment is not a dependency\n"
        "CREATE OR ALTER MATERIALIZED TABLE auth_user (\n  id BIGINT NOT NULL,\n  username STRING,\n"
        "  PRIMARY KEY (id) NOT ENFORCED\n) WITH ('changelog.mode' = 'upsert') START_MODE = FROM_NOW(INTERVAL '1' HOUR)\n"
        "AS SELECT CAST(ID AS BIGINT) AS id, USERNAME AS username FROM `fd.SAMPLE.AUTH_USER` WHERE note = 'FROM x';\n"
    ),
    "03_user_transaction.sql": (
        "CREATE MATERIALIZED TABLE user_transaction (WATERMARK FOR t AS t - INTERVAL '3' SECOND)\n"
        "DISTRIBUTED BY HASH(account_id) INTO 2 BUCKETS\n"
        "AS SELECT * FROM TO_CHANGELOG(input => TABLE `fd.SAMPLE.USER_TRANSACTION`);\n"
    ),
    "04_flagged.sql": (
        "SET 'sql.state-ttl' = '1 h';\n"
        "CREATE OR ALTER MATERIALIZED TABLE flagged START_MODE = RESUME_OR_FROM_BEGINNING AS\n"
        "SELECT t.id FROM user_transaction AS t JOIN auth_user FOR SYSTEM_TIME AS OF t.t AS u ON t.id = u.id\n"
        "JOIN TABLE(TUMBLE(TABLE user_transaction, DESCRIPTOR(t), INTERVAL '1' MINUTE)) w ON true;\n"
    ),
}


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


@pytest.fixture
def sql_dir(tmp_path) -> Path:
    return write(tmp_path / "flink", SAMPLE_SQL)


def test_code_only_drops_comments_and_string_contents_but_keeps_identifiers():
    sql = "SELECT 'it''s FROM x' AS s, `a--b` -- FROM y\nFROM z /* JOIN w */ JOIN v"
    code = sql_text.code_only(sql)
    assert "FROM x" not in code and "FROM y" not in code and "JOIN w" not in code
    assert "`a--b`" in code and "FROM z" in code and "JOIN v" in code
    assert sql_text.strip_comments(sql) == "SELECT 'it''s FROM x' AS s, `a--b` \nFROM z   JOIN v"
    hinted = "SELECT /*+ STATE_TTL('t' = '1 h') */ COUNT(*) /* why */ FROM t GROUP BY k"
    assert sql_text.strip_comments(hinted) == "SELECT /*+ STATE_TTL('t' = '1 h') */ COUNT(*)   FROM t GROUP BY k"


def test_table_names_created_altered_dropped_and_read():
    assert sql_text.created_tables(SAMPLE_SQL["02_auth_user.sql"]) == {"auth_user"}
    assert sql_text.created_tables("CREATE TABLE IF NOT EXISTS `cat`.`db`.`t` (x INT)") == {"t"}
    assert sql_text.created_tables("CREATE TABLE a AS SELECT 1") == {"a"}
    assert sql_text.altered_tables(SAMPLE_SQL["01_cdc_auth_user.sql"]) == {"fd.SAMPLE.AUTH_USER"}
    assert sql_text.dropped_tables("DROP TABLE IF EXISTS `flagged_user`") == {"flagged_user"}
    assert sql_text.read_tables(SAMPLE_SQL["03_user_transaction.sql"]) == {"fd.SAMPLE.USER_TRANSACTION"}
    assert sql_text.read_tables(SAMPLE_SQL["04_flagged.sql"]) == {"user_transaction", "auth_user"}
    assert sql_text.read_tables("SELECT * FROM `env`.`cluster`.`auth_user` a JOIN cat.db.user_transaction t ON a.id = t.id") == {
        "auth_user", "user_transaction",
    }
    assert sql_text.read_tables("SELECT TRIM(x) FROM (SELECT 1 AS x) AS s") == set()
    with_clause = ("WITH recent AS (SELECT * FROM user_transaction), `totals` AS (SELECT COUNT(*) AS n FROM recent) "
                   "SELECT * FROM TO_CHANGELOG(input => TABLE totals) JOIN auth_user ON TRUE")
    assert sql_text.read_tables(with_clause) == {"user_transaction", "auth_user"}


def test_a_materialized_table_file_is_split_into_its_parts():
    parsed = sql_text.parse_file("02_auth_user.sql", SAMPLE_SQL["02_auth_user.sql"])
    assert isinstance(parsed, sql_text.MaterializedTable)
    assert (parsed.table, parsed.primary_key, parsed.options) == ("auth_user", ("id",), {"changelog.mode": "upsert"})
    assert parsed.columns == (sql_text.Column("id", "BIGINT NOT NULL"), sql_text.Column("username", "STRING"))
    assert parsed.start_mode == sql_text.StartMode("FROM_NOW", interval=(1, "HOUR"))
    assert parsed.query == "SELECT CAST(ID AS BIGINT) AS id, USERNAME AS username FROM `fd.SAMPLE.AUTH_USER` WHERE note = 'FROM x'"
    assert parsed.reads == {"fd.SAMPLE.AUTH_USER"}
    transactions = sql_text.parse_file("03.sql", SAMPLE_SQL["03_user_transaction.sql"])
    assert transactions.watermark == ("t", "t - INTERVAL '3' SECOND")
    assert transactions.distribution == (("account_id",), 2) and transactions.start_mode is None
    flagged = sql_text.parse_file("04.sql", SAMPLE_SQL["04_flagged.sql"])
    assert flagged.session_options == {"sql.state-ttl": "1 h"}


@pytest.mark.parametrize("text, message", [
    ("", "expected one SQL statement, found none"),
    ("CREATE TABLE a (x INT); CREATE TABLE b (x INT);", "expected one SQL statement per file"),
    ("CREATE TABLE a AS SELECT 1", "expected ALTER TABLE <cdc table> SET"),
    ("CREATE MATERIALIZED TABLE a (x AS 1) AS SELECT 1", "physical columns"),
    ("CREATE MATERIALIZED TABLE a WITH ('k' = 'v')", "AS <query>"),
    ("CREATE MATERIALIZED TABLE a WITH (k = v) AS SELECT 1", "expected options as 'key' = 'value'"),
    ("ALTER TABLE t SET ('a' = 'b') RESET ('c')", "unexpected text after the options"),
])
def test_unexpected_text_is_refused_with_the_file_named(text, message):
    with pytest.raises(sql_text.SqlTextError, match=message) as raised:
        sql_text.parse_file("09_bad.sql", text)
    assert "flink/09_bad.sql" in str(raised.value)


def test_a_semicolon_inside_a_string_or_comment_is_not_a_second_statement():
    parsed = sql_text.parse_file("01.sql", "-- a; b\nALTER TABLE t SET ('note' = 'a;b');")
    assert parsed.options == {"note": "a;b"}


def test_plan_follows_file_order_and_dependencies(sql_dir):
    plan = plan_statements(sql_dir)
    assert [s.key for s in plan.statements] == ["01-cdc-auth-user", "02-auth-user", "03-user-transaction", "04-flagged"]
    assert {s.key: s.depends_on for s in plan.statements} == {
        "01-cdc-auth-user": (),
        "02-auth-user": ("01-cdc-auth-user",),  # it reads the table 01 alters
        "03-user-transaction": (),
        "04-flagged": ("02-auth-user", "03-user-transaction"),
    }
    assert plan.produced_tables == {"auth_user": "02-auth-user", "user_transaction": "03-user-transaction",
                                    "flagged": "04-flagged"}


def test_materialized_table_inputs_follow_the_statement(sql_dir):
    auth = materialized_table_inputs(sql_text.parse_file("02.sql", SAMPLE_SQL["02_auth_user.sql"]))
    assert auth["display_name"] == "auth_user" and auth["table_options"] == {"changelog.mode": "upsert"}
    assert auth["query"].startswith("SELECT CAST(ID AS BIGINT)")
    assert auth["start_mode"].kind == "FROM_NOW" and auth["start_mode"].time_interval.time_unit == "HOURS"
    assert [column.column_physical_name for column in auth["columns"][0].columns_physicals] == ["id", "username"]
    assert auth["constraints"][0].type == "PRIMARY_KEY" and auth["constraints"][0].columns == ["id"]
    transactions = materialized_table_inputs(sql_text.parse_file("03.sql", SAMPLE_SQL["03_user_transaction.sql"]))
    assert (transactions["distribution"].keys, transactions["distribution"].bucket_count) == (["account_id"], 2)
    assert transactions["watermark"].column == "t" and "start_mode" not in transactions
    flagged = materialized_table_inputs(sql_text.parse_file("04.sql", SAMPLE_SQL["04_flagged.sql"]))
    assert flagged["session_options"] == {"sql.state-ttl": "1 h"}


def test_statement_names_are_stable_valid_and_carry_the_stack(sql_dir):
    (alter,) = [s for s in plan_statements(sql_dir).statements if isinstance(s.parsed, sql_text.AlterOptions)]
    name = statement_name("fraud-dev", alter.statement_name)
    assert name == statement_name("fraud-dev", plan_statements(sql_dir).statements[0].statement_name)
    assert re.fullmatch(r"fraud-dev-01-cdc-auth-user-[0-9a-f]{8}", name)
    long = statement_name("fraud-a-very-long-stack-name-for-testing-and-more", alter.statement_name)
    assert len(long) <= NAME_LIMIT and long.endswith(alter.statement_name[-8:])
    with pytest.raises(ValueError, match="leaves no room"):
        statement_name("x" * 60, alter.statement_name)


def test_cdc_topic_identifiers_are_rewritten_for_another_prefix_and_schema(sql_dir):
    sql = "SELECT * FROM `fd.SAMPLE.AUTH_USER` WHERE note = 'fd.SAMPLE.AUTH_USER' -- `fd.SAMPLE.X`"
    assert rewrite_cdc_topics(sql, "fd", "SAMPLE") == sql
    rewritten = rewrite_cdc_topics(sql, "txn", "APPDATA")
    assert rewritten.startswith("SELECT * FROM `txn.APPDATA.AUTH_USER` WHERE note = 'fd.SAMPLE.AUTH_USER'")
    plan = plan_statements(sql_dir, "txn", "APPDATA")
    assert plan.statements[2].parsed.query == "SELECT * FROM TO_CHANGELOG(input => TABLE `txn.APPDATA.USER_TRANSACTION`)"
    assert plan.statements[1].depends_on == ("01-cdc-auth-user",)  # the renamed CDC table keeps its dependency


def test_using_a_table_before_the_file_that_creates_it_is_refused(tmp_path):
    directory = write(tmp_path, {"01_reader.sql": "CREATE MATERIALIZED TABLE b AS SELECT * FROM a;",
                                 "02_a.sql": "CREATE MATERIALIZED TABLE a AS SELECT 1 AS x;"})
    with pytest.raises(ValueError, match=r"flink/01_reader\.sql uses table a, which flink/02_a\.sql creates later"):
        plan_statements(directory)


def test_two_files_creating_one_table_are_refused(tmp_path):
    directory = write(tmp_path, {"01_a.sql": "CREATE MATERIALIZED TABLE a AS SELECT 1 AS x;",
                                 "02_a.sql": "CREATE OR ALTER MATERIALIZED TABLE a AS SELECT 2 AS x;"})
    with pytest.raises(ValueError, match=r"flink/02_a\.sql creates table a, which flink/01_a\.sql already creates"):
        plan_statements(directory)


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no Flink SQL files"):
        plan_statements(tmp_path)


def test_cdc_modes_stated_in_the_sql_are_collected_and_must_agree(tmp_path):
    directory = write(tmp_path, {
        "01_a.sql": "-- CDC: decimal.handling.mode=double, time.precision.mode = connect\nCREATE MATERIALIZED TABLE a AS SELECT 1 AS x;",
        "02_b.sql": "-- assumes decimal.handling.mode=double\nCREATE MATERIALIZED TABLE b AS SELECT 1 AS x;",
    })
    assert plan_statements(directory).cdc_modes == {"decimal.handling.mode": "double", "time.precision.mode": "connect"}
    (directory / "02_b.sql").write_text("-- decimal.handling.mode: precise\nCREATE MATERIALIZED TABLE b AS SELECT 1 AS x;")
    with pytest.raises(ValueError, match=r"02_b\.sql assumes decimal\.handling\.mode=precise but flink/01_a\.sql"):
        plan_statements(directory)


def test_every_file_of_flink_is_scanned_into_its_parts():
    """The real files: two ALTERs of the CDC tables, four materialized tables, and what each reads."""
    parsed = {s.file: s.parsed for s in plan_statements(FLINK_DIR).statements}
    assert {file: type(p).__name__ for file, p in parsed.items()} == {
        "01_cdc_auth_user.sql": "AlterOptions", "02_cdc_user_transaction.sql": "AlterOptions",
        "03_auth_user.sql": "MaterializedTable", "04_user_transaction.sql": "MaterializedTable",
        "05_flagged_transaction.sql": "MaterializedTable", "06_flagged_user.sql": "MaterializedTable",
    }
    assert {file: sorted(p.reads) for file, p in parsed.items()} == {
        "01_cdc_auth_user.sql": [], "02_cdc_user_transaction.sql": [],
        "03_auth_user.sql": ["fd.SAMPLE.AUTH_USER"], "04_user_transaction.sql": ["fd.SAMPLE.USER_TRANSACTION"],
        "05_flagged_transaction.sql": ["user_transaction"],
        "06_flagged_user.sql": ["fd.SAMPLE.AUTH_USER", "user_transaction"],
    }
    for p in parsed.values():
        if isinstance(p, sql_text.MaterializedTable):
            assert p.query.upper().startswith(("SELECT", "WITH")) and not p.query.rstrip().endswith(";")
            assert p.start_mode is not None, f"{p.file}: state the START_MODE (flink/README.md says why)"
