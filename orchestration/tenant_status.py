"""Is each tenant's nightly healthy? Read from Dagster's run history, for people and monitors.

An alert (`orchestration.run_alerts`) is posted when a run *ends* without publishing. Nothing
is posted when no run ends at all: the daemon is down, the cron line that runs `medspa run` was
removed, the machine was off, a run hangs. The freshness checks that would notice are
evaluated by the daemon's sensors or by the next run, so they stop with it. `medspa status`
answers from outside, in one read of the run history that every run writes (`medspa run` and
Dagster's runs share the instance): when each tenant last published, how its newest run ended,
what is running now, and an exit status a monitor can act on (cron's mail, a Kubernetes
CronJob, Nagios, an uptime service calling a wrapper).

A tenant is healthy when its newest publish is younger than the limit (by default the marts'
freshness window, `quality.freshness.MART_MAX_AGE`), its newest *deciding* run published with
no check of error severity failed, and no run it still calls started has died. A
run decides when it published, or when an attempt at the nightly failed without publishing (a
blocking check failed, dbt failed, it was killed and marked failed:
`run_events.failed_nightly`); a run stopped by a person (Terminate in the UI, Ctrl-C of `medspa
run`), one refused because another run of the tenant held its lock, and the UI's Materialize of
a few assets (succeeded or failed) say nothing about the nightly and are passed over. The same
reading tells a run that published after a deciding run that did not: its alert says the tenant
recovered.

Like the other freshness verdicts, this one reads the clock: it is about time passing, never
about the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRunStatsSnapshot

from orchestration import run_events
from orchestration.stale_runs import latest_event_time
from orchestration.tenancy import PARTITION_TAG
from quality.freshness import MART_MAX_AGE

#: How many finished runs are read back to find a tenant's newest deciding run: the UI's
#: one-asset runs between two nightlies are passed over, a month of them is not expected.
LOOKBACK_RUNS = 50

#: A run whose newest event is older is pointed out: a dbt model or a load that long without
#: an event is unusual, and a killed `medspa run` stays STARTED until the tenant's next run.
QUIET_MINUTES = 30

STALE, FAILING, NEVER_PUBLISHED = "stale", "failing", "never published"
#: The newest nightly published although a check of error severity failed (not a blocking
#: one): e.g. a required table's file was refused and its day is missing from the marts.
PUBLISHED_WITH_FAILURES = "published with failures"
#: A started run quiet this long without its run lock held is dead: a run takes the lock as
#: its resources are set up, within seconds of Dagster calling it started.
DEAD_AFTER_MINUTES = 1.0

_FINISHED = [
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
]
_WAITING_OR_LIVE = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def last_published(instance: dg.DagsterInstance, tenant: str) -> float | None:
    """When `tenant` last published (its newest `serving` materialization), in epoch seconds."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=run_events.SERVING, asset_partitions=[tenant]), limit=1
    ).records
    return records[0].timestamp if records else None


def deciding_runs(
    instance: dg.DagsterInstance, tenant: str, before_run_id: str | None = None
) -> Iterator[tuple[dg.DagsterRun, bool]]:
    """The tenant's finished runs that decide its health, newest first, with whether each
    published; only runs created before `before_run_id` when given."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={PARTITION_TAG: tenant}, statuses=_FINISHED),
        cursor=before_run_id,
        limit=LOOKBACK_RUNS,
    )
    for run in runs:
        if run_events.published(instance, run.run_id):
            yield run, True  # a run that failed after publishing (its site step) published
        elif run_events.failed_nightly(instance, run):
            yield run, False


def unpublished_before(instance: dg.DagsterInstance, tenant: str, run_id: str) -> str | None:
    """The id of the deciding run just before `run_id` when it did not publish, or published
    and then failed (its PostgreSQL publish, say), else None: the run `run_id` (which
    published) recovered from."""
    for run, published in deciding_runs(instance, tenant, before_run_id=run_id):
        failed_after = run.status == dg.DagsterRunStatus.FAILURE and not (
            run_events.stopped_by_person(run)
        )
        return run.run_id if not published or failed_after else None
    return None


def _failed_after_publishing(brief: RunBrief) -> bool:
    from orchestration.run_log import PUBLISHED_THEN_FAILED  # imports DuckDB: only when needed

    return brief.status == PUBLISHED_THEN_FAILED


@dataclass(frozen=True)
class RunBrief:
    """One run as the status shows it."""

    run_id: str
    status: str  # a run-log status, or Dagster's for a run not finished
    started_at: str | None
    ended_at: str | None
    blocked_by: str | None = None
    quiet_minutes: float | None = None  # a live run: minutes since its newest event
    checks_failed: int = 0  # checks of error severity that failed in a finished run


@dataclass(frozen=True)
class TenantStatus:
    """One tenant's health: the verdicts (empty = healthy) and what they were judged from."""

    tenant: str
    problems: list[str]
    last_published_at: str | None
    hours_since_publish: float | None
    max_age_hours: float
    newest_deciding_run: RunBrief | None
    active_runs: list[RunBrief] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.verdicts

    def to_dict(self) -> dict[str, object]:
        return {"healthy": self.healthy, **asdict(self)}

    def to_text(self) -> str:
        head = "OK" if self.healthy else ", ".join(v.upper() for v in self.verdicts)
        lines = [f"tenant {self.tenant}: {head}"]
        if self.last_published_at is not None and self.hours_since_publish is not None:
            lines.append(
                f"  last published {self.last_published_at} ({_ago(self.hours_since_publish)}; "
                f"limit {self.max_age_hours:g} h)"
            )
        run = self.newest_deciding_run
        if run is not None:
            why = f", blocked by {run.blocked_by}" if run.blocked_by else ""
            ended = f", ended {run.ended_at}"
            lines.append(f"  newest nightly: run {run.run_id} {run.status}{why}{ended}")
        for live in self.active_runs:
            quiet = ""
            if live.quiet_minutes is not None:
                quiet = f", last event {_ago(live.quiet_minutes / 60)}"
                if live.quiet_minutes > QUIET_MINUTES:
                    quiet += " (if no process runs it, it was killed: the next run marks it failed)"
            since = f", started {live.started_at}" if live.started_at else ""
            lines.append(f"  now: run {live.run_id} {live.status}{since}{quiet}")
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def _age(hours: float) -> str:
    """A duration as a person reads it: minutes under an hour, else hours."""
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def _ago(hours: float) -> str:
    """'12 min ago'; a time after now (written under a clock that was ahead) says so instead of
    '-525600 min ago'."""
    if hours < 0:
        return f"{_age(-hours)} in the future: this machine's clock is behind, or was ahead then"
    return f"{_age(hours)} ago"


def iso_utc(timestamp: float | None) -> str | None:
    """Epoch seconds as the status prints them (UTC, to the second); None stays None."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat(timespec="seconds")


def _brief(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    published: bool,
    stats: DagsterRunStatsSnapshot,
) -> RunBrief:
    """A finished deciding run: published, or blocked / failed as the run log says."""
    from orchestration.run_log import record_of  # imports DuckDB and serving: only when needed

    record = record_of(instance, run.run_id, published=published, demo_key_on_real_data=False)
    return RunBrief(
        run_id=run.run_id,
        status=record.status,
        started_at=iso_utc(stats.start_time),
        ended_at=iso_utc(stats.end_time),
        blocked_by=record.blocked_by,
        checks_failed=record.checks_failed,
    )


def _active(instance: dg.DagsterInstance, tenant: str, now: float) -> list[RunBrief]:
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={PARTITION_TAG: tenant}, statuses=_WAITING_OR_LIVE)
    )
    briefs = []
    for run in reversed(list(runs)):  # oldest first, as the queue takes them
        newest = latest_event_time(instance, run.run_id)
        briefs.append(
            RunBrief(
                run_id=run.run_id,
                status=run.status.value.lower(),
                started_at=iso_utc(instance.get_run_stats(run.run_id).start_time),
                ended_at=None,
                quiet_minutes=(now - newest) / 60 if newest else None,
            )
        )
    return briefs


def tenant_status(
    instance: dg.DagsterInstance,
    tenant: str,
    now: float,
    max_age: dt.timedelta = MART_MAX_AGE,
    *,
    run_lock_held: bool | None = None,
) -> TenantStatus:
    """`tenant`'s health at `now` (epoch seconds): see the module docstring for the rules.

    `run_lock_held`: whether a process holds the tenant's run lock (`medspa.run_lock.lock_held`;
    None when unknown). A run Dagster calls started while nobody holds the lock died without
    finishing, and says so now rather than when the publish grows stale a day later."""
    published_at = last_published(instance, tenant)
    newest = next(deciding_runs(instance, tenant), None)
    stats = instance.get_run_stats(newest[0].run_id) if newest is not None else None
    brief = _brief(instance, *newest, stats) if newest is not None and stats else None
    verdicts, problems = [], []
    hours = None if published_at is None else (now - published_at) / 3600
    limit = max_age.total_seconds() / 3600
    if published_at is None:
        verdicts.append(NEVER_PUBLISHED)
        problems.append("no run of this tenant has published yet")
    elif hours is not None and hours > limit:
        verdicts.append(STALE)
        problem = f"nothing published for {_age(hours)} (limit {limit:g} h)"
        ended = stats.end_time if stats is not None else None
        if ended is None or now - ended > max_age.total_seconds():  # no nightly ended lately
            problem += (
                ": is the nightly still scheduled (the Dagster daemon running, or the cron "
                "line in place)?"
            )
        problems.append(problem)
    if newest is not None and brief is not None and not newest[1]:
        verdicts.append(FAILING)
        problems.append(
            f"the newest nightly did not publish ({brief.status}): dashboards and BI show the "
            "data of the last publish; its Dagster run says why"
        )
    if newest is not None and brief is not None and newest[1] and _failed_after_publishing(brief):
        verdicts.append(FAILING)
        problems.append(
            "the newest nightly published serving.duckdb, then a later step failed (the "
            "PostgreSQL publish or the site): BI tools on PostgreSQL or the dashboards may still "
            "show the previous data; its Dagster run says which step"
        )
    if newest is not None and brief is not None and newest[1] and brief.checks_failed:
        verdicts.append(PUBLISHED_WITH_FAILURES)
        problems.append(
            f"the newest nightly published, but {brief.checks_failed} check(s) of error severity "
            "failed in it: dashboards and BI show data a check found wrong (e.g. the day of a "
            "table whose file was refused); its Dagster run and the data-quality page name them"
        )
    active = _active(instance, tenant, now)
    dead = [
        run
        for run in active
        if run.status == "started"
        and run_lock_held is False
        and (run.quiet_minutes is None or run.quiet_minutes >= DEAD_AFTER_MINUTES)
    ]
    if dead:
        if FAILING not in verdicts:
            verdicts.append(FAILING)
        problems += [
            f"run {run.run_id} is still called started, but no process holds the tenant's run "
            "lock: it died without finishing (killed, out of memory, a restart); nothing it "
            "had not published was published, and the next run marks it failed"
            for run in dead
        ]
    return TenantStatus(
        tenant=tenant,
        problems=problems,
        last_published_at=iso_utc(published_at),
        hours_since_publish=None if hours is None else round(hours, 2),
        max_age_hours=limit,
        newest_deciding_run=brief,
        active_runs=active,
        verdicts=verdicts,
    )


def empty_status(tenant: str, home: Path, max_age: dt.timedelta = MART_MAX_AGE) -> TenantStatus:
    """The status of a tenant on a deployment whose Dagster instance at `home` has no history."""
    return TenantStatus(
        tenant=tenant,
        problems=[f"no run has been recorded: no Dagster run history at {home}"],
        last_published_at=None,
        hours_since_publish=None,
        max_age_hours=max_age.total_seconds() / 3600,
        newest_deciding_run=None,
        verdicts=[NEVER_PUBLISHED],
    )
