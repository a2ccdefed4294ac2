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
        "One row per asset × check_name. The latest result of every data-quality check as "
        "of the run that published this "
        "data: dbt tests, Great Expectations suites, quarantine share and freshness, with "
        "severity and outcome. A check of a model the run left out as unchanged keeps the "
        "result of the run that last evaluated it (`run_id`, `evaluated_at`).",
        {
            "check_name": "The check's name as Dagster shows it (a dbt test's unique name, a "
            "GX suite, `quarantine_share`, a freshness check). Not unique alone: a check of the "
            "same name hangs off several assets; a row is one (asset, check_name).",
            "asset": "The asset the check belongs to (a raw table, a dbt model, serving).",
            "severity": "ERROR (a failure blocks the publish) or WARN (reported, never blocks).",
            "passed": "Whether the check passed; a failed WARN check is a warning.",
            "description": "What the check found, in words (never the values of a row).",
            "evaluated_at": "When the check was evaluated (an instant, UTC).",
            "run_id": "Dagster run id of the run that evaluated it.",
        },
    ),
    "quarantine_summary": TableDoc(
        "Rows set aside at ingestion, counted per system, table, file and reason (never the "
        "rejected values themselves).",
        {
            "system": "Source system of the landing file (pms, pos, phone, messaging, crm, "
            "reviews).",
            "table_name": "Table of the landing contract the file was for.",
            "source_file": "The landing file, relative to the landing folder.",
            "reason": "Why the rows were set aside (the column and the rule; duplicate keys name "
            "their row numbers).",
            "rows": "Number of rows of that file set aside for that reason.",
            "rows_replaced": "Of those rows, how many a later load replaced (the same file "
            "delivered again, or a row with the same key in a later extract); the rest are "
            "still missing from the warehouse.",
        },
    ),
    "loaded_files": TableDoc(
        "One row per load_id × file_path: every landing file the warehouse loaded or "
        "refused, with row counts (a refused file delivered again, corrected, has a row for "
        "each delivery).",
        {
            "load_id": "Id of the load that read the file (its UTC start, e.g. "
            "20261206T085038.163140Z).",
            "file_path": "The landing file, relative to the landing folder.",
            "system": "Source system (the file's first folder).",
            "table_name": "Contract table (the file's second folder).",
            "extract_id": "The file's name without its suffix, normally the extract's date; "
            "extracts of a table load in this order.",
            "status": "loaded, or refused (the whole file set aside: see refusal_reason). Files "
            "that failed for the loader's own reasons are not recorded and are read again.",
            "refusal_reason": "Why a refused file was set aside; null when loaded.",
            "rows_read": "Data rows in the file.",
            "rows_inserted": "Rows whose key was new to the raw table.",
            "rows_updated": "Rows that replaced the stored row of their key (a newer updated_at, "
            "or the same one from a later extract).",
            "rows_unchanged": "Rows that lost to the stored row of their key (an older "
            "updated_at): nothing changed.",
            "rows_quarantined": "Rows set aside (ops.quarantine_summary says why).",
            "loaded_at": "When the file was loaded (an instant, UTC).",
        },
    ),
    "run_log": TableDoc(
        "One row per run, whether it published, was blocked by a check, failed or was "
        "cancelled: start, finish, rows loaded, check outcomes. The run that published this "
        "data counts the checks evaluated before it published.",
        {
            "run_id": "Dagster run id (the first attempt's, for a run that was retried).",
            "started_at": "When the run's first attempt started (an instant, UTC).",
            "finished_at": "When the run's record was written, at its end (an instant, UTC).",
            "rows_loaded": "Raw rows the run loaded (inserted or updated), every system.",
            "checks_passed": "Checks this run evaluated that passed (the newest evaluation of "
            "each). Fewer than ops.check_results holds: that keeps every check's latest result, "
            "those of models this run left out as unchanged and those evaluated after the "
            "publish included.",
            "checks_warned": "WARN checks that failed: reported, not blocking.",
            "checks_failed": "ERROR checks that failed.",
            "status": "published; blocked (a blocking check failed); failed; cancelled; or "
            "'succeeded, not published' (nothing failed, the publish was not selected).",
            "blocked_by": "The failed blocking checks as asset:check pairs, comma-separated; "
            "null unless blocked.",
            "demo_key_on_real_data": "The run pseudonymised non-demo data with the public demo "
            "key (MEDSPA_PHI_KEY unset): its pseudonyms are not secret.",
        },
    ),
    "serving_version": TableDoc(
        "The version (pipeline run id) of the data served in this database and when it was "
        "published; one row.",
        {
            "version": "Run id of the pipeline run that built this data.",
            "published_at": "When this version was published here (an instant, UTC).",
        },
    ),
}


#: The tenants' database only: the column every served table is partitioned by.
TENANT_DOC = (
    "The tenant (clinic or chain) the row belongs to; a tenant's login sees only its own rows."
)

#: The tenants' database only: built by the peer-benchmarks step (serving/peer_benchmarks.py),
#: not by dbt, so its text is here.
BENCHMARK_DOCS: dict[str, TableDoc] = {
    "kpi_benchmarks": TableDoc(
        "How this tenant's chain-wide KPIs stand among its peers on this deployment: the "
        "peers' quartiles of each KPI's newest final period with enough peers, and this "
        "tenant's own value and rank. No other tenant's value or name is ever shown. A period "
        "is shown only with the peers and values it was first published with: when they "
        "change, its row is withheld.",
        {
            "kpi": "The KPI (kpi_targets.kpi).",
            "grain": "week or month.",
            "period_start": "First day of the period compared (the newest final period that "
            "enough tenants have; its figures never change once published).",
            "peers": "How many tenants' values the percentiles are computed from (at least 5).",
            "p25": "The peers' 25th percentile of the KPI's value.",
            "p50": "The peers' median.",
            "p75": "The peers' 75th percentile.",
            "own_value": "This tenant's own value of the KPI for the period.",
            "own_percentile_rank": "This tenant's percentile rank among the peers (0 to 1).",
        },
    )
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
