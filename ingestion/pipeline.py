"""`ingest(settings)`: load a landing folder into the warehouse's raw layer with dlt.

`settings` is an `IngestSettings`: plain paths and the declared systems, built by the shells
(`medspa ingest`, the Dagster raw asset) from their own configuration; this library reads no
environment and imports neither of them.

The order of work follows DuckDB's one-writer rule within one process: one DuckDB
connection, opened once per run under the given limits, prepares everything (raw tables,
what was seen before, reading, validating, merge planning), stages each system's winning
rows for dlt, and records the bookkeeping; dlt borrows cursors of the same instance instead
of opening the file again. Opening and closing (checkpointing) the warehouse per step and
per system used to cost more than a nightly delta's rows.

dlt merges one system on a worker thread while the main thread prepares the next: dlt's
own Python (configuration, schema, state: about half a second a system) and its inserts
overlap with DuckDB reading and validating the next system's files, on two cores. One
system loads at a time, and a system's files are recorded only after its load committed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contract import Contract, Table, load_contract
from ingestion.dlt_load import StagedTable, load_system, stage_system
from ingestion.duckdb_limits import DuckDBLimits
from ingestion.hash_cache import HashCache
from ingestion.landing import LandingScan, scan_landing
from ingestion.merge import MergePlan, drop_superseded
from ingestion.meta import (
    FileRecord,
    delivered_tables,
    ensure_lineage_columns,
    has_rows,
    record,
    seen_files,
)
from ingestion.prepare import prepare_table, release
from ingestion.raw_schema import ensure_meta_tables, ensure_raw_tables
from ingestion.report import (
    LOAD_FAILED,
    LOADED,
    NEVER_DELIVERED,
    NO_NEW_EXTRACT,
    LoadReport,
    TableReport,
)
from safeio.private import private_file, private_umask


@dataclass(frozen=True)
class IngestSettings:
    """Everything one load needs: where the extracts are, where the warehouse is, what is declared.

    `data_dir` holds the warehouse and dlt's working folder (`.dlt`). `declared_systems` are the
    systems the clinic says it has: None means not declared (an absent system is just absent);
    a declared system that never delivered anything is an error in the report.
    `allow_internal_links` accepts symbolic links that stay inside the landing folder.
    """

    landing_dir: Path
    data_dir: Path
    warehouse_path: Path
    declared_systems: tuple[str, ...] | None = None
    allow_internal_links: bool = False


class MissingRequiredTablesError(Exception):
    """A required table (contract `required_tables`) has no extract, new or loaded before."""

    def __init__(self, missing: list[str], landing: str = "the landing folder") -> None:
        self.missing = missing
        super().__init__(
            "cannot load: no extract of required table(s) "
            + ", ".join(missing)
            + f" in {landing} and none loaded before; nothing was loaded "
            "(expected <landing>/<system>/<table>/<extract_id>.csv|csv.gz|parquet|jsonl)"
        )


def ingest(
    settings: IngestSettings,
    *,
    systems: Sequence[str] | None = None,
    limits: DuckDBLimits | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Load new extracts of `systems` (default: all) and report what happened per table.

    Systems are loaded one after another (prepare, stage, dlt, bookkeeping; dlt's run of one
    overlaps the next one's prepare), so at most two systems' rows are held in memory, and a
    crash part-way keeps the systems already recorded.
    Every DuckDB connection (ours and dlt's) runs under `limits` (default: DuckDB limits
    spilling under the data dir); `progress(table, rows_read)` is called per table loaded.
    """
    limits = limits or DuckDBLimits.under(settings.data_dir)
    contract = load_contract()
    selected = _select(contract, systems)
    scan = scan_landing(
        settings.landing_dir,
        contract,
        selected,
        allow_internal_links=settings.allow_internal_links,
    )
    now = dt.datetime.now(dt.UTC)
    report = LoadReport(load_id=now.strftime("%Y%m%dT%H%M%S.%fZ"))
    report.warnings += [f"ignored {path}: {why}" for path, why in scan.ignored]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _warehouse(settings, limits) as con:
        ensure_raw_tables(con, contract)
        ensure_meta_tables(con)
        ensure_lineage_columns(con, contract)
        history = delivered_tables(con)
        _check_required(con, contract, selected, scan, history, settings.landing_dir)
        seen = seen_files(con)
        hashes = HashCache(settings.data_dir / ".landing_hashes.json")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="medspa-dlt") as loader:
            pending: _SystemLoad | None = None
            for system in selected:
                clock = time.perf_counter()
                plans, records = _prepare_system(
                    con, contract, system, scan, seen, history, report, hashes
                )
                _lap(report, "prepare", clock)
                job = _SystemLoad(system, list(plans), records)
                if plans:
                    _submit(con, loader, settings, job, plans, report)
                if pending is not None:
                    _finish(con, pending, report, now, progress)
                pending = job
            if pending is not None:
                _finish(con, pending, report, now, progress)
    hashes.save()
    _absences(report, contract, selected, settings.declared_systems)
    return report


@contextmanager
def _warehouse(
    settings: IngestSettings, limits: DuckDBLimits
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's one connection to the warehouse (dlt borrows cursors of it)."""
    with private_umask():  # raw PHI: the file (and its WAL) owner-only from the start
        con = limits.connect(settings.warehouse_path)
    private_file(settings.warehouse_path)
    try:
        con.execute("set TimeZone = 'UTC'")
        # DuckDB draws its own progress bar on stdout for long queries, even into a log file;
        # the loader's progress is `progress` (per table, on a terminal only).
        con.execute("set enable_progress_bar = false")
        yield con
    finally:
        con.close()


def _prepare_system(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    system: str,
    scan: LandingScan,
    seen: set[tuple[str, str]],
    history: dict[str, bool],
    report: LoadReport,
    hashes: HashCache,
) -> tuple[dict[Table, MergePlan], list[FileRecord]]:
    """Read, validate and merge-plan the new files of one system's tables."""
    plans: dict[Table, MergePlan] = {}
    records: list[FileRecord] = []
    for table in contract.tables_of(system):
        entry = TableReport(table.system, table.name)
        report.tables.append(entry)
        new = []
        for file in scan.files_of(table.qualified_name):
            sha = hashes.sha256(file)
            if (file.rel_path, sha) in seen:
                entry.files_skipped += 1
            else:
                new.append((file, sha))
        if not new:
            delivered = entry.files_skipped or table.qualified_name in history
            entry.state = NO_NEW_EXTRACT if delivered else NEVER_DELIVERED
            continue
        entry.state = LOADED
        table_records, plan = prepare_table(con, table, new)
        records.extend(table_records)
        if plan is not None and plan.row_count:
            plans[table] = plan
        elif plan is not None:
            release(con, plan.temp_prefixes)
    return plans, records


def _lap(report: LoadReport, phase: str, since: float) -> float:
    now = time.perf_counter()
    report.seconds[phase] = round(report.seconds.get(phase, 0.0) + now - since, 3)
    return now


def _select(contract: Contract, systems: Sequence[str] | None) -> list[str]:
    if systems is None:
        return contract.systems
    unknown = sorted(set(systems) - set(contract.systems))
    if unknown:
        raise ValueError(
            f"unknown system(s) {', '.join(unknown)}; the contract has "
            + ", ".join(contract.systems)
        )
    return [s for s in contract.systems if s in systems]


def _check_required(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    selected: list[str],
    scan: LandingScan,
    history: dict[str, bool],
    landing: Path,
) -> None:
    """Stop before loading anything when a required table has no extract at all.

    Required tables are the contract's `required_tables` (docs/landing-contract.md).
    """
    missing = []
    for name in contract.required_tables:
        table = contract.table(name)
        if table.system not in selected or scan.files_of(name) or history.get(name):
            continue
        if not has_rows(con, table):
            missing.append(name)
    if missing:
        raise MissingRequiredTablesError(missing, str(landing))


@dataclass
class _SystemLoad:
    """One system's load in flight: its tables, file records and dlt's run (if any rows)."""

    system: str
    tables: list[Table]
    records: list[FileRecord]
    future: Future[tuple[str, float]] | None = None
    error: str | None = None
    staged: list[StagedTable] = field(default_factory=list)


def _submit(
    con: duckdb.DuckDBPyConnection,
    loader: ThreadPoolExecutor,
    settings: IngestSettings,
    job: _SystemLoad,
    plans: dict[Table, MergePlan],
    report: LoadReport,
) -> None:
    """Stage the system's winners, free its temp tables, and start dlt on the loader thread."""
    clock = time.perf_counter()
    try:
        job.staged = stage_system(con, job.system, plans)
    except duckdb.Error as exc:
        job.error = type(exc).__name__
    finally:
        for plan in plans.values():
            release(con, plan.temp_prefixes)
    _lap(report, "stage", clock)
    if job.error is None:
        # A connection only dlt's thread uses (a DuckDB connection is not shared by threads);
        # it is of the same instance, so it sees the stage and the loader's limits.
        job.future = loader.submit(_run_dlt, con.duplicate(), settings, job)


def _run_dlt(
    con: duckdb.DuckDBPyConnection, settings: IngestSettings, job: _SystemLoad
) -> tuple[str, float]:
    """dlt's run for one system (on the loader thread): its load id and seconds taken."""
    clock = time.perf_counter()
    try:
        load_id = load_system(con, settings.data_dir / ".dlt", job.system, job.staged)
    finally:
        con.close()
    return load_id, time.perf_counter() - clock


def _finish(
    con: duckdb.DuckDBPyConnection,
    job: _SystemLoad,
    report: LoadReport,
    now: dt.datetime,
    progress: Callable[[str, int], None] | None,
) -> None:
    """Wait for the system's dlt run, then record its files (only if its rows committed)."""
    clock = time.perf_counter()
    if job.future is not None:
        try:
            load_id, seconds = job.future.result()
            report.dlt_load_ids[job.system] = load_id
            # dlt's own time (overlapping the next prepare) and the time spent waiting on it
            report.seconds["dlt"] = round(report.seconds.get("dlt", 0.0) + seconds, 3)
        except Exception as exc:  # dlt wraps many error types; none may stop other systems
            job.error = type(exc).__name__
    clock = _lap(report, "dlt_wait", clock)
    failed = set()
    if job.error is not None:
        report.errors.append(
            f"dlt could not merge into raw_{job.system} ({job.error}); "
            "its files were not recorded and will be retried on the next run"
        )
        failed.add(job.system)
        job.records = [r for r in job.records if r.status != "loaded"]
    else:
        for table in job.tables:
            drop_superseded(con, table)
    record(con, report.load_id, job.records, now)
    _lap(report, "bookkeeping", clock)
    _summarise(report, job.records, failed)
    if progress is not None:
        for entry in (t for t in report.tables if t.system == job.system):
            progress(entry.qualified_name, entry.rows_read)


def _summarise(report: LoadReport, records: list[FileRecord], failed: set[str]) -> None:
    for rec in records:
        entry = report.table(rec.file.system, rec.file.table)
        if rec.status == "error":
            report.errors.append(
                f"could not process {rec.refusal_reason}; it was not recorded and will be "
                "retried on the next run"
            )
            continue
        entry.rows_read += rec.rows_read
        if rec.status == "refused":
            entry.files_refused += 1
            entry.refusals.append(rec.refusal_reason or rec.file.rel_path)
            report.errors.append(f"refused {rec.refusal_reason}")
            continue
        entry.files_loaded += 1
        entry.rows_inserted += rec.rows_inserted
        entry.rows_updated += rec.rows_updated
        entry.rows_unchanged += rec.rows_unchanged
        entry.rows_quarantined += rec.rows_quarantined
        entry.drift_columns += [c for c in rec.drift_columns if c not in entry.drift_columns]
        if rec.rows_quarantined:
            report.warnings.append(
                f"{rec.file.rel_path}: {rec.rows_quarantined} row(s) quarantined "
                "(raw_quarantine.rejected_rows)"
            )
        for column in rec.drift_columns:
            report.warnings.append(f"{rec.file.rel_path}: schema drift, new column {column}")
    for entry in report.tables:
        if entry.system in failed and entry.state == LOADED and not entry.files_loaded:
            entry.state = LOAD_FAILED


def _absences(
    report: LoadReport,
    contract: Contract,
    selected: list[str],
    declared: tuple[str, ...] | None,
) -> None:
    """Absent systems/tables; a declared system that never delivered anything is an error."""
    for system in selected:
        entries = [t for t in report.tables if t.system == system]
        if all(t.state == NEVER_DELIVERED for t in entries):
            report.absent_systems.append(system)
        else:
            report.absent_tables += [
                t.qualified_name for t in entries if t.state == NEVER_DELIVERED
            ]
    for system in declared or ():
        if system not in contract.systems:
            report.errors.append(f"declared system {system!r} is not in the contract")
        elif system in selected and system in report.absent_systems:
            report.errors.append(
                f"system {system} is declared (MEDSPA_SYSTEMS) but no extract of it was ever "
                "delivered"
            )
