"""A tenant's runs left STARTED by a process that was killed: failed by the tenant's next run.

A run whose process is killed (`kill -9` of `medspa run`, an out-of-memory kill of a run
worker, a host reboot) never reports its end, so Dagster's run storage keeps it STARTED. The
instance's run queue admits one run per tenant (`dagster.yaml`), so such a run would keep every
later run of its tenant QUEUED for good: the schedule's, the landing sensor's, the UI's, with
no message. Dagster's run monitoring cannot see it: the default run launcher cannot check a
run worker's health, and `medspa run` executes outside any launcher.

Every run of a tenant holds the tenant's run lock (`medspa.run_lock`) from its resources'
set-up to their teardown, and the kernel drops the lock when the process ends. So a run that
has just taken the lock knows that no other run of its tenant is past its set-up: any other run
of that tenant still STARTED or STARTING is dead, or is a run worker that would be refused the
lock anyway. `fail_stale_runs` marks those failed (a PIPELINE_FAILURE event, as the run
monitoring daemon does), naming the run that did it. QUEUED runs and runs of other tenants are
never touched.

Two short windows remain where a live run is STARTED without holding the lock: between its
start and its resources' set-up, and between their teardown and its final event. A run whose
latest event is that recent is looked at again after `SETTLE_SECONDS`, and left alone if it
has finished by then; a run worker that starts after its run was marked failed is ignored by
Dagster ("started after the run had already finished").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.tenancy import PARTITION_TAG, TENANT_TAG

if TYPE_CHECKING:
    from medspa.settings import Settings

#: Statuses of a run whose process should be running.
LIVE_STATUSES = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING)

#: A run whose latest event is younger than this is looked at again once it is this old.
SETTLE_SECONDS = 5.0


def stale_message(marked_by: str) -> str:
    """What a stale run's failure event says; `marked_by` names who found it (`run <id>`)."""
    return (
        f"its process ended without finishing: marked failed by {marked_by}, which holds the "
        "tenant's run lock (no other run of the tenant can be running)"
    )


def tenant_of(run: dg.DagsterRun) -> str | None:
    """The tenant a run locks, as `orchestration.resources.MedspaSettings` derives it."""
    return run.tags.get(PARTITION_TAG) or run.tags.get(TENANT_TAG)


def live_runs(instance: dg.DagsterInstance) -> dict[str, list[dg.DagsterRun]]:
    """Every tenant's runs in STARTED or STARTING, by tenant (runs of no tenant left out)."""
    by_tenant: dict[str, list[dg.DagsterRun]] = {}
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(LIVE_STATUSES))):
        tenant = tenant_of(run)
        if tenant is not None:
            by_tenant.setdefault(tenant, []).append(run)
    return by_tenant


def latest_event_time(instance: dg.DagsterInstance, run_id: str) -> float:
    records = instance.get_records_for_run(run_id, limit=1, ascending=False).records
    return records[0].event_log_entry.timestamp if records else 0.0


def fail_stale_runs(
    instance: dg.DagsterInstance,
    tenant: str,
    current_run_id: str,
    *,
    settle_seconds: float = SETTLE_SECONDS,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Mark the tenant's STARTED/STARTING runs failed; return their run ids.

    Call only while holding the tenant's run lock (see the module docstring).
    """
    runs = [r for r in live_runs(instance).get(tenant, []) if r.run_id != current_run_id]
    if not runs:
        return []
    newest = max(latest_event_time(instance, run.run_id) for run in runs)
    wait = newest + settle_seconds - clock()
    if wait > 0:
        sleep(min(wait, settle_seconds))
    return fail_runs(instance, runs, f"run {current_run_id}")


def fail_runs(instance: dg.DagsterInstance, runs: list[dg.DagsterRun], marked_by: str) -> list[str]:
    """Mark `runs` failed, naming `marked_by`, but any that finished meanwhile (it was alive
    after all); return the ids marked."""
    failed = []
    for run in runs:
        now = instance.get_run_by_id(run.run_id)
        if now is not None and now.status in LIVE_STATUSES:
            instance.report_run_failed(now, stale_message(marked_by))
            failed.append(run.run_id)
    return failed


def report_killed_runs(
    instance: dg.DagsterInstance,
    run_ids: list[str],
    settings: Settings,
    tenant: str,
    warn: Callable[[str], None],
) -> list[str]:
    """The run-log record and the alert of each killed `medspa run` among `run_ids`; return
    the ids reported.

    A run Dagster launched has a code location, and the run-status sensors hear its failure
    when it is marked failed here: they record it and post its alert. A `medspa run` executes
    in its own process, with no code location, so no sensor hears of it: without this, a
    killed nightly driven by cron would be neither in the run log nor alerted. The record is
    kept pending (the next write to the warehouse takes it): call while holding the tenant's
    run lock.
    """
    from orchestration import run_events, run_log
    from orchestration.run_alerts import send_run_alert

    reported = []
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        if run is None or run.remote_job_origin is not None:
            continue  # the run-status sensors record and alert it
        record = run_log.record_of(
            instance,
            run_id,
            published=run_events.published(instance, run_id),
            demo_key_on_real_data=settings.demo_key_on_real_data,
        )
        if settings.warehouse_path.exists():
            run_log.defer_record(settings.warehouse_path, record)
        send_run_alert(settings.alert_webhook_url, tenant, record, warn=warn)
        reported.append(run_id)
    return reported
