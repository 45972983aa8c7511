"""Second day for Flink, under mocks: a changed file in flink/ evolves its table in place, and re-creating the
statements Confluent purges (terminal-state statements are deleted after 30 days; `pulumi refresh` then drops them
from the state and the next `up` creates them again) drops nothing and rebuilds no table.

Pulumi's engine compares each resource's new inputs with those in the state and asks the provider whether a change
replaces it (``REPLACING_INPUTS``: the Confluent provider's ForceNew inputs) or updates it in place; it also
replaces a dependent only when an input of the dependent takes a value from a resource being replaced. Both
decisions read what the registrations below carry.
"""
from __future__ import annotations

import sql_text
from components import flink_pool
from mockcloud.program import Program, run_program

TABLE = "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable"
STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
CONNECTOR = "confluentcloud:index/connector:Connector"


def changed_inputs(before: Program, after: Program) -> dict[str, set[str]]:
    """URN -> the inputs whose values differ between two evaluations (URNs must be the same set)."""
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    assert set(old) == set(new), f"added {set(new) - set(old)}, removed {set(old) - set(new)}"
    changes = {}
    for urn, resource in new.items():
        keys = {key for key in set(resource.inputs) | set(old[urn].inputs) if resource.inputs.get(key) != old[urn].inputs.get(key)}
        if keys:
            changes[urn] = keys
        assert resource.options == old[urn].options, urn
        assert set(resource.dependencies) == set(old[urn].dependencies), urn
    return changes


def test_changing_one_file_evolves_only_its_table_in_place(sql_copy):
    before = run_program("dev")
    path = sql_copy / "04_user_transaction.sql"  # read by two tables and by the Redshift sink
    original = path.read_text()
    path.write_text(original.replace("WHERE op <> 'UPDATE_BEFORE'", "WHERE op IN ('INSERT', 'UPDATE_AFTER', 'DELETE')"))
    assert path.read_text() != original
    after = run_program("dev")
    table = after.one(TABLE, "fraud-dev-flink-04-user-transaction")
    assert changed_inputs(before, after) == {table.urn: {"query"}}
    assert table.inputs["displayName"] == "user_transaction"  # the same table, so the same topic
    assert not {"query"} & set(flink_pool.REPLACING_INPUTS) and table.options["replace_on_changes"] == []
    for connector in after.of_type(CONNECTOR):  # no sink is tied to the table's fate
        assert connector.options["replace_with"] == [] and connector.options["replace_on_changes"] == []


def test_changing_watermark_key_options_or_start_mode_is_in_place_too(sql_copy):
    before = run_program("dev")
    path = sql_copy / "06_flagged_user.sql"
    path.write_text(path.read_text().replace("START_MODE = FROM_BEGINNING", "START_MODE = RESUME_OR_FROM_BEGINNING")
                    .replace("'value.fields-include' = 'all'", "'value.fields-include' = 'except-key'"))
    after = run_program("dev")
    (changes,) = changed_inputs(before, after).values()
    assert changes == {"startMode", "tableOptions"} and not changes & set(flink_pool.REPLACING_INPUTS)


def test_a_change_that_would_replace_a_table_is_visible(sql_copy):
    """Distribution is ForceNew in the provider: such a change drops the table; the test names what it touches."""
    before = run_program("dev")
    path = sql_copy / "06_flagged_user.sql"
    path.write_text(path.read_text().replace("INTO 1 BUCKETS", "INTO 2 BUCKETS"))
    (changes,) = changed_inputs(before, run_program("dev")).values()
    assert changes & set(flink_pool.REPLACING_INPUTS) == {"distribution"}


def test_re_creating_purged_statements_drops_nothing_and_rebuilds_no_table(dev):
    # Every statement of the stack is DDL that completes, so every one is purged after 30 days.
    purged = dev.of_type(STATEMENT)
    assert purged
    state = {r.urn: r for r in dev.resources if r not in purged}
    again = run_program("dev")
    created = [r for r in again.resources if r.urn not in state]
    assert {r.urn for r in created} == {r.urn for r in purged}
    for statement in created:
        text = statement.inputs["statement"]
        parsed = sql_text.parse_file("statement.sql", text)
        assert isinstance(parsed, sql_text.AlterOptions), "only ALTER TABLE ... SET may be re-run"
        assert parsed.table in {"fd.SAMPLE.AUTH_USER", "fd.SAMPLE.USER_TRANSACTION"}  # CDC tables, never a derived one
        assert not sql_text.dropped_tables(text) and not sql_text.created_tables(text)
        # the documented interpretation, set again: the same values as before, so the same tables
        assert (parsed.options["value.format"], parsed.options["changelog.mode"]) == ("avro-debezium-registry", "retract")
    created_urns = {r.urn for r in created}
    for resource in again.resources:
        if resource.urn in state:
            assert resource.inputs == state[resource.urn].inputs, f"{resource.name} would be updated"
            takes_from = {urn for urns in resource.property_dependencies.values() for urn in urns}
            assert not takes_from & created_urns, f"{resource.name} takes an input from a re-created statement"
    assert len(again.of_type(TABLE)) == 4 and not [r for r in again.of_type(TABLE) if r.urn not in state]
