"""A key column the landing contract lets be null is declared `nullable` in every key test below.

`crm.marketing_spend.campaign` is a key part whose null is a value of its own (spend without a
campaign). The generic `unique_combination` test counts a null key part as a failure unless the
column is listed in `nullable`. Staging declared it; `fct_marketing_spend`, one model further,
did not, so one spend row without a campaign failed an error-severity test and blocked every
publish, night after night. This test walks every model built from a table with such a column
and fails on each key test over that column that does not declare it nullable.
"""

from __future__ import annotations

from ingestion.contract import load_contract
from orchestration.manifest import load_manifest


def _descendants(manifest: dict, root: str) -> set[str]:
    """Every model built from `root`, `root` included."""
    seen, todo = set(), [root]
    while todo:
        uid = todo.pop()
        if uid in seen or not uid.startswith("model."):
            continue
        seen.add(uid)
        todo.extend(manifest["child_map"].get(uid, []))
    return seen


def _key_tests(manifest: dict) -> list[tuple[str, list[str], list[str]]]:
    """(model, key columns, nullable columns) of every unique_combination test."""
    tests = []
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and meta.get("name") == "unique_combination":
            kwargs = meta["kwargs"]
            tests.append((node["attached_node"], kwargs["columns"], kwargs.get("nullable") or []))
    return tests


def test_every_key_test_below_a_nullable_key_column_declares_it_nullable():
    manifest = load_manifest()
    contract = load_contract()
    undeclared, checked = [], 0
    for table in contract.tables:
        for column in table.nullable_key_columns:
            staging = f"model.medspa.stg_{table.system}__{table.name}"
            assert staging in manifest["nodes"], f"no staging model for {table.qualified_name}"
            lineage = _descendants(manifest, staging)
            for model, columns, nullable in _key_tests(manifest):
                if model in lineage and column in columns:
                    checked += 1
                    if column not in nullable:
                        undeclared.append(f"{model.split('.')[-1]}: {column}")
    assert checked >= 2  # staging and the fact, at least: the walk found the tests
    assert undeclared == [], (
        "these key tests fail on a null the landing contract allows; add the column to the "
        f"test's `nullable:` list: {', '.join(undeclared)}"
    )
