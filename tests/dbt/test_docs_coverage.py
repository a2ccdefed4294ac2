"""Every mart and every column it publishes is described in the dbt docs; so is every
intermediate model.

Why: the README promises that the dbt docs document every mart and column with its exact
definition, and the PostgreSQL publish copies each description as a table or column comment
(serving/pg_docs.py skips an empty one, so an undocumented column reaches BI tools bare).

The descriptions are read from the prebuilt manifest, `dbt_project/target/manifest.json`
(`orchestration.manifest`, rebuilt first when missing or older than the project). Which columns
a mart produces comes from two places:

- a mart with an enforced contract (the KPI and ops marts) produces exactly the columns its YAML
  lists, or dbt refuses to build it, so the manifest alone is the list: checked without a build;
- the other marts (core) are compared with the tables of the warehouse the dbt tests already
  build once per session (`built_warehouse`): a column the SQL produces but the docs lack fails,
  and so does a documented column the table does not have (a stale description).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.manifest import load_manifest


def _models(manifest: dict[str, Any], folder: str) -> list[dict[str, Any]]:
    """The model nodes under `models/<folder>/`, by name."""
    return sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["original_file_path"].startswith(f"models/{folder}/")
        ),
        key=lambda node: node["name"],
    )


def _described(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip())


def _undescribed_columns(node: dict[str, Any], names: list[str]) -> list[str]:
    documented = node["columns"]
    return [
        f"{node['name']}.{name}"
        for name in names
        if name not in documented or not _described(documented[name].get("description"))
    ]


def test_every_mart_and_intermediate_model_is_described():
    manifest = load_manifest()
    marts = _models(manifest, "marts")
    intermediates = _models(manifest, "intermediate")
    assert len(marts) > 30 and len(intermediates) > 15
    missing = [n["name"] for n in marts + intermediates if not _described(n.get("description"))]
    assert missing == [], "models without a description:\n" + "\n".join(missing)


def test_every_column_a_mart_lists_is_described_and_contracted_marts_list_all_they_produce():
    """Listed columns: every mart. With an enforced contract the list is what the SQL produces
    (dbt checks the built columns against it), so those marts need no build here."""
    manifest = load_manifest()
    missing = []
    for node in _models(manifest, "marts"):
        if node["config"].get("contract", {}).get("enforced"):
            assert node["columns"], f"{node['name']}: an enforced contract without columns"
        missing += _undescribed_columns(node, list(node["columns"]))
    assert missing == [], "mart columns without a description:\n" + "\n".join(missing)


@pytest.mark.e2e
@pytest.mark.xdist_group("dbt_core")
def test_every_column_of_every_built_mart_is_described(built_warehouse: Path):
    """The columns dbt built for each mart (all of them, contracted or not) against the docs."""
    manifest = load_manifest()
    marts = _models(manifest, "marts")
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        rows = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "order by schema_name, table_name, column_index"
        ).fetchall()
    finally:
        con.close()
    built: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        built.setdefault((schema, table), []).append(column)

    problems = []
    for node in marts:
        relation = (node["schema"], node.get("alias") or node["name"])
        columns = built.get(relation)
        if columns is None:
            problems.append(f"{node['name']}: not built as {'.'.join(relation)}")
            continue
        problems += [
            f"{name}: produced but not described" for name in _undescribed_columns(node, columns)
        ]
        problems += [
            f"{node['name']}.{name}: described but not produced"
            for name in node["columns"]
            if name not in columns
        ]
    assert problems == [], "mart docs out of step with the built marts:\n" + "\n".join(problems)
