"""One row per nightly run -- published, blocked or failed -- kept in the warehouse at once.

`ops.run_log` used to be written only by a run that published, so the runs that mattered most
(a blocking check stopped publishing, dbt failed) left no trace on the data-quality page. Now
every run's record is upserted into the warehouse's `raw_meta.run_log` when the run ends
(`medspa run`, or the run-status sensor for schedule, sensor and UI runs), and the serving
asset publishes that whole table, so a failed run appears in serving's `ops.run_log` at the
next successful publish. The record holds counts, check names and statuses, never a value.

A retry from failure re-executes only the failed step onward, so its record reads the whole
chain back to the run it retried (`run_events.run_chain`): the rows its parent loaded and the
checks its parent evaluated are what this attempt publishes. A run that succeeded without
publishing (only `site` selected, say) says so instead of passing for a failure, and a run
stopped from the UI is `cancelled`.

A record that cannot be written at once (another run has the warehouse open) is kept pending,
one JSON file per run in `<data dir>/run_log_pending/`, and every later write to the warehouse
takes the pending records with it: nothing else records a blocked or failed run started outside
`medspa run`, so dropping it would lose it for good. Rows are keyed by run id, so a record
written twice (kept, then flushed by two writers) is still one row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, astuple, dataclass
from pathlib import Path

import duckdb
from dagster import DagsterInstance, DagsterRunStatus

from orchestration import run_events
from serving.publish import RUN_LOG_COLUMNS

PUBLISHED, BLOCKED, FAILED = "published", "blocked", "failed"
#: Dagster counts the run a success, but it did not publish (its selection left `serving` out).
NOT_PUBLISHED = "succeeded, not published"
#: Stopped before it ended: Terminate in the UI (Dagster's CANCELED), Ctrl-C of `medspa run`.
CANCELLED = "cancelled"
#: Published serving.duckdb, then a later step failed (the PostgreSQL publish, the site): the
#: dashboards or BI tools may still show the previous data, so it alerts and is unhealthy.
PUBLISHED_THEN_FAILED = "published, then failed"

#: Beside the warehouse: the records not written into it yet, `<run id>.json` each.
PENDING_DIR = "run_log_pending"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    """A run as the log shows it; `blocked_by` names `asset:check` pairs, comma-separated."""

    run_id: str
    started_at: dt.datetime | None
    finished_at: dt.datetime
    rows_loaded: int
    checks_passed: int
    checks_warned: int
    checks_failed: int
    status: str  # published | blocked | failed | cancelled | succeeded, not published
    blocked_by: str | None
    demo_key_on_real_data: bool

    def row(self) -> tuple:
        return astuple(self)

    def to_json(self) -> str:
        """The record as a pending file holds it (`defer_record`): times in ISO 8601."""
        fields = asdict(self)
        for name in ("started_at", "finished_at"):
            fields[name] = fields[name].isoformat() if fields[name] else None
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        fields = json.loads(text)
        for name in ("started_at", "finished_at"):
            fields[name] = dt.datetime.fromisoformat(fields[name]) if fields[name] else None
        return cls(**fields)


def _ended_at(instance: DagsterInstance, run_id: str) -> dt.datetime:
    """When the run ended, as Dagster stored it; now for a run still going (the `serving`
    step records its own run) -- not when a sensor got round to recording it."""
    ended = instance.get_run_stats(run_id).end_time
    return dt.datetime.fromtimestamp(ended, tz=dt.UTC) if ended else dt.datetime.now(dt.UTC)


def record_of(
    instance: DagsterInstance,
    run_id: str,
    *,
    published: bool,
    demo_key_on_real_data: bool,
    interrupted: bool = False,
) -> RunRecord:
    """The run's record from the event log of its chain (the run and the runs it retried).

    Counts are the newest evaluation of each check in the chain and every raw row the chain
    loaded; `started_at` is when the first attempt started. Status: published, or
    `PUBLISHED_THEN_FAILED` when Dagster ended the run as a failure after it published (a
    PostgreSQL publish refused, the site not built; not when it was stopped); else blocked
    when a blocking check failed; else `NOT_PUBLISHED` when Dagster ended the run as a success
    (nothing failed, `serving` was not selected); else cancelled when it was stopped (Terminate
    in the UI, which Dagster ends as CANCELED, or `interrupted`: Ctrl-C or SIGTERM of
    `medspa run`, which Dagster ends as a failure); else failed.
    """
    chain = run_events.run_chain(instance, run_id)
    outcomes = run_events.chain_check_outcomes(instance, chain)
    blocked = run_events.failed_blocking(outcomes)
    counts = {o: sum(c.outcome == o for c in outcomes) for o in ("passed", "warned", "failed")}
    run = instance.get_run_by_id(run_id)
    ended = run.status if run is not None else None
    stopped = interrupted or (run is not None and run_events.stopped_by_person(run))
    if published:
        failed_after = ended == DagsterRunStatus.FAILURE and not stopped
        status = PUBLISHED_THEN_FAILED if failed_after else PUBLISHED
    elif blocked:
        status = BLOCKED
    else:
        if ended == DagsterRunStatus.SUCCESS:
            status = NOT_PUBLISHED
        elif stopped:
            status = CANCELLED
        else:
            status = FAILED
    return RunRecord(
        run_id=run_id,
        started_at=run_events.run_started_at(instance, chain[-1]),
        finished_at=_ended_at(instance, run_id),
        rows_loaded=run_events.rows_loaded(run_events.chain_materializations(instance, chain)),
        checks_passed=counts["passed"],
        checks_warned=counts["warned"],
        checks_failed=counts["failed"],
        status=status,
        blocked_by=", ".join(f"{c.asset}:{c.check_name}" for c in blocked) or None,
        demo_key_on_real_data=demo_key_on_real_data,
    )


def pending_dir(warehouse_path: Path) -> Path:
    """Where the warehouse's records wait while it is busy (`defer_record`)."""
    return warehouse_path.parent / PENDING_DIR


def defer_record(warehouse_path: Path, record: RunRecord) -> None:
    """Keep the record until a write to the warehouse takes it (`write_record`).

    One file per run, replaced atomically: keeping a run again leaves one file, and a reader
    never sees half a record. No warehouse, no record (as `write_record`).
    """
    if not warehouse_path.exists():
        return
    from safeio.private import private_dir, write_private_text

    folder = private_dir(pending_dir(warehouse_path))
    # 0600, and not `*.json` until complete: a reader (`_pending`) never takes it half-written
    write_private_text(folder / f"{record.run_id}.json", record.to_json())


def _pending(warehouse_path: Path) -> list[tuple[Path, RunRecord]]:
    """The kept records, by run id; a file that does not read is left in place, and said."""
    folder = pending_dir(warehouse_path)
    kept = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            kept.append((path, RunRecord.from_json(path.read_text())))
        except (OSError, ValueError, TypeError) as exc:
            _log.warning(f"pending run-log record {path} not read ({type(exc).__name__})")
    return kept


def write_record(warehouse_path: Path, record: RunRecord | None = None) -> None:
    """Upsert the run's row, and every pending record, into `raw_meta.run_log` (creating it).

    One transaction; each row replaces its run id's, so a record written again (a pending file
    this process could not remove after the commit, a run recorded by two writers) stays one
    row. The pending files go once written. If the write fails (another process has the
    warehouse open), `record` is kept pending and the error raised. No warehouse, no record.
    """
    if not warehouse_path.exists():
        return  # nothing was loaded: there is no warehouse to keep the record in
    pending = _pending(warehouse_path)
    records = [r for _, r in pending if record is None or r.run_id != record.run_id]
    records += [record] if record is not None else []
    if not records:
        return
    try:
        _upsert(warehouse_path, records)
    except Exception:
        if record is not None:
            defer_record(warehouse_path, record)
        raise
    for path, _ in pending:
        path.unlink(missing_ok=True)


def _upsert(warehouse_path: Path, records: list[RunRecord]) -> None:
    from ingestion.duckdb_limits import writer_config
    from safeio.private import private_umask

    with private_umask():  # a few rows: no memory or thread limits needed, but no merging either
        con = duckdb.connect(str(warehouse_path), config=writer_config())  # type: ignore[arg-type]
    try:
        con.execute("create schema if not exists raw_meta")
        con.execute(f"create table if not exists raw_meta.run_log ({RUN_LOG_COLUMNS})")
        con.execute("begin")
        for record in records:
            con.execute("delete from raw_meta.run_log where run_id = ?", [record.run_id])
            con.execute(
                "insert into raw_meta.run_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                record.row(),
            )
        con.execute("commit")
    finally:
        con.close()
