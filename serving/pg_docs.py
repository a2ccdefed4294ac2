"""Table and column descriptions for PostgreSQL `COMMENT`s, from dbt's manifest.json.

The dbt docs are the one home of every mart's and column's definition; Metabase shows
PostgreSQL comments in its data reference and Power BI in its navigator, so the same text
reaches BI users. The `ops` tables are built by the publish step, not dbt: their text is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableDoc:
    """One table's description and its columns' descriptions (empty ones left out)."""

    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)


OPS_DOCS: dict[str, TableDoc] = {
    "check_results": TableDoc(
        "Every data-quality check of the run that published this data: dbt tests, Great "
        "Expectations suites, quarantine share and freshness, with severity and outcome."
    ),
    "quarantine_summary": TableDoc(
        "Rows set aside at ingestion, counted per system, table, file and reason (never the "
        "rejected values themselves)."
    ),
    "loaded_files": TableDoc(
        "Every landing file the warehouse loaded or refused, with row counts."
    ),
    "run_log": TableDoc("One row per published run: start, finish, rows loaded, check outcomes."),
    "serving_version": TableDoc(
        "The version (pipeline run id) of the data served in this database and when it was "
        "published; one row.",
        {"version": "Run id of the pipeline run that built this data."},
    ),
}


def docs_from_manifest(manifest: Mapping[str, Any]) -> dict[str, TableDoc]:
    """Descriptions of every model and seed, keyed by the published table name."""
    docs: dict[str, TableDoc] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        columns = {
            name: col["description"].strip()
            for name, col in node.get("columns", {}).items()
            if col.get("description", "").strip()
        }
        name = node.get("alias") or node["name"]
        docs[name] = TableDoc(node.get("description", "").strip(), columns)
    return docs
