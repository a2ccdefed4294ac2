"""What happened in one Dagster run, read back from the instance's event log.

Used by the `serving` asset (its publish gate, `ops.check_results`, `ops.run_log`), by the run
log and by `medspa run`'s summary, so the page and the terminal never disagree.

A run is not always the whole story. Dagster's automatic retry re-executes only the failed step
and what follows it, in a new run whose `parent_run_id` is the failed one (`run_chain` follows
the links back to the root), and `serving` can be materialized on its own, in a run that
evaluates no check at all. So the publish gate reads each check's *latest* evaluation for the
tenant across runs (`latest_check_outcomes`), not the current run's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
)

from orchestration.tenancy import PARTITION_TAG

#: Set on a run that `medspa run` saw interrupted (Ctrl-C, SIGTERM): Dagster ends such a run as
#: a FAILURE, though a person stopped it, as Terminate in the UI ends one as CANCELED.
INTERRUPTED_TAG = "medspa/interrupted"


#: The job every tenant's nightly runs (`orchestration.defs.automation.jobs.NIGHTLY`).
NIGHTLY_JOB = "nightly"
SERVING = AssetKey("serving")


def stopped_by_person(run: Any) -> bool:
    """Whether a finished `DagsterRun` was stopped, not failed: Terminate in the UI, or Ctrl-C
    or SIGTERM of `medspa run` (tagged when it saw it)."""
    return run.status == DagsterRunStatus.CANCELED or run.tags.get(INTERRUPTED_TAG) == "true"


def attempts_nightly(instance: DagsterInstance, run: Any) -> bool:
    """Whether `run` tried what a nightly does: load the landing folder and publish.

    The whole `nightly` job (the schedule, the landing sensor, `medspa run`), or a selection
    holding a raw table and `serving` (the UI's Materialize all, a backfill). A retry or a
    re-execution from failure is judged by the run it re-executes. The UI's Materialize of a
    mart, or of `serving` alone, is someone's experiment beside the nightly: its failure is
    theirs to read in the UI, not the tenant's nightly failing.
    """
    root_id = run.tags.get("dagster/root_run_id")
    root = instance.get_run_by_id(root_id) if root_id else None
    run = root if root is not None else run
    selection = run.asset_selection
    if not selection:  # the whole job (None, or empty when run in process)
        return run.job_name == NIGHTLY_JOB
    return SERVING in selection and any(key.path[0].startswith("raw_") for key in selection)


def refused_by_lock(instance: DagsterInstance, run_id: str) -> bool:
    """Whether the run stopped before its first step because another run of its tenant held
    the run lock (`RunLockedError` in resource setup): nothing was tried, nothing changed."""
    for record in _records(instance, run_id, DagsterEventType.RESOURCE_INIT_FAILURE):
        error = getattr(record.event_log_entry.dagster_event.event_specific_data, "error", None)
        while error is not None:
            if error.cls_name == "RunLockedError":
                return True
            error = error.cause
    return False


def failed_nightly(instance: DagsterInstance, run: Any) -> bool:
    """Whether a finished run that did not publish says the tenant's nightly is failing: a
    failed attempt at the nightly, not stopped by a person nor refused by the run lock. Such a
    run posts an alert and makes `medspa status` say FAILING; other failed runs do neither."""
    return (
        run.status == DagsterRunStatus.FAILURE
        and not stopped_by_person(run)
        and attempts_nightly(instance, run)
        and not refused_by_lock(instance, run.run_id)
    )


@dataclass(frozen=True)
class CheckOutcome:
    """One evaluated asset check."""

    check_name: str
    asset: str
    severity: str  # ERROR | WARN
    passed: bool
    description: str
    evaluated_at: dt.datetime
    blocking: bool
    run_id: str = ""  # the run that evaluated it

    @property
    def key(self) -> tuple[str, str]:
        """(asset, check name): what identifies a check across runs."""
        return self.asset, self.check_name

    @property
    def outcome(self) -> str:
        """passed | warned | failed: a failed WARN check is a warning, not a failure."""
        if self.passed:
            return "passed"
        return "warned" if self.severity == "WARN" else "failed"


@dataclass(frozen=True)
class Materialization:
    """One asset materialization with its metadata as plain values."""

    asset: str
    metadata: dict[str, Any]


def _records(instance: DagsterInstance, run_id: str, event_type: DagsterEventType) -> list:
    return list(instance.get_records_for_run(run_id, of_type=event_type, limit=100_000).records)


def failed_rows_text(metadata: dict[str, Any] | None) -> str:
    """What a check without a description (dbt's tests, as dagster-dbt reports them) found:
    its failing row count, so a blocked night says how much, not an empty line."""
    value = (metadata or {}).get("dagster_dbt/failed_row_count")
    count = getattr(value, "value", value)
    if count is None:
        return ""
    return f"dbt test: {count} failing row(s)"


def check_outcomes(instance: DagsterInstance, run_id: str) -> list[CheckOutcome]:
    """Every check evaluated in the run, in evaluation order."""
    outcomes = []
    for record in _records(instance, run_id, DagsterEventType.ASSET_CHECK_EVALUATION):
        entry = record.event_log_entry
        data = entry.dagster_event.event_specific_data
        outcomes.append(
            CheckOutcome(
                check_name=data.check_name,
                asset=data.asset_key.to_user_string(),
                severity=data.severity.value,
                passed=bool(data.passed),
                description=data.description or failed_rows_text(data.metadata),
                evaluated_at=dt.datetime.fromtimestamp(entry.timestamp, tz=dt.UTC),
                blocking=bool(data.blocking),
                run_id=run_id,
            )
        )
    return outcomes


def run_chain(instance: DagsterInstance, run_id: str) -> list[str]:
    """The run and the runs it re-executes (`parent_run_id`, back to the root), newest first.

    A retry from failure materializes only the failed step onward; the loads and checks before
    it happened in its parent. One lookup per link: retries are few (`dagster/max_retries`).
    """
    chain: list[str] = []
    current = instance.get_run_by_id(run_id)
    if current is None:
        return [run_id]
    while current is not None and current.run_id not in chain:
        chain.append(current.run_id)
        parent = current.parent_run_id
        current = instance.get_run_by_id(parent) if parent else None
    return chain


def _newest_per_check(
    instance: DagsterInstance, run_ids: Iterable[str], wanted: set[tuple[str, str]] | None
) -> list[CheckOutcome]:
    """Per check, its newest evaluation in `run_ids` (newest run first), in evaluation order.

    One event-log query per run read; stops as soon as every `wanted` check has been seen.
    """
    latest: dict[tuple[str, str], CheckOutcome] = {}
    for run_id in run_ids:
        for outcome in reversed(check_outcomes(instance, run_id)):  # newest evaluation first
            if (wanted is None or outcome.key in wanted) and outcome.key not in latest:
                latest[outcome.key] = outcome
        if wanted is not None and len(latest) == len(wanted):
            break
    return sorted(latest.values(), key=lambda c: c.evaluated_at)


def chain_check_outcomes(instance: DagsterInstance, chain: list[str]) -> list[CheckOutcome]:
    """Each check evaluated in a `run_chain`: its newest evaluation there."""
    return _newest_per_check(instance, chain, None)


#: A tenant's runs are read this many at a time, newest first. Every full nightly run
#: evaluates nearly every check, so the walk normally stops within the first page; a check of a
#: model the nightly leaves out is found in the run that last built it, however many runs ago
#: (until the run history's pruning, `MEDSPA_RUN_HISTORY_DAYS`, removes that run).
RUNS_PER_PAGE = 50


def _tenant_runs(instance: DagsterInstance, run_id: str, partition: str) -> Iterator[str]:
    """`run_id`, then the tenant's other runs, newest first, a page at a time."""
    yield run_id
    cursor: str | None = None
    while True:
        page = instance.get_run_ids(
            filters=RunsFilter(tags={PARTITION_TAG: partition}), cursor=cursor, limit=RUNS_PER_PAGE
        )
        yield from (r for r in page if r != run_id)
        if len(page) < RUNS_PER_PAGE:
            return
        cursor = page[-1]


def latest_check_outcomes(
    instance: DagsterInstance, run_id: str, checks: list[AssetCheckKey], partition: str
) -> list[CheckOutcome]:
    """Each of `checks`' latest evaluation for one tenant (`partition`), across its runs.

    The asset checks of a tenant-partitioned asset are not partitioned themselves: Dagster stores
    their evaluations without a partition (its per-partition check queries find nothing), so
    "latest" cannot be asked of the check table. It is read from the tenant's runs instead
    (tag `dagster/partition`, which every tenant run carries), newest first, starting with
    `run_id` itself -- so another tenant's evaluations never count, a check the current run
    evaluated is taken from it, and one it did not (a `serving`-only materialization, a retry
    from failure, a check still to run after `serving`, the tests of a model the nightlies have
    left out for months) is taken from the run that last did. There is no bound on how far
    back: a bound of 50 runs once dropped the tests of left-out models from the published
    check results after 50 runs.
    """
    wanted = {(k.asset_key.to_user_string(), k.name) for k in checks}
    return _newest_per_check(instance, _tenant_runs(instance, run_id, partition), wanted)


def loaded_since_checked(
    instance: DagsterInstance,
    outcomes: list[CheckOutcome],
    checks: list[AssetCheckKey],
    partition: str,
) -> list[str]:
    """The assets of `checks` materialized for the tenant after the check's latest evaluation
    (or never evaluated): their verdict says nothing about the rows they now hold.

    A run that selects one raw table loads its whole system, so its siblings take new rows
    while their quarantine checks, not selected, stay as the last nightly left them.
    """
    evaluated = {c.key: c.evaluated_at for c in outcomes}
    stale = []
    for key in checks:
        asset = key.asset_key.to_user_string()
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=key.asset_key, asset_partitions=[partition]), limit=1
        ).records
        if not records:
            continue
        loaded_at = dt.datetime.fromtimestamp(records[0].timestamp, tz=dt.UTC)
        checked_at = evaluated.get((asset, key.name))
        if checked_at is None or checked_at < loaded_at:
            stale.append(f"{asset}:{key.name}")
    return stale


def chain_materializations(instance: DagsterInstance, chain: list[str]) -> list[Materialization]:
    """Every materialization of a `run_chain`'s runs, oldest run first."""
    return [m for rid in reversed(chain) for m in materializations(instance, rid)]


def materializations(instance: DagsterInstance, run_id: str) -> list[Materialization]:
    """Every asset materialized in the run, metadata unwrapped to plain values."""
    result = []
    for record in _records(instance, run_id, DagsterEventType.ASSET_MATERIALIZATION):
        mat = record.event_log_entry.dagster_event.event_specific_data.materialization
        meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        result.append(Materialization(mat.asset_key.to_user_string(), meta))
    return result


def published(instance: DagsterInstance, run_id: str) -> bool:
    """Whether the run materialized `serving` (it published)."""
    return any(m.asset == "serving" for m in materializations(instance, run_id))


def rows_loaded(mats: list[Materialization]) -> int:
    """Rows inserted or updated in raw tables during the run."""
    total = 0
    for mat in mats:
        if mat.asset.startswith("raw_"):
            for field in ("rows_inserted", "rows_updated"):
                value = mat.metadata.get(field)
                total += int(value) if isinstance(value, int | float) else 0
    return total


def run_started_at(instance: DagsterInstance, run_id: str) -> dt.datetime | None:
    stats = instance.get_run_stats(run_id)
    return dt.datetime.fromtimestamp(stats.start_time, tz=dt.UTC) if stats.start_time else None


def failed_blocking(outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    """Checks that must stop publishing: blocking and failed at ERROR severity."""
    return [c for c in outcomes if c.blocking and not c.passed and c.severity == "ERROR"]
