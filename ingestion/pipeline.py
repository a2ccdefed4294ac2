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
system loads at a time, and a system's files are recorded only after its load committed
(`ingestion.system_load`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contract import Contract, Table, load_contract
from ingestion.duckdb_limits import DuckDBLimits
from ingestion.hash_cache import HashCache, PrefetchedHashes
from ingestion.landing import LandingFile, LandingScan, scan_landing
from ingestion.load_clock import LOAD_ID_FORMAT, next_load_time
from ingestion.merge import MergePlan
from ingestion.meta import (
    FileRecord,
    delivered_tables,
    ensure_lineage_columns,
    has_rows,
    seen_files,
    stopping_refusals,
)
from ingestion.prepare import prepare_table, release
from ingestion.raw_schema import ensure_meta_tables, ensure_raw_tables
from ingestion.report import (
    LOADED,
    NEVER_DELIVERED,
    NO_NEW_EXTRACT,
    STILL_BEING_WRITTEN,
    LoadReport,
    TableReport,
)
from ingestion.system_load import SystemLoad, finish, lap, submit
from safeio.private import private_file, private_umask


@dataclass(frozen=True)
class IngestSettings:
    """Everything one load needs: where the extracts are, where the warehouse is, what is declared.

    `data_dir` holds the warehouse and dlt's working folder (`.dlt`). `declared_systems` are the
    systems the clinic says it has: None means not declared (an absent system is just absent);
    a declared system that never delivered anything is an error in the report.
    `allow_internal_links` accepts symbolic links that stay inside the landing folder.
    `limits`: DuckDB's memory limit and threads for every connection of the load, the loader's
    and dlt's (None: the defaults, spilling under `data_dir`). They travel with the settings, so
    no caller can load under other limits than the deployment's (`MEDSPA_DUCKDB_*`).
    `settled_before`: a time (seconds since the epoch); a file modified after it may still be
    being copied in, so this load leaves it for the next one (reported, not recorded). None:
    every file is taken as complete (a person running a load knows the folder is written).
    """

    landing_dir: Path
    data_dir: Path
    warehouse_path: Path
    declared_systems: tuple[str, ...] | None = None
    allow_internal_links: bool = False
    limits: DuckDBLimits | None = None
    settled_before: float | None = None


class MissingRequiredTablesError(Exception):
    """A required table (contract `required_tables`) has no extract, new or loaded before."""

    def __init__(
        self, missing: list[str], landing: str = "the landing folder", why: str | None = None
    ) -> None:
        self.missing = missing
        super().__init__(
            why
            or "cannot load: no extract of required table(s) "
            + ", ".join(missing)
            + f" in {landing} and none loaded before; nothing was loaded "
            "(expected <landing>/<system>/<table>/<extract_id>.csv|csv.gz|parquet|jsonl)"
        )


def ingest(
    settings: IngestSettings,
    *,
    systems: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Load new extracts of `systems` (default: all) and report what happened per table.

    Systems are loaded one after another (prepare, stage, dlt, bookkeeping; dlt's run of one
    overlaps the next one's prepare), so at most two systems' rows are held in memory, and a
    crash part-way keeps the systems already recorded.
    Every DuckDB connection (ours and dlt's) runs under `settings.limits` (default: DuckDB
    limits spilling under the data dir); `progress(table, rows_read)` is called per table loaded.
    """
    limits = settings.limits or DuckDBLimits.under(settings.data_dir)
    contract = load_contract()
    selected = _select(contract, systems)
    scan = scan_landing(
        settings.landing_dir,
        contract,
        selected,
        allow_internal_links=settings.allow_internal_links,
        settled_before=settings.settled_before,
    )
    now = _now()
    report = LoadReport(load_id=now.strftime(LOAD_ID_FORMAT))  # numbered for good below
    report.ignored = [f"{path}: {why}" for path, why in scan.ignored]
    report.warnings += [f"ignored {entry}" for entry in report.ignored]
    report.errors += [
        f"cannot list {path} in the landing folder ({why}): the extracts in it are not "
        "loaded; give the loader read access, the next run loads them"
        for path, why in scan.unlisted
    ]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _warehouse(settings, limits) as con:
        ensure_raw_tables(con, contract)
        ensure_meta_tables(con)
        ensure_lineage_columns(con, contract)
        load_time = next_load_time(con, now)
        report.load_id = load_time.load_id
        if load_time.clock_behind:
            report.clock_behind = (
                f"this machine's clock ({now:%Y-%m-%d %H:%M:%S} UTC) is not later than the "
                "last load's (it is behind now, or was ahead then): this load is numbered "
                f"{report.load_id}, just after it, so the nightly build still reads its rows; "
                "check the clock (KPIs never read it)"
            )
            report.warnings.append(report.clock_behind)
        history = delivered_tables(con)
        _check_required(con, contract, selected, scan, history, settings.landing_dir)
        seen = seen_files(con)
        stopping = stopping_refusals(con)
        hashes = HashCache(settings.data_dir / ".landing_hashes.json")
        prefetched = PrefetchedHashes(hashes, _in_load_order(contract, selected, scan))
        with (
            closing(prefetched),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="medspa-dlt") as loader,
        ):
            pending: SystemLoad | None = None
            for system in selected:
                clock = time.perf_counter()
                plans, records = _prepare_system(
                    con, contract, system, scan, seen, stopping, history, report, prefetched
                )
                lap(report, "prepare", clock)
                _require_loadable(con, contract, system, records, history)
                job = SystemLoad(system, list(plans), records, load_time.row_stamp)
                if plans:
                    submit(con, loader, settings.data_dir / ".dlt", job, plans, report)
                if pending is not None:
                    finish(con, pending, report, now, progress)
                pending = job
            if pending is not None:
                finish(con, pending, report, now, progress)
    hashes.save()
    _absences(report, contract, selected, settings.declared_systems)
    return report


def _now() -> dt.datetime:
    """The machine's clock (a function, so tests can set it back)."""
    return dt.datetime.now(dt.UTC)


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
    stopping: dict[tuple[str, str], str],
    history: dict[str, bool],
    report: LoadReport,
    hashes: PrefetchedHashes,
) -> tuple[dict[Table, MergePlan], list[FileRecord]]:
    """Read, validate and merge-plan the new files of one system's tables.

    `seen`: the files recorded before (`seen_files`); `stopping`: of those, the ones whose
    missing contract column stops their table's load while they stay unchanged
    (`stopping_refusals`).
    """
    plans: dict[Table, MergePlan] = {}
    records: list[FileRecord] = []
    for table in contract.tables_of(system):
        entry = TableReport(table.system, table.name)
        report.tables.append(entry)
        new = []
        for file in scan.files_of(table.qualified_name):
            try:
                sha = hashes.sha256(file)
            except OSError as exc:
                # not recorded (its content is unknown): the next run reads it again
                report.errors.append(
                    f"cannot read {file.rel_path} ({type(exc).__name__}): the other files "
                    "still load, this one is read again by the next run"
                )
                continue
            if (file.rel_path, sha) in seen:
                entry.files_skipped += 1
                if (file.rel_path, sha) in stopping:
                    entry.stopped_by.append(stopping[(file.rel_path, sha)])
            else:
                new.append((file, sha))
        if not new:
            delivered = entry.files_skipped or table.qualified_name in history
            if scan.unsettled_of(table.qualified_name):
                entry.state = STILL_BEING_WRITTEN
            else:
                entry.state = NO_NEW_EXTRACT if delivered else NEVER_DELIVERED
            continue
        entry.state = LOADED
        table_records, plan = prepare_table(con, table, new, stopped=bool(entry.stopped_by))
        records.extend(table_records)
        if plan is not None and plan.row_count:
            plans[table] = plan
        elif plan is not None:
            release(con, plan.temp_prefixes)
    return plans, records


def _in_load_order(contract: Contract, selected: list[str], scan: LandingScan) -> list[LandingFile]:
    """The files of the selected systems in the order `_prepare_system` reads them."""
    return [
        file
        for system in selected
        for table in contract.tables_of(system)
        for file in scan.files_of(table.qualified_name)
    ]


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
    absent: list[str] = []
    coming: dict[str, list[str]] = {}  # table -> its first files, still being written
    for name in contract.required_tables:
        table = contract.table(name)
        if table.system not in selected or scan.files_of(name) or history.get(name):
            continue
        if not has_rows(con, table):
            if unsettled := scan.unsettled_of(name):
                coming[name] = unsettled
            else:
                absent.append(name)
    if absent:  # what no later run fixes by itself comes first
        where = str(landing)
        if not scan.files and not scan.unsettled:
            where += (
                " (the folder holds no extract at all: point MEDSPA_LANDING_DIR at the folder "
                "your systems deliver to, or run `medspa demo` for the demo chain)"
            )
        raise MissingRequiredTablesError(absent, where)
    if coming:  # each first delivery is on its way: say so, not that there is none
        raise MissingRequiredTablesError(
            list(coming),
            why="cannot load yet: the first extract of required table(s) "
            + ", ".join(coming)
            + " is still being written ("
            + ", ".join(path for paths in coming.values() for path in paths)
            + ", modified moments before the load); nothing was loaded, the next run takes it",
        )


def _require_loadable(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    system: str,
    records: list[FileRecord],
    history: dict[str, bool],
) -> None:
    """Stop before loading anything when a required table has extracts but the contract
    refused each (or held it behind a stop) and nothing was loaded before: without it every
    KPI is empty, so the run must fail as if the table had no extract, not publish empty marts.

    The contract's required tables are in its first system, prepared before any is loaded.
    """
    unloadable: dict[str, list[str]] = {}
    for name in contract.required_tables:
        table = contract.table(name)
        if table.system != system or history.get(name):
            continue
        mine = [r for r in records if r.file.table == table.name]
        # an `error` file (our fault) is retried next run: not the extract's verdict
        refused = mine and all(r.status in ("refused", "held") for r in mine)
        if refused and not has_rows(con, table):
            unloadable[name] = [r.refusal_reason or f"{r.file.rel_path}: {r.status}" for r in mine]
    if unloadable:
        details = "; ".join(f"{n}: {' | '.join(why)}" for n, why in unloadable.items())
        raise MissingRequiredTablesError(
            list(unloadable),
            why=f"cannot load: no extract of required table(s) {', '.join(unloadable)} could be "
            f"loaded and none was loaded before ({details}); nothing was loaded",
        )


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
