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
publishing (only `site` selected, say) says so instead of passing for a failure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass
from pathlib import Path

import duckdb
from dagster import DagsterInstance, DagsterRunStatus

from orchestration import run_events
from serving.publish import RUN_LOG_COLUMNS

PUBLISHED, BLOCKED, FAILED = "published", "blocked", "failed"
#: Dagster counts the run a success, but it did not publish (its selection left `serving` out).
NOT_PUBLISHED = "succeeded, not published"


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
    status: str  # published | blocked | failed | succeeded, not published
    blocked_by: str | None
    demo_key_on_real_data: bool

    def row(self) -> tuple:
        return astuple(self)


def record_of(
    instance: DagsterInstance, run_id: str, *, published: bool, demo_key_on_real_data: bool
) -> RunRecord:
    """The run's record from the event log of its chain (the run and the runs it retried).

    Counts are the newest evaluation of each check in the chain and every raw row the chain
    loaded; `started_at` is when the first attempt started. Status: published; else blocked
    when a blocking check failed; else `NOT_PUBLISHED` when Dagster ended the run as a success
    (nothing failed, `serving` was not selected); else failed.
    """
    chain = run_events.run_chain(instance, run_id)
    outcomes = run_events.chain_check_outcomes(instance, chain)
    blocked = run_events.failed_blocking(outcomes)
    counts = {o: sum(c.outcome == o for c in outcomes) for o in ("passed", "warned", "failed")}
    if published:
        status = PUBLISHED
    elif blocked:
        status = BLOCKED
    else:
        run = instance.get_run_by_id(run_id)
        succeeded = run is not None and run.status == DagsterRunStatus.SUCCESS
        status = NOT_PUBLISHED if succeeded else FAILED
    return RunRecord(
        run_id=run_id,
        started_at=run_events.run_started_at(instance, chain[-1]),
        finished_at=dt.datetime.now(dt.UTC),
        rows_loaded=run_events.rows_loaded(run_events.chain_materializations(instance, chain)),
        checks_passed=counts["passed"],
        checks_warned=counts["warned"],
        checks_failed=counts["failed"],
        status=status,
        blocked_by=", ".join(f"{c.asset}:{c.check_name}" for c in blocked) or None,
        demo_key_on_real_data=demo_key_on_real_data,
    )


def write_record(warehouse_path: Path, record: RunRecord) -> None:
    """Upsert the run's row into `raw_meta.run_log` (creating it); no warehouse, no record."""
    if not warehouse_path.exists():
        return  # nothing was loaded: there is no warehouse to keep the record in
    from ingestion.duckdb_limits import writer_config
    from safeio.private import private_umask

    with private_umask():  # one row: no memory or thread limits needed, but no merging either
        con = duckdb.connect(str(warehouse_path), config=writer_config())  # type: ignore[arg-type]
    try:
        con.execute("create schema if not exists raw_meta")
        con.execute(f"create table if not exists raw_meta.run_log ({RUN_LOG_COLUMNS})")
        con.execute("begin")
        con.execute("delete from raw_meta.run_log where run_id = ?", [record.run_id])
        con.execute(
            "insert into raw_meta.run_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", record.row()
        )
        con.execute("commit")
    finally:
        con.close()
