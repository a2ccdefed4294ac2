"""Hand the winning rows of one system to dlt: one pipeline and dataset per system.

The dataset is `raw_<system>` and the resources are named after the contract tables, so
dlt writes into exactly the tables `raw_schema.ensure_raw_tables` created (dlt finds them
and only adds the columns it lacks: lineage, drift). Column hints carry the contract's
types and keys; the data-type contract is frozen, so a value of another type fails loudly
instead of growing a `__v_text` variant column. The rows arrive as arrow tables, already
typed and filtered by `ingestion.merge`, so dlt's merge never needs to decide who wins.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ingestion.contract import DLT_TYPES, Table
from ingestion.merge import MergePlan
from safeio.private import private_dir, private_umask

#: dlt reads its configuration from the environment. Telemetry would phone home (the
#: machine may be offline); dlt's own log is silenced because a failed job's error quotes
#: the offending row value (PHI) -- the load report names the failure instead; and the
#: `_dlt_load_id` column on arrow rows gives every raw row the load that wrote it.
_DLT_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "RUNTIME__LOG_LEVEL": "CRITICAL",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    # A loaded package keeps a parquet copy of every row (PHI) unless told otherwise; the
    # merge's staging tables would keep the last load's rows inside the warehouse.
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    "LOAD__TRUNCATE_STAGING_DATASET": "true",
}


def purge_finished_packages(working_dir: Path) -> None:
    """Delete loaded and aborted packages (job files are full copies of the rows) and the trace.

    `delete_completed_jobs` keeps a package that has failed jobs (an aborted one); nothing
    of a finished package is needed again (the state lives in the warehouse).
    """
    loaded = working_dir / "load" / "loaded"
    if loaded.is_dir():
        for package in loaded.iterdir():
            shutil.rmtree(package, ignore_errors=True)
    # The run's trace keeps a failed job's error text, which quotes the row value.
    (working_dir / "trace.pickle").unlink(missing_ok=True)


def column_hints(table: Table) -> dict[str, dict[str, Any]]:
    """dlt column hints from the contract: type, nullability, money precision, key."""
    hints: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        hint: dict[str, Any] = {"data_type": DLT_TYPES[col.type], "nullable": col.nullable}
        if col.type == "decimal":
            hint.update(precision=18, scale=2)
        if col.type == "timestamp":
            hint["timezone"] = True
        if col.name in table.primary_key:
            hint["primary_key"] = True
        hints[col.name] = hint
    return hints


def load_system(
    warehouse: Path, pipelines_dir: Path, system: str, plans: dict[Table, MergePlan]
) -> str:
    """Merge each plan's winning rows into `raw_<system>`; return dlt's load id.

    Raises whatever dlt raises when a load job fails; the caller records the failure.
    """
    for key, value in _DLT_ENV.items():
        os.environ.setdefault(key, value)
    import dlt  # deferred: importing dlt costs ~1 s that `medspa --help` should not pay

    resources = [
        dlt.resource(
            [plan.rows],
            name=table.name,
            # No winning key stored yet: appending is the same result without dlt's
            # staging copy and delete (most of a first load's cost).
            write_disposition="append" if plan.append_only else "merge",
            primary_key=list(table.primary_key),
            columns=column_hints(table),
            schema_contract={"tables": "evolve", "columns": "evolve", "data_type": "freeze"},
        )
        for table, plan in plans.items()
    ]
    pipeline = dlt.pipeline(
        pipeline_name=f"medspa_raw_{system}",
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=f"raw_{system}",
        pipelines_dir=str(private_dir(pipelines_dir)),
        progress=None,
    )
    # A package left by a failed earlier run would be loaded instead of today's rows; its
    # files were never recorded, so today's rows already include them: drop it.
    pipeline.abort_packages()
    try:
        with private_umask():
            info = pipeline.run(resources)
        info.raise_on_failed_jobs()
    except Exception:
        _abort_now(pipeline)
        raise
    finally:
        purge_finished_packages(Path(pipeline.working_dir))
    return str(info.loads_ids[0]) if info.loads_ids else ""


def _abort_now(pipeline: Any) -> None:
    """Abort the failed package at once (its rows are retried from the landing folder)."""
    try:
        if pipeline.abort_packages() is not None:
            pipeline.load()  # completes the abort: the package moves to loaded/, then purged
    except Exception:
        pass
