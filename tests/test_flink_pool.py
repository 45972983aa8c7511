"""The Flink statement planner: the small SQL parser, dependencies, content-hashed names, topic rewriting."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.flink_pool import (
    NAME_LIMIT,
    code_only,
    defined_objects,
    defined_tables,
    drop_sql,
    plan_statements,
    rewrite_cdc_topics,
    used_tables,
)

# A representative set: a CDC table altered, a declared table filled by an INSERT, CTAS chains, a window TVF.
SAMPLE_SQL = {
    "01_cdc_auth_user_mode.sql": "ALTER TABLE `fd.SAMPLE.AUTH_USER` SET ('changelog.mode' = 'append');\n",
    "02_auth_user.sql": (
        "-- flattened users\n"
        "CREATE TABLE IF NOT EXISTS auth_user (\n  id DOUBLE,\n  username STRING,\n"
        "  PRIMARY KEY (id) NOT ENFORCED\n) WITH ('changelog.mode' = 'upsert');\n"
    ),
    "03_auth_user_insert.sql": (
        "INSERT INTO auth_user\nSELECT after.ID, after.USERNAME FROM `fd.SAMPLE.AUTH_USER` WHERE after IS NOT NULL;\n"
    ),
    "04_user_transaction.sql": (
        "/* transactions; note: FROM flagged_transaction in a comment is not a dependency */\n"
        "CREATE TABLE user_transaction AS\n"
        "SELECT after.ID AS id, after.AMOUNT AS amount, after.ACCOUNT_ID AS account_id, $rowtime AS received_at\n"
        "FROM `fd.SAMPLE.USER_TRANSACTION` WHERE op <> 'd' AND source.`table` = 'FROM auth_user';\n"
    ),
    "05_flagged_transaction.sql": (
        "CREATE TABLE flagged_transaction AS\nSELECT t.id, t.amount, u.username\n"
        "FROM user_transaction AS t\nJOIN auth_user FOR SYSTEM_TIME AS OF t.received_at AS u ON t.account_id = u.id\n"
        "WHERE t.amount > 1000;\n"
    ),
    "06_flagged_user.sql": (
        "CREATE TABLE flagged_user AS\nSELECT username, COUNT(*) AS flagged\n"
        "FROM TABLE(TUMBLE(TABLE flagged_transaction, DESCRIPTOR(received_at), INTERVAL '1' MINUTE))\n"
        "GROUP BY username, window_start, window_end;\n"
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


def names(plan, prefix="fraud-dev") -> dict[str, str]:
    return {statement.key: statement.statement_name(prefix) for statement in plan.statements}


def test_code_only_drops_comments_and_string_contents_but_keeps_identifiers():
    sql = "SELECT 'it''s FROM x' AS s, `a--b` -- FROM y\nFROM z /* JOIN w */ JOIN v"
    code = code_only(sql)
    assert "FROM x" not in code and "FROM y" not in code and "JOIN w" not in code
    assert "`a--b`" in code and "FROM z" in code and "JOIN v" in code


def test_defined_and_used_tables():
    assert defined_tables(SAMPLE_SQL["02_auth_user.sql"]) == {"auth_user"}
    assert defined_tables(SAMPLE_SQL["04_user_transaction.sql"]) == {"user_transaction"}
    assert used_tables(SAMPLE_SQL["03_auth_user_insert.sql"]) == {"auth_user", "fd.SAMPLE.AUTH_USER"}
    assert used_tables(SAMPLE_SQL["04_user_transaction.sql"]) == {"fd.SAMPLE.USER_TRANSACTION"}
    assert {"user_transaction", "auth_user"} <= used_tables(SAMPLE_SQL["05_flagged_transaction.sql"])
    assert "flagged_transaction" in used_tables(SAMPLE_SQL["06_flagged_user.sql"])
    assert used_tables("SELECT * FROM `env`.`cluster`.`auth_user` a JOIN cat.db.user_transaction t ON a.id = t.id") >= {
        "auth_user", "user_transaction",
    }


def test_plan_follows_file_order_with_one_statement_per_file(sql_dir):
    plan = plan_statements(sql_dir)
    assert [s.file for s in plan.statements] == sorted(SAMPLE_SQL)
    assert [s.key for s in plan.statements] == [
        "01-cdc-auth-user-mode", "02-auth-user", "03-auth-user-insert", "04-user-transaction",
        "05-flagged-transaction", "06-flagged-user",
    ]
    assert plan.statements[1].sql == SAMPLE_SQL["02_auth_user.sql"].strip()


def test_dependencies_are_the_earlier_statements_that_define_or_alter_what_is_used(sql_dir):
    depends = {s.key: s.depends_on for s in plan_statements(sql_dir).statements}
    assert depends == {
        "01-cdc-auth-user-mode": (),
        "02-auth-user": (),
        "03-auth-user-insert": ("01-cdc-auth-user-mode", "02-auth-user"),
        "04-user-transaction": (),  # the comment and the string literal mention other tables; they do not count
        "05-flagged-transaction": ("02-auth-user", "04-user-transaction"),
        "06-flagged-user": ("05-flagged-transaction",),
    }


def test_produced_tables_map_to_their_creating_statement(sql_dir):
    assert plan_statements(sql_dir).produced_tables == {
        "auth_user": "02-auth-user",
        "user_transaction": "04-user-transaction",
        "flagged_transaction": "05-flagged-transaction",
        "flagged_user": "06-flagged-user",
    }


def test_names_are_stable_valid_and_carry_the_stack(sql_dir):
    first, second = names(plan_statements(sql_dir)), names(plan_statements(sql_dir))
    assert first == second
    for name in first.values():
        assert re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", name) and len(name) <= NAME_LIMIT
        assert name.startswith("fraud-dev-")
    assert names(plan_statements(sql_dir), "fraud-ha") != first
    long = names(plan_statements(sql_dir), "fraud-a-very-long-stack-name-for-testing")
    assert all(len(name) <= NAME_LIMIT for name in long.values()) and len(set(long.values())) == len(long)


def test_changing_a_definition_renames_it_and_everything_downstream_only(sql_dir):
    before = names(plan_statements(sql_dir))
    (sql_dir / "02_auth_user.sql").write_text(SAMPLE_SQL["02_auth_user.sql"].replace("username STRING", "username VARCHAR"))
    after = names(plan_statements(sql_dir))
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"02-auth-user", "03-auth-user-insert", "05-flagged-transaction", "06-flagged-user"}


def test_changing_an_insert_renames_only_it(sql_dir):
    before = names(plan_statements(sql_dir))
    (sql_dir / "03_auth_user_insert.sql").write_text(SAMPLE_SQL["03_auth_user_insert.sql"].replace("IS NOT NULL", "IS NOT NULL AND op <> 'd'"))
    after = names(plan_statements(sql_dir))
    assert {key for key in before if before[key] != after[key]} == {"03-auth-user-insert"}


def test_each_created_table_or_view_gets_its_drop_and_each_statement_knows_what_it_touches(sql_dir):
    plan = {p.key: p for p in plan_statements(sql_dir).statements}
    assert plan["01-cdc-auth-user-mode"].drop_sql is None  # it alters a CDC table the stack does not own
    assert plan["03-auth-user-insert"].drop_sql is None
    assert plan["02-auth-user"].drop_sql == "DROP TABLE IF EXISTS `auth_user`"
    assert plan["06-flagged-user"].drop_sql == "DROP TABLE IF EXISTS `flagged_user`"
    assert plan["03-auth-user-insert"].touches == {"auth_user", "fd.SAMPLE.AUTH_USER"}
    assert plan["05-flagged-transaction"].touches == {"flagged_transaction", "user_transaction", "auth_user"}
    assert defined_objects("CREATE TEMPORARY VIEW IF NOT EXISTS `big` AS SELECT 1") == {"big": "VIEW"}
    assert drop_sql({"big": "VIEW"}, "07_big.sql") == "DROP VIEW IF EXISTS `big`"
    with pytest.raises(ValueError, match=r"flink/07_two\.sql: expected one CREATE per file, found a, b"):
        drop_sql({"a": "TABLE", "b": "TABLE"}, "07_two.sql")


def test_a_drop_is_named_like_its_statement_and_renamed_with_it(sql_dir):
    before = {p.key: p for p in plan_statements(sql_dir).statements}
    drop_name = before["02-auth-user"].drop_statement_name("fraud-dev")
    assert drop_name == f"fraud-dev-drop-02-auth-user-{before['02-auth-user'].digest}" and len(drop_name) <= NAME_LIMIT
    assert drop_name != before["02-auth-user"].statement_name("fraud-dev")
    (sql_dir / "02_auth_user.sql").write_text(SAMPLE_SQL["02_auth_user.sql"].replace("username STRING", "name STRING"))
    after = {p.key: p for p in plan_statements(sql_dir).statements}
    with_drops = [key for key in before if before[key].drop_sql]
    renamed = {key for key in with_drops if before[key].drop_statement_name("p") != after[key].drop_statement_name("p")}
    # the changed table and every table built from it are dropped and rebuilt; user_transaction is untouched
    assert renamed == {"02-auth-user", "05-flagged-transaction", "06-flagged-user"}


def test_cdc_topic_identifiers_are_rewritten_for_another_prefix_and_schema(sql_dir):
    sql = "SELECT * FROM `fd.SAMPLE.AUTH_USER` WHERE note = 'fd.SAMPLE.AUTH_USER' -- `fd.SAMPLE.X`"
    assert rewrite_cdc_topics(sql, "fd", "SAMPLE") == sql
    rewritten = rewrite_cdc_topics(sql, "txn", "APPDATA")
    assert rewritten.startswith("SELECT * FROM `txn.APPDATA.AUTH_USER` WHERE note = 'fd.SAMPLE.AUTH_USER'")
    plan = plan_statements(sql_dir, "txn", "APPDATA")
    assert "`txn.APPDATA.USER_TRANSACTION`" in plan.statements[3].sql and "fd.SAMPLE" not in plan.statements[3].sql
    # the rewritten CDC table keeps its dependency on the statement that altered it
    assert plan.statements[2].depends_on == ("01-cdc-auth-user-mode", "02-auth-user")
    assert names(plan) != names(plan_statements(sql_dir))


def test_two_statements_in_one_file_are_refused(tmp_path):
    directory = write(tmp_path, {"01_two.sql": "CREATE TABLE a (x INT);\nCREATE TABLE b (x INT);\n"})
    with pytest.raises(ValueError, match=r"flink/01_two\.sql: expected one SQL statement per file"):
        plan_statements(directory)


def test_a_semicolon_inside_a_string_is_not_a_second_statement(tmp_path):
    directory = write(tmp_path, {"01_one.sql": "CREATE TABLE a (x STRING) WITH ('note' = 'a;b');"})
    assert len(plan_statements(directory).statements) == 1


def test_using_a_table_before_the_file_that_creates_it_is_refused(tmp_path):
    directory = write(tmp_path, {"01_reader.sql": "CREATE TABLE b AS SELECT * FROM a;", "02_a.sql": "CREATE TABLE a (x INT);"})
    with pytest.raises(ValueError, match=r"flink/01_reader\.sql uses table a, which flink/02_a\.sql creates later"):
        plan_statements(directory)


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no Flink SQL files"):
        plan_statements(tmp_path)


def test_cdc_modes_stated_in_the_sql_are_collected_and_must_agree(tmp_path):
    directory = write(tmp_path, {
        "01_a.sql": "-- CDC: decimal.handling.mode=double, time.precision.mode = connect\nCREATE TABLE a (x INT);",
        "02_b.sql": "-- assumes decimal.handling.mode=double\nCREATE TABLE b (x INT);",
    })
    assert plan_statements(directory).cdc_modes == {"decimal.handling.mode": "double", "time.precision.mode": "connect"}
    (directory / "02_b.sql").write_text("-- decimal.handling.mode: precise\nCREATE TABLE b (x INT);")
    with pytest.raises(ValueError, match=r"02_b\.sql assumes decimal\.handling\.mode=precise but flink/01_a\.sql"):
        plan_statements(directory)
