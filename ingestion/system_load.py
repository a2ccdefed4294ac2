"""One system's load in flight: stage its winners, run dlt on the loader thread, record it.

`ingestion.pipeline` prepares systems one after another on its connection; each system's
winners are staged there (`dlt_load.stage_system`, which frees its temp tables), then dlt
merges them on a single worker thread through a duplicate connection of the same DuckDB
instance while the main thread prepares the next system. When a system's dlt run ends,
`finish` records its files (only if the rows committed), so a crash or a failed load leaves
them unrecorded and the next run loads them again (the merge rule makes that harmless).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contract import Table
from ingestion.dlt_load import StagedTable, describe_load_error, load_system, stage_system
from ingestion.merge import MergePlan, drop_superseded
from ingestion.meta import FileRecord, record
from ingestion.prepare import release
from ingestion.report import LOAD_FAILED, LOAD_STOPPED, LOADED, LoadReport, TableReport


def lap(report: LoadReport, phase: str, since: float) -> float:
    """Add the seconds since `since` to `phase` in the report (run metadata); return now."""
    now = time.perf_counter()
    report.seconds[phase] = round(report.seconds.get(phase, 0.0) + now - since, 3)
    return now


@dataclass
class SystemLoad:
    """One system's load in flight: its tables, file records and dlt's run (if any rows)."""

    system: str
    tables: list[Table]
    records: list[FileRecord]
    #: the `_dlt_load_id` its rows get (`ingestion.load_clock`: never below an earlier load's)
    row_stamp: str | None = None
    future: Future[tuple[str, float]] | None = None
    error: str | None = None
    staged: list[StagedTable] = field(default_factory=list)


def submit(
    con: duckdb.DuckDBPyConnection,
    loader: ThreadPoolExecutor,
    pipelines_dir: Path,
    job: SystemLoad,
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
            # a view in the stage still reads the files' checked rows there: dlt's run drops
            # them with it (`drop_staged`); a failed staging leaves nothing behind
            release(con, plan.temp_prefixes, keep_stage=plan.shared and bool(job.staged))
    lap(report, "stage", clock)
    if job.error is None:
        # A connection only dlt's thread uses (a DuckDB connection is not shared by threads);
        # it is of the same instance, so it sees the stage and the loader's limits.
        job.future = loader.submit(_run_dlt, con.duplicate(), pipelines_dir, job)


def _run_dlt(
    con: duckdb.DuckDBPyConnection, pipelines_dir: Path, job: SystemLoad
) -> tuple[str, float]:
    """dlt's run for one system (on the loader thread): its rows' load id, seconds taken."""
    clock = time.perf_counter()
    try:
        load_id = load_system(con, pipelines_dir, job.system, job.staged, job.row_stamp)
    finally:
        con.close()
    return load_id, time.perf_counter() - clock


def finish(
    con: duckdb.DuckDBPyConnection,
    job: SystemLoad,
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
            job.error = describe_load_error(exc)
    clock = lap(report, "dlt_wait", clock)
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
    lap(report, "bookkeeping", clock)
    summarise(report, job.records, failed)
    report_stops(report, job.system)
    if progress is not None:
        for entry in (t for t in report.tables if t.system == job.system):
            progress(entry.qualified_name, entry.rows_read)


def report_stops(report: LoadReport, system: str) -> None:
    """One error per table of `system` whose load a missing contract column stopped, saying
    what was held back and what the clinic must do (an earlier run's stop included: the error
    repeats every run until the file is replaced or removed)."""
    for entry in (t for t in report.tables if t.system == system and t.stopped_by):
        entry.state = LOAD_STOPPED
        report.errors.append(
            f"{entry.qualified_name} not loaded ({entry.files_held} new file(s) held back): "
            + " | ".join(entry.stopped_by)
        )


def summarise(report: LoadReport, records: list[FileRecord], failed: set[str]) -> None:
    """Add each recorded file to its table's entry, and say what went wrong with it.

    A refused file's rows count as `rows_in_refused_files`, never as `rows_read`: the rows read
    are the rows that were checked, the base of `quarantined_share`, so a refused 100-row file
    beside a 10-row file with 5 bad rows leaves the share at 50 %, as the publish gate has it.
    """
    for rec in records:
        entry = report.table(rec.file.system, rec.file.table)
        if rec.status == "error":
            report.errors.append(
                f"could not process {rec.refusal_reason}; it was not recorded and will be "
                "retried on the next run"
            )
        elif rec.status == "held":
            entry.files_held += 1
        elif rec.status == "refused":
            _add_refused(report, entry, rec)
        else:
            _add_loaded(report, entry, rec)
    for entry in report.tables:
        if entry.system in failed and entry.state == LOADED and not entry.files_loaded:
            entry.state = LOAD_FAILED


def _add_refused(report: LoadReport, entry: TableReport, rec: FileRecord) -> None:
    """A refused file: an error naming it and why, its rows apart from the checked ones."""
    entry.files_refused += 1
    entry.rows_in_refused_files += rec.rows_read
    entry.refusals.append(rec.refusal_reason or rec.file.rel_path)
    report.errors.append(f"refused {rec.refusal_reason}")
    if rec.stops_table:
        entry.stopped_by.append(rec.refusal_reason or rec.file.rel_path)


def _add_loaded(report: LoadReport, entry: TableReport, rec: FileRecord) -> None:
    """A loaded file: its row counts, and a warning per quarantine and new drift column."""
    entry.files_loaded += 1
    entry.rows_read += rec.rows_read
    entry.rows_inserted += rec.rows_inserted
    entry.rows_updated += rec.rows_updated
    entry.rows_unchanged += rec.rows_unchanged
    entry.rows_quarantined += rec.rows_quarantined
    entry.drift_columns += [c for c in rec.drift_labels if c not in entry.drift_columns]
    if rec.rows_quarantined:
        report.warnings.append(
            f"{rec.file.rel_path}: {rec.rows_quarantined} row(s) quarantined "
            "(raw_quarantine.rejected_rows)"
        )
    for column in rec.drift_labels:
        report.warnings.append(f"{rec.file.rel_path}: schema drift, new column {column}")
