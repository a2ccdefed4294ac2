"""Raw landing assets: one per contract table, keyed `raw_<system>/<table>`.

Why a plain `@multi_asset` around `ingestion.pipeline.ingest()` and not dagster-dlt's
`@dlt_assets`: the loader is more than a dlt source. It validates every file against the
contract, routes bad rows to `raw_quarantine.rejected_rows`, records each file in
`raw_meta.loaded_files` (so a file is never loaded twice) and reports schema drift. `@dlt_assets`
would hand a dlt source straight to `pipeline.run()` and skip all of that. Wrapping the
library keeps one loader for the CLI (`medspa ingest`) and for Dagster, and the keys are set
here to exactly what dagster-dbt gives the dbt sources (`[source_name, table]`), so the graph
connects to staging without a translator.

The multi-asset can be subset: materialising some tables loads their systems (the loader's
unit of work) and reports the selected tables; every other table of those systems that took
rows is recorded as materialized too (a runtime materialization saying so), so its page, its
data version and the models below it show what is now in the warehouse. Its checks run in the
next run that selects it. Each table reports a data version read from
the warehouse (`versions.py`), so a load that wrote nothing leaves the models over it fresh.
The file ledger is written by every load that sees a new file: when it changed, it is reported
as materialized whether or not it was selected.
"""

import dataclasses
import time
from typing import Any

import dagster as dg
from dagster._core.definitions.data_version import (
    DATA_VERSION_TAG,
    extract_data_version_from_entry,
)

from ingestion.contract import Table, load_contract
from ingestion.report import LOAD_STOPPED, LOADED
from orchestration.defs.raw.versions import LEDGER, raw_data_versions
from orchestration.progress import StepTimer
from orchestration.resources import MedspaSettings
from orchestration.tenancy import SETTLE_TAG, TENANT_PARTITIONS


def raw_key(table: Table) -> dg.AssetKey:
    """The asset key of a raw table: the dbt source name and table name."""
    return dg.AssetKey([table.dataset, table.name])


def _spec(table: Table) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=raw_key(table),
        group_name="raw",
        kinds={"dlt", "duckdb"},
        description=f"`{table.qualified_name}` extracts merged on "
        f"({', '.join(table.primary_key)}); newest updated_at wins.",
        metadata={
            "primary_key": list(table.primary_key),
            "contains_phi": bool(table.phi_columns),
        },
    )


RAW_TABLES: list[Table] = list(load_contract().tables)
#: The loader's file ledger; dbt reads it as source `raw_meta.loaded_files` (data_coverage).
LOADED_FILES_KEY = dg.AssetKey(["raw_meta", "loaded_files"])
RAW_SPECS: list[dg.AssetSpec] = [
    *(_spec(t) for t in RAW_TABLES),
    dg.AssetSpec(
        key=LOADED_FILES_KEY,
        group_name="raw",
        kinds={"duckdb"},
        description="One row per landing file seen: loaded or refused (with the reason).",
    ),
]

#: Reported from the load itself: did every new file of the table load? A refused file (say, a
#: contract column missing) fails this check at ERROR without blocking: the other tables load
#: and publish, and the run summary names the file and column. A missing contract column also
#: stops the table itself: the check fails on every run until that file is replaced or removed.
LOAD_CHECK = "contract_load"
LOAD_CHECK_SPECS = [
    dg.AssetCheckSpec(
        LOAD_CHECK,
        asset=raw_key(t),
        description="every new extract of the table was accepted by the contract loader",
    )
    for t in RAW_TABLES
]


def _metadata_value(value: Any) -> Any:
    """Load-report values as metadata Dagster accepts (scalars, lists and dicts of them)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set):
        return [_metadata_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _metadata_value(v) for k, v in value.items()}
    return str(value)


def table_metadata(report: Any, table: Table) -> dict[str, Any]:
    """Metadata of one raw table from the load report (rows, quarantine, drift, files)."""
    meta = {
        k: _metadata_value(v) for k, v in report.table_metadata(table.system, table.name).items()
    }
    meta.setdefault("present", table.system not in report.absent_systems)
    return meta


def selected_systems(selected: set[dg.AssetKey]) -> list[str]:
    """Systems whose tables are selected: the loader loads whole systems."""
    by_key = {raw_key(t): t.system for t in RAW_TABLES}
    if LOADED_FILES_KEY in selected:
        return sorted(set(by_key.values()))
    return sorted({by_key[k] for k in selected if k in by_key})


def _ingest_settings(base: Any, tags: dict[str, str]) -> Any:
    """The loader's settings for this run: with `SETTLE_TAG`, files modified since that many
    seconds before now are left for the next run (`IngestSettings.settled_before`)."""
    settle = tags.get(SETTLE_TAG)
    if settle is None:
        return base
    try:
        seconds = float(settle)
    except ValueError:
        raise ValueError(f"run tag {SETTLE_TAG} must be a number of seconds") from None
    return dataclasses.replace(base, settled_before=time.time() - seconds)


#: A raw table's materialization when it was loaded beside a selected table of its system.
SIBLING_LOAD = (
    "Loaded beside the table(s) of its system selected in this run (the loader loads a whole "
    "system); its checks run in the next run that selects it."
)


def load_check(report: Any, table: Table) -> dg.AssetCheckResult:
    entry = report.table(table.system, table.name)
    problems = list(entry.refusals)
    problems += [f"load stopped by {r}" for r in entry.earlier_stops]
    if entry.state == "load failed":
        problems.append(f"dlt could not merge into {table.dataset}; files will be retried")
    return dg.AssetCheckResult(
        asset_key=raw_key(table),
        check_name=LOAD_CHECK,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"{table.qualified_name}: {entry.state}",
        metadata={
            "files_refused": entry.files_refused,
            "files_held": entry.files_held,
            "state": entry.state,
        },
    )


@dg.multi_asset(
    specs=RAW_SPECS,
    check_specs=LOAD_CHECK_SPECS,
    can_subset=True,
    name="raw_landing",
    partitions_def=TENANT_PARTITIONS,
)
def raw_landing(context: dg.AssetExecutionContext, medspa: MedspaSettings):
    """Load the landing folder with the contract loader and report each table."""
    from ingestion.pipeline import ingest  # the loader imports dlt: only when a run loads

    timer = StepTimer()
    settings = medspa.settings(context)
    # a configured landing folder that is missing (a typo, an unmounted share) fails the step,
    # naming it: it is not a night without extracts
    settings.check_landing()
    systems = selected_systems(set(context.selected_asset_keys))
    loaded_systems = set(systems)
    all_systems = sorted({t.system for t in RAW_TABLES})
    report = ingest(
        _ingest_settings(settings.ingest_settings(), context.run.tags),
        systems=None if systems == all_systems else systems,
    )
    context.log.info(report.to_text())
    versions = raw_data_versions(settings.warehouse_path, RAW_TABLES)
    checks = set(context.selected_asset_check_keys)
    for table in RAW_TABLES:
        if raw_key(table) in context.selected_asset_keys:
            yield dg.MaterializeResult(
                asset_key=raw_key(table),
                metadata={**table_metadata(report, table), **timer.metadata()},
                data_version=dg.DataVersion(versions[table.qualified_name]),
            )
        elif table.system in loaded_systems and report.table(table.system, table.name).state in (
            LOADED,
            LOAD_STOPPED,
        ):
            # Loaded beside a selected table of its system (the loader loads whole systems):
            # said on its own page, so its rows and the models below it do not look older than
            # they are. Its checks ran not: the next run selecting it evaluates them.
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=raw_key(table),
                    partition=context.partition_key,
                    description=SIBLING_LOAD,
                    metadata={**table_metadata(report, table), **timer.metadata()},
                    tags={DATA_VERSION_TAG: versions[table.qualified_name]},
                )
            )
        if dg.AssetCheckKey(raw_key(table), LOAD_CHECK) in checks:
            yield load_check(report, table)
    ledger_metadata = {**report.ledger_metadata(), **timer.metadata()}
    if LOADED_FILES_KEY in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=LOADED_FILES_KEY,
            metadata=ledger_metadata,
            data_version=dg.DataVersion(versions[LEDGER]),
        )
    elif versions[LEDGER] != _recorded_version(context, LOADED_FILES_KEY):
        # Every load that sees a new file writes the ledger, whichever tables were selected.
        # Said on its page, or Dagster would keep the models over it (the coverage mart) fresh
        # while the publish gate, which fingerprints the warehouse, finds them behind: every
        # "Materialize stale and missing" would end with nothing stale and nothing published.
        context.log_event(
            dg.AssetMaterialization(
                asset_key=LOADED_FILES_KEY,
                partition=context.partition_key,
                description=LEDGER_LOAD,
                metadata=ledger_metadata,
                tags={DATA_VERSION_TAG: versions[LEDGER]},
            )
        )


#: The ledger's materialization when a run loaded files without selecting it.
LEDGER_LOAD = (
    "Written by the load of the table(s) selected in this run: every load records the files it "
    "saw here."
)


def _recorded_version(context: dg.AssetExecutionContext, key: dg.AssetKey) -> str | None:
    """The data version Dagster last recorded for `key` in this run's partition (None: never
    materialized there)."""
    record = context.instance.get_latest_data_version_record(
        key, partition_key=context.partition_key
    )
    if record is None:
        return None
    version = extract_data_version_from_entry(record.event_log_entry)
    return None if version is None else version.value
