"""Dagster's run history, pruned: finished runs older than the retention deleted, and their files.

Nothing in Dagster deletes a run. Each run of the nightly keeps about 9 MB in the instance
(its own event shard, about 4 MB; the index's copies of its asset and check events, about
5 MB; its captured logs), so a tenant's history grows by about 3 GB a year, and every tenant
of the deployment shares the instance. The warehouse keeps its own record of every run
(`raw_meta.run_log`, `orchestration.run_log`), so what the history holds beyond a few months is
only the step-by-step detail of old runs.

`prune_run_history` deletes the runs that *finished* (success, failure, cancelled) more than
`keep_days` days ago, but never one that something still reads:
- the newest `MIN_RUNS_KEPT` finished runs of each tenant, whatever their age: a deployment
  that runs rarely keeps a history to read in the UI and in `medspa status`;
- every run that holds the latest materialization or observation of some asset partition, or
  the latest evaluation of some check for its tenant: the freshness checks, the serving checks,
  the UI's asset and check pages and the dbt models left out of a night (their latest build
  may be months old) read those.
So the history of a tenant keeps every asset's current state however old it is, and only
superseded detail goes. A tenant removed from the registry (its `tenant` partition deleted)
keeps none of that: nothing reads its runs any more, so they go once older than the retention
(`medspa tenant remove --purge-history` deletes them at once).

A run is deleted as Dagster deletes it (`DagsterInstance.delete_run`: its run record, its
events in its shard and in the index), and then what Dagster leaves behind: the index's check
executions of the run (Dagster keeps them, about 0.9 MB a run), the run's shard file itself on
SQLite storage (emptied, it would keep its size), and its captured step logs. The index file
does not shrink, but the pages the deleted rows held are reused by the next runs' events, so
the instance stops growing once the oldest runs go as fast as new ones arrive.

Two SQL reads and one delete use Dagster's storage tables directly (the index's event and
check-execution tables, on SQLite or PostgreSQL storage): Dagster has no API that lists the
latest event of every asset partition in one query, nor one that deletes check executions.
`tests/orchestration/test_run_pruning.py` runs real jobs against a real instance, so a Dagster
upgrade that changes those tables fails there.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.instance_sqlite import forget as forget_sqlite_file
from orchestration.stale_runs import tenant_of
from orchestration.tenancy import TENANT_PARTITIONS

#: Statuses of a run that has ended: only these are ever deleted.
FINISHED_STATUSES = (
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
)

#: Each tenant's newest finished runs kept whatever their age.
MIN_RUNS_KEPT = 50

#: Asset events whose latest per asset partition is kept (the run holding it is kept).
_LATEST_EVENT_TYPES = (
    dg.DagsterEventType.ASSET_MATERIALIZATION.value,
    dg.DagsterEventType.ASSET_OBSERVATION.value,
)

#: Check executions that hold a result (PLANNED and SKIPPED hold none).
_COMPLETED_CHECK_STATUSES = ("SUCCEEDED", "FAILED")

#: Runs one pruning deletes at most: a sensor's evaluation has 60 s, and a nightly should not
#: pay for a year of history at once; the rest goes at the next pruning.
MAX_DELETED_PER_PRUNING = 100

#: Automatic pruning (`prune_if_due`) runs at most once in this many seconds.
PRUNE_INTERVAL_SECONDS = 20 * 3600

#: In the instance's folder: its modification time is when the history was last pruned.
STAMP_NAME = ".medspa-history-pruned"


class RunPruningError(RuntimeError):
    """The instance's event storage is not one this module knows how to prune."""


@dataclass
class PruneReport:
    """What a pruning deleted (or, with `dry_run`, would delete) and what it kept."""

    keep_days: int
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    #: Finished runs older than the retention kept because something still reads them.
    kept_old: int = 0
    #: Bytes of files removed (shards, captured logs); rows freed in the index are not counted.
    bytes_removed: int = 0
    #: Runs due for deletion beyond this pruning's limit: the next pruning takes them.
    left: int = 0
    seconds: float = 0.0

    def to_text(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"run history (finished runs older than {self.keep_days} days): {verb} "
            f"{len(self.deleted)} runs, {self.bytes_removed / 1e6:.1f} MB of files; kept "
            f"{self.kept_old} older runs that hold an asset's or a check's latest event or are "
            f"among their tenant's newest {MIN_RUNS_KEPT}"
            + (f"; {self.left} more due at the next pruning" if self.left else "")
            + f" ({self.seconds:.1f} s)"
        )


def _sql_storage(instance: dg.DagsterInstance) -> SqlEventLogStorage:
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        raise RunPruningError(
            f"the instance's event log storage is {type(storage).__name__}; run history can be "
            "pruned on Dagster's SQLite or PostgreSQL storage only"
        )
    return storage


def _finished_before(instance: dg.DagsterInstance, cutoff: float) -> list[dg.RunRecord]:
    """Finished runs whose end (or last update) is before `cutoff` (seconds since the epoch)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=list(FINISHED_STATUSES),
            updated_before=dt.datetime.fromtimestamp(cutoff, tz=dt.UTC),
        )
    )
    return [r for r in records if (r.end_time or r.update_timestamp.timestamp()) < cutoff]


def _newest_per_tenant(records: list[dg.RunRecord], keep: int) -> set[str]:
    """The ids of each tenant's newest `keep` finished runs among `records` (newest first;
    runs of no tenant as one group)."""
    kept: set[str] = set()
    counts: dict[str | None, int] = {}
    for record in records:
        if record.dagster_run.status not in FINISHED_STATUSES:
            continue
        tenant = tenant_of(record.dagster_run)
        if counts.get(tenant, 0) < keep:
            counts[tenant] = counts.get(tenant, 0) + 1
            kept.add(record.dagster_run.run_id)
    return kept


def _latest_asset_event_runs(storage: SqlEventLogStorage) -> set[str]:
    """Runs holding the latest materialization or observation of some asset partition."""
    table = SqlEventLogStorageTable
    newest = (
        sa.select(sa.func.max(table.c.id).label("id"))
        .where(table.c.dagster_event_type.in_(_LATEST_EVENT_TYPES))
        .where(table.c.asset_key.is_not(None))
        .group_by(table.c.dagster_event_type, table.c.asset_key, table.c.partition)
        .subquery()
    )
    query = sa.select(table.c.run_id).where(table.c.id.in_(sa.select(newest.c.id)))
    with storage.index_connection() as conn:
        return {row[0] for row in conn.execute(query)}


def _latest_check_runs(
    storage: SqlEventLogStorage, tenant_by_run: dict[str, str | None]
) -> set[str]:
    """Runs holding the latest evaluation of some check for their tenant.

    Dagster stores the checks of a partitioned asset without a partition, so "latest for the
    tenant" groups the executions by the tenant of the run that evaluated them. Only executions
    with a result count: every run plans each check of its selection (a row PLANNED at the
    run's start), and a check whose model a night left out is never evaluated, so the newest
    row is often a plan; the run holding the last result is the one to keep.
    """
    table = AssetCheckExecutionsTable
    query = (
        sa.select(table.c.asset_key, table.c.check_name, table.c.run_id, sa.func.max(table.c.id))
        .where(table.c.execution_status.in_(_COMPLETED_CHECK_STATUSES))
        .group_by(table.c.asset_key, table.c.check_name, table.c.run_id)
    )
    newest: dict[tuple[str, str, str | None], tuple[int, str]] = {}
    with storage.index_connection() as conn:
        for asset_key, check_name, run_id, top in conn.execute(query):
            key = (asset_key, check_name, tenant_by_run.get(run_id))
            if key not in newest or top > newest[key][0]:
                newest[key] = (top, run_id)
    return {run_id for _, run_id in newest.values()}


def _files_of(instance: dg.DagsterInstance, storage: SqlEventLogStorage, run_id: str) -> list[Path]:
    """The files and folders a deleted run leaves behind: its SQLite shard, its captured logs
    (none for an id that is not a plain file name: Dagster's are UUIDs)."""
    paths: list[Path] = []
    if run_id in ("", ".", "..") or Path(run_id).name != run_id:
        return paths
    if isinstance(storage, SqliteEventLogStorage):
        shard = Path(storage.path_for_shard(run_id))
        paths += [shard, Path(f"{shard}-wal"), Path(f"{shard}-shm"), Path(f"{shard}-journal")]
    logs_base = getattr(instance.compute_log_manager, "_base_dir", None)
    if logs_base:
        paths.append(Path(logs_base) / run_id)
    return paths


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.is_file() else 0


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        forget_sqlite_file(str(path))
        path.unlink(missing_ok=True)


def _delete_run(instance: dg.DagsterInstance, storage: SqlEventLogStorage, run_id: str) -> int:
    """Delete one run and its files; return the bytes of files removed. Its check executions
    go with the others of the pruning (`_delete_check_executions`)."""
    files = _files_of(instance, storage, run_id)
    size = sum(_size(p) for p in files)
    instance.delete_run(run_id)
    for path in files:
        _remove(path)
    return size


def _delete_check_executions(storage: SqlEventLogStorage, run_ids: list[str]) -> None:
    """The check executions of deleted runs, which Dagster's `delete_run` keeps; in batches
    (the table has no index on the run id: one scan a batch, not one a run)."""
    table = AssetCheckExecutionsTable
    for start in range(0, len(run_ids), 500):
        batch = run_ids[start : start + 500]
        with storage.index_connection() as conn:
            conn.execute(table.delete().where(table.c.run_id.in_(batch)))


def delete_runs(instance: dg.DagsterInstance, run_ids: list[str]) -> int:
    """Delete these finished runs as a pruning deletes them (records, events, check executions,
    shard files, captured logs); returns the bytes of files removed."""
    storage = _sql_storage(instance)
    removed = sum(_delete_run(instance, storage, run_id) for run_id in run_ids)
    _delete_check_executions(storage, run_ids)
    return removed


def _removed_tenants(instance: dg.DagsterInstance, tenants: set[str | None]) -> set[str]:
    """Tenants with runs but no `tenant` partition any more: removed from the registry (the
    partitions sensor or `medspa tenant remove` deleted it). Nothing reads their runs, so they
    keep none of the protections below and go at the retention like any superseded run.
    None while the instance has no `tenant` partition at all (nothing to tell them apart)."""
    live = set(instance.get_dynamic_partitions(TENANT_PARTITIONS.name))
    if not live:
        return set()
    return {t for t in tenants if t is not None and t not in live}


def prune_run_history(
    instance: dg.DagsterInstance,
    keep_days: int,
    *,
    now: float | None = None,
    dry_run: bool = False,
    min_runs_kept: int = MIN_RUNS_KEPT,
    max_deleted: int = MAX_DELETED_PER_PRUNING,
) -> PruneReport:
    """Delete finished runs older than `keep_days` that nothing reads any more (see the module
    docstring), at most `max_deleted` of them (`left` counts the rest, for the next pruning);
    with `dry_run`, only report which. `now` (seconds) defaults to the clock."""
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, not {keep_days}")
    started = time.monotonic()
    now = time.time() if now is None else now
    report = PruneReport(keep_days=keep_days, dry_run=dry_run)
    storage = _sql_storage(instance)
    old = _finished_before(instance, now - keep_days * 86400)
    if old:
        every_run = list(instance.get_run_records())  # newest first
        tenant_by_run = {r.dagster_run.run_id: tenant_of(r.dagster_run) for r in every_run}
        removed = _removed_tenants(instance, set(tenant_by_run.values()))
        kept = {
            run_id
            for run_id in (
                _newest_per_tenant(every_run, min_runs_kept)
                | _latest_asset_event_runs(storage)
                | _latest_check_runs(storage, tenant_by_run)
            )
            if tenant_by_run.get(run_id) not in removed
        }
        for record in sorted(old, key=lambda r: r.storage_id):  # oldest first
            run_id = record.dagster_run.run_id
            if run_id in kept:
                report.kept_old += 1
                continue
            if len(report.deleted) >= max_deleted:
                report.left += 1
                continue
            if not dry_run:
                report.bytes_removed += _delete_run(instance, storage, run_id)
            else:
                report.bytes_removed += sum(_size(p) for p in _files_of(instance, storage, run_id))
            report.deleted.append(run_id)
        if not dry_run:
            _delete_check_executions(storage, report.deleted)
    report.seconds = time.monotonic() - started
    return report


def _stamp(instance: dg.DagsterInstance) -> Path:
    """The stamp in the instance's home, created if missing: in the Docker deployment the
    sensors run in the code container, which sees the instance's storage but not its home."""
    home = Path(instance.root_directory)
    home.mkdir(parents=True, exist_ok=True)
    return home / STAMP_NAME


def record_pruned(instance: dg.DagsterInstance, now: float | None = None) -> None:
    """Note that the instance's history was pruned at `now` (for `prune_if_due`)."""
    stamp = _stamp(instance)
    stamp.touch()
    if now is not None:
        os.utime(stamp, (now, now))


def prune_if_due(
    instance: dg.DagsterInstance, keep_days: int, *, now: float | None = None
) -> PruneReport | None:
    """Prune (as `prune_run_history`) when the last pruning of this instance is older than
    `PRUNE_INTERVAL_SECONDS`; None when it is not due, disabled (`keep_days` 0) or another
    process is pruning. Every nightly run and the daemon's sensor call this: one of them a day
    does the work, the others look at one file's time."""
    from medspa.run_lock import RunLockedError, data_dir_lock

    if keep_days == 0:
        return None
    now = time.time() if now is None else now
    stamp = _stamp(instance)
    if stamp.exists() and now - stamp.stat().st_mtime < PRUNE_INTERVAL_SECONDS:
        return None
    try:
        with data_dir_lock(stamp.parent, "a pruning of Dagster's run history"):
            if stamp.exists() and now - stamp.stat().st_mtime < PRUNE_INTERVAL_SECONDS:
                return None  # another process pruned while this one waited for the lock
            report = prune_run_history(instance, keep_days, now=now)
            if not report.left:  # runs left over: due again at the next call
                record_pruned(instance, now)
            return report
    except RunLockedError:
        return None
