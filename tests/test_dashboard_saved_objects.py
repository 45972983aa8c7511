"""The fraud dashboard's saved objects: self-contained, consistent with the index mappings, the OpenSearch sink's
indexes and the columns Flink writes."""
from __future__ import annotations

import json
import re

import pytest

import sql_text
from components import flink_pool
from components.opensearch import DASHBOARD_ID, INDEX_MAPPINGS_FILE, SAVED_OBJECTS_FILE
from components.sink_connectors import OPENSEARCH_INDEXES

OBJECTS = [json.loads(line) for line in SAVED_OBJECTS_FILE.read_text().splitlines() if line.strip()]
BY_KEY = {(o["type"], o["id"]): o for o in OBJECTS}
MAPPINGS = json.loads(INDEX_MAPPINGS_FILE.read_text())
OSD_TYPE = {"long": "number", "double": "number", "keyword": "string", "date": "date"}
# The field types each aggregation accepts.
AGG_FIELD_TYPES = {
    "terms": {"string", "number", "date"},
    "max": {"number", "date"},
    "sum": {"number"},
    "cardinality": {"string", "number", "date"},
    "date_histogram": {"date"},
}


def of_type(type_: str) -> list[dict]:
    return [o for o in OBJECTS if o["type"] == type_]


def fields(pattern: dict) -> dict[str, dict]:
    return {f["name"]: f for f in json.loads(pattern["attributes"]["fields"])}


def pattern_of(visualization: dict) -> dict:
    search = json.loads(visualization["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    [reference] = [r for r in visualization["references"] if r["name"] == search["indexRefName"]]
    assert reference["type"] == "index-pattern"
    return BY_KEY[("index-pattern", reference["id"])]


def test_every_line_is_a_unique_saved_object():
    assert len(OBJECTS) == len(BY_KEY) == 9
    for item in OBJECTS:
        assert {"type", "id", "attributes", "references"} <= set(item)
        assert item["type"] in {"index-pattern", "visualization", "dashboard"}


def test_the_dashboard_references_only_objects_defined_in_the_file():
    [dashboard] = of_type("dashboard")
    assert dashboard["id"] == DASHBOARD_ID
    references = {r["name"]: r for r in dashboard["references"]}
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    assert len(panels) == len(references) == len(of_type("visualization"))
    for panel in panels:
        reference = references[panel["panelRefName"]]
        assert (reference["type"], reference["id"]) in BY_KEY
    assert {r["id"] for r in references.values()} == {v["id"] for v in of_type("visualization")}
    json.loads(dashboard["attributes"]["optionsJSON"])
    json.loads(dashboard["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def test_panels_do_not_overlap_on_the_48_column_grid():
    cells = set()
    for panel in json.loads(of_type("dashboard")[0]["attributes"]["panelsJSON"]):
        grid = panel["gridData"]
        assert grid["x"] + grid["w"] <= 48
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, panel["panelIndex"]
        cells |= area


def test_index_patterns_are_the_opensearch_sinks_indexes_and_flinks_tables():
    titles = {p["attributes"]["title"] for p in of_type("index-pattern")}
    assert titles == {topic for topic, *_ in OPENSEARCH_INDEXES} == set(MAPPINGS)
    produced = set(flink_pool.plan_statements(flink_pool.FLINK_DIR).produced_tables)
    assert titles <= produced


@pytest.mark.parametrize("pattern", of_type("index-pattern"), ids=lambda p: p["attributes"]["title"])
def test_index_pattern_fields_match_the_index_mappings(pattern):
    index = pattern["attributes"]["title"]
    declared = {name: f for name, f in fields(pattern).items() if not name.startswith("_")}
    assert {name: f["type"] for name, f in declared.items()} == {
        name: OSD_TYPE[spec["type"]] for name, spec in MAPPINGS[index].items()
    }
    assert fields(pattern)[pattern["attributes"]["timeFieldName"]]["type"] == "date"


def _outermost_projection(code: str) -> str:
    """What lies between the query's own SELECT and its FROM: both outside any parentheses (a WITH clause's
    queries and the subqueries are inside them)."""
    depth, at, select = 0, 0, None
    for match in re.finditer(r"[()]|\bSELECT\b|\bFROM\b", code, re.I):
        token = match.group(0).upper()
        if token in "()":
            depth += 1 if token == "(" else -1
        elif depth == 0 and token == "SELECT":
            select, at = match.end(), 0
        elif depth == 0 and token == "FROM" and select is not None and not at:
            at = match.start()
    assert select is not None and at, "no SELECT ... FROM outside parentheses"
    return code[select:at]


@pytest.mark.parametrize("index", sorted(MAPPINGS))
def test_mapped_fields_are_columns_of_the_flink_table(index):
    [statement] = [s for s in flink_pool.plan_statements(flink_pool.FLINK_DIR).statements if index in s.creates]
    outer = _outermost_projection(sql_text.code_only(statement.sql))  # the table's columns
    # Columns are lower-case: an alias (`... AS name`) or a bare, possibly qualified, column on its own line.
    columns = set(re.findall(r"\b(?i:AS)\s+([a-z_]+)\s*,?\s*$", outer, re.M))
    columns |= set(re.findall(r"^\s*(?:[a-z]\.)?([a-z_]+),?\s*$", outer, re.M))
    assert set(MAPPINGS[index]) == columns


@pytest.mark.parametrize("visualization", of_type("visualization"), ids=lambda v: v["id"])
def test_each_visualization_aggregates_existing_fields_of_its_index_pattern(visualization):
    state = json.loads(visualization["attributes"]["visState"])
    assert state["title"] == visualization["attributes"]["title"]
    available = fields(pattern_of(visualization))
    assert state["aggs"], visualization["id"]
    for agg in state["aggs"]:
        field = agg["params"].get("field")
        if agg["type"] == "count":
            assert field is None
            continue
        assert field in available, (visualization["id"], field)
        assert available[field]["aggregatable"] and available[field]["type"] in AGG_FIELD_TYPES[agg["type"]], (
            visualization["id"], agg["type"], field)
        if "orderBy" in agg["params"]:
            assert agg["params"]["orderBy"] in {a["id"] for a in state["aggs"] if a["schema"] == "metric"}


def test_flagged_transactions_over_time_uses_the_detection_time():
    state = json.loads(BY_KEY[("visualization", "fraud-flagged-transactions-over-time")]["attributes"]["visState"])
    [histogram] = [a for a in state["aggs"] if a["type"] == "date_histogram"]
    assert histogram["params"]["field"] == "detected_at"
    assert pattern_of(BY_KEY[("visualization", "fraud-flagged-transactions-over-time")])["attributes"]["title"] == "flagged_transaction"
