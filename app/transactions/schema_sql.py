"""What `manage.py migrate` does to an empty database, as SQL a database host can run before the app exists.

The Oracle host creates the app's tables at boot (components/oracle/app_schema.sql), so the CDC connector
need not wait for the EKS cluster and the migration Job. The SQL comes from Django itself, offline: every
model of the migration plan in its final state through the backend's own schema editor (the statements
``migrate`` would leave behind), then ``django_migrations`` with every migration of the plan recorded as
applied. The app keeps owning its schema: its Job still runs ``migrate``, which finds nothing to do on such
a database and applies any later migration as usual.

Only schema operations can be replayed this way. A data migration (RunPython, RunSQL) is refused unless it
is listed in ``EMPTY_DATABASE_NOOPS`` with the reason it changes nothing on an empty database.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations as ops
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.functions import Now
from django.db.models.sql import Query
from django.db.utils import ConnectionHandler

ORACLE_VERSION = (21, 3, 0, 0, 0)  # the XE image the stack runs (oracleImage's default)
# (app, migration) -> why its data operations do nothing on an empty database.
EMPTY_DATABASE_NOOPS = {
    ("contenttypes", "0002_remove_content_type_name"): "its RunPython only runs backwards",
    ("auth", "0011_update_proxy_permissions"): "it moves permissions of proxy models; an empty database has none",
}
SCHEMA_OPERATIONS = (
    ops.CreateModel, ops.DeleteModel, ops.RenameModel, ops.AlterModelTable, ops.AlterModelTableComment,
    ops.AlterUniqueTogether, ops.AlterIndexTogether, ops.AlterOrderWithRespectTo, ops.AlterModelOptions,
    ops.AlterModelManagers, ops.AddField, ops.RemoveField, ops.AlterField, ops.RenameField,
    ops.AddIndex, ops.RemoveIndex, ops.RenameIndex, ops.AddConstraint, ops.RemoveConstraint,
    ops.AlterConstraint,
)


class DataMigrationError(Exception):
    """A migration whose effect SQL from the final model state cannot reproduce."""


@dataclass(frozen=True)
class MigrateSql:
    statements: tuple[str, ...]  # each one SQL statement without its terminator, in order
    migrations: tuple[tuple[str, str], ...]  # (app, name) recorded as applied, in plan order


def offline_oracle() -> BaseDatabaseWrapper:
    """Django's Oracle backend without a server: schema SQL needs the version, which would otherwise be queried."""
    connection = ConnectionHandler({"default": {"ENGINE": "django.db.backends.oracle", "NAME": "offline"}})["default"]
    connection.__dict__["oracle_version"] = ORACLE_VERSION
    return connection


def _check_operations(plan) -> None:
    for migration, _ in plan:
        key = (migration.app_label, migration.name)
        data = [type(op).__name__ for op in migration.operations if not isinstance(op, SCHEMA_OPERATIONS)]
        if data and key not in EMPTY_DATABASE_NOOPS:
            raise DataMigrationError(
                f"migration {key[0]}.{key[1]} has {', '.join(data)}: the database host cannot replay it as schema SQL. "
                f"Make it a schema-only migration, or add it to EMPTY_DATABASE_NOOPS in transactions/schema_sql.py "
                f"with the reason it changes nothing on an empty database"
            )


def migrate_sql(connection: BaseDatabaseWrapper) -> MigrateSql:
    """The statements that leave ``connection``'s kind of database as ``migrate`` leaves an empty one."""
    executor = MigrationExecutor(None)  # no connection: the plan of a database with nothing applied
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _check_operations(plan)
    state = executor.loader.project_state()
    created = [model for model in state.apps.get_models() if model._meta.managed and not model._meta.proxy]
    recorder = MigrationRecorder(connection)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        for model in created:
            editor.create_model(model)  # auto-created many-to-many tables come with their model
        editor.create_model(recorder.Migration)
    statements = [sql.rstrip().removesuffix(";") for sql in editor.collected_sql]

    table = connection.ops.quote_name(recorder.Migration._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(recorder.Migration._meta.get_field(f).column) for f in ("app", "name", "applied"))
    compiler = Query(recorder.Migration).get_compiler(connection=connection)
    now_sql, now_params = compiler.compile(Now())
    now = now_sql % tuple(now_params)
    applied = tuple((migration.app_label, migration.name) for migration, _ in plan)
    for app, name in applied:
        values = f"{editor.quote_value(app)}, {editor.quote_value(name)}, {now}"
        statements.append(f"INSERT INTO {table} ({columns}) VALUES ({values})")
    return MigrateSql(tuple(statements), applied)


ORACLE_HEADER = """\
WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE
-- Generated by `python app/manage.py schema_sql` from the app's models and migrations: do not edit, regenerate.
-- What `manage.py migrate` leaves in an empty schema: the app's tables and django_migrations with every
-- migration recorded as applied. Runs as the app's user in the PDB, once: a schema that has django_migrations
-- is left alone (the app's own `migrate` then takes over). DDL commits as it goes, so a run stopped halfway
-- leaves tables behind that a second run refuses to recreate; drop the schema's tables to start over.
SET VERIFY OFF FEEDBACK OFF
CONNECT ${app_schema}/"&app_password"@//localhost:1521/${pdb_name}
DECLARE
  v_migrated PLS_INTEGER;
BEGIN
  SELECT COUNT(*) INTO v_migrated FROM user_tables WHERE table_name = 'DJANGO_MIGRATIONS';
  IF v_migrated = 0 THEN
"""
ORACLE_FOOTER = """\
    COMMIT;
  END IF;
END;
/
EXIT
"""


def oracle_script(sql: MigrateSql) -> str:
    """The SQL*Plus script the Oracle boot runs: each statement through EXECUTE IMMEDIATE, all or nothing skipped."""
    lines = []
    for statement in sql.statements:
        # q'[...]' quotes the statement verbatim; '&' would be a SQL*Plus substitution and '${' a boot placeholder.
        for forbidden in ("]'", "&", "${"):
            if forbidden in statement:
                raise ValueError(f"statement contains {forbidden!r}, which the boot script cannot carry: {statement}")
        lines.append(f"    EXECUTE IMMEDIATE q'[{statement}]';\n")
    return ORACLE_HEADER + "".join(lines) + ORACLE_FOOTER
