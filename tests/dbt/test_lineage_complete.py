"""Every relation a model's SQL reads is one of its dbt parents.

The nightly leaves out a model whose parents are unchanged since its last build
(`orchestration/defs/dbt/unchanged.py`), and Dagster draws its lineage and staleness from the
same parents. A model that read a raw table or another model without dbt knowing (a relation
built by hand in a macro, a loop over `graph`) would be left out while that input changed.
Checked on the SQL dbt wrote for a full build and on the incremental branch compiled against
the built warehouse; the only other relations a model may name are its own state tables in
`dbt_state`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import dbt

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

RELATION = re.compile(r'"warehouse"\."(\w+)"\."(\w+)"')


def _undeclared(target: Path, folder: str, models: set[str]) -> dict[str, list[str]]:
    """Model name -> relations its SQL under `target/<folder>` names that are not its parents;
    the SQL of exactly `models` (names) must be there."""
    manifest = json.loads((target / "manifest.json").read_text())
    relations = {}
    for uid, node in [*manifest["nodes"].items(), *manifest["sources"].items()]:
        if node["resource_type"] in ("model", "seed", "source"):
            relations[(node["schema"], node.get("identifier") or node["alias"])] = uid
    found: dict[str, list[str]] = {}
    checked = set()
    for path in sorted((target / folder).rglob("*.sql")):
        uid = f"model.medspa.{path.stem}"
        node = manifest["nodes"].get(uid)
        if node is None:
            continue  # a test's SQL
        checked.add(path.stem)
        parents = set(node["depends_on"]["nodes"])
        named = set(RELATION.findall(path.read_text()))
        bad = sorted(
            f"{schema}.{name}"
            for schema, name in named
            if (schema, name) in relations
            and relations[(schema, name)] not in parents
            and relations[(schema, name)] != uid
        )
        strangers = sorted(
            f"{schema}.{name}"
            for schema, name in named
            if (schema, name) not in relations
            and schema != "dbt_state"
            and name != f"{path.stem}__dbt_tmp"  # a view's own relation while it is replaced
        )
        if bad or strangers:
            found[path.stem] = bad + strangers
    assert checked == models
    return found


def _models(target: Path, materialized: str | None = None) -> set[str]:
    manifest = json.loads((target / "manifest.json").read_text())
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and (materialized is None or n["config"]["materialized"] == materialized)
    }


def test_full_build_reads_only_declared_parents(built_warehouse: Path) -> None:
    target = built_warehouse.parent / "target"
    models = _models(target)
    assert len(models) > 80
    assert _undeclared(target, "run", models) == {}


def test_incremental_branch_reads_only_declared_parents(
    built_warehouse: Path, tmp_path: Path
) -> None:
    """The SQL an incremental night runs: compiled against the built warehouse, where each
    incremental model exists, so `is_incremental()` holds."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    dbt(["compile", "--select", "config.materialized:incremental"], warehouse, tmp_path)
    target = tmp_path / "target"
    incremental = _models(target, "incremental")
    assert len(incremental) > 30
    # the incremental branch indeed: it reads the model's own table
    compiled = next((target / "compiled").rglob("fct_messages.sql")).read_text()
    assert '"marts"."fct_messages"' in compiled
    assert _undeclared(target, "compiled", incremental) == {}
