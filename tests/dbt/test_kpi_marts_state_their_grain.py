"""Every KPI mart's description opens with its grain, as its key test states it.

An analyst reads the description (dbt docs, the DuckDB and PostgreSQL comments) and never the
tests: without the grain written there, a join on `period_start` and `location_id` alone
repeats every KPI row. The sentence is checked against the `unique_combination` test, so
the two cannot drift apart when a drill-down gains a dimension.
"""

from __future__ import annotations

from orchestration.manifest import load_manifest


def _grain_sentence(columns: list[str]) -> str:
    return "One row per " + " × ".join(columns) + "."


def test_every_kpi_mart_description_states_the_grain_its_key_test_checks():
    manifest = load_manifest()
    nodes = manifest["nodes"]
    keys = {
        node["attached_node"]: node["test_metadata"]["kwargs"]["columns"]
        for node in nodes.values()
        if node["resource_type"] == "test"
        and node.get("test_metadata", {}).get("name") == "unique_combination"
        and node.get("attached_node")
    }
    marts = [
        node
        for uid, node in nodes.items()
        if node["resource_type"] == "model" and node["fqn"][1:3] == ["marts", "kpi"]
    ]
    assert len(marts) > 15, "the KPI marts were not found in the manifest"
    missing = [
        f"{node['name']}: {_grain_sentence(keys[uid])!r}"
        for uid, node in ((n["unique_id"], n) for n in marts)
        if uid in keys and not node["description"].startswith(_grain_sentence(keys[uid]))
    ]
    assert not missing, "KPI marts whose description does not open with its grain: " + "; ".join(
        missing
    )
    assert {n["unique_id"] for n in marts} - set(keys) <= {"model.medspa.reporting_periods"}
