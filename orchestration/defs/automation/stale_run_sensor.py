"""Fail the runs a killed run worker left STARTED, when no run of their tenant comes to do it.

A tenant's next run marks its killed runs failed as it takes the tenant's run lock
(`orchestration.stale_runs`). But a run the daemon queues never gets that far: the queue admits
one run per tenant (`dagster.yaml`), and the killed run still counts as running. So after a
killed run worker (an out-of-memory kill, a reboot of the machine running `make dev`) the
schedule's, the landing sensor's and the UI's runs of that tenant would wait in the queue for
good, and Dagster's run monitoring cannot tell: the default run launcher cannot check a run
worker's process.

This sensor looks every minute for runs STARTED or STARTING whose latest event is older than
`QUIET_SECONDS`, and for each such tenant tries its run lock without waiting. A live run holds
the lock from its set-up to its teardown (minutes of dbt write no event, but the lock is held);
the moments around them, before the lock is taken and after it is let go, are seconds, far
below `QUIET_SECONDS`. A run that waits for the lock (an unattended run behind an engineer's,
up to half an hour) says so every minute (`medspa.run_lock.WAIT_NOTICE_SECONDS`), so it is
never quiet while the lock it waits for comes free. So a lock taken here proves the quiet runs
dead: they are marked failed, naming this sensor, and the queue starts the tenant's next run.
The lock is held only for that, and a run that meets it then is refused like any run meeting
the lock (a scheduled run retries).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg

from medspa.run_lock import RunLockedError, data_dir_lock
from medspa.tenants import TenantRegistryError
from orchestration.resources import run_settings
from orchestration.stale_runs import fail_runs, latest_event_time, live_runs, report_killed_runs

#: A run whose latest event is younger than this is never judged here.
QUIET_SECONDS = 120.0

SENSOR_NAME = "stale_runs_sensor"


def fail_dead_runs(
    instance: dg.DagsterInstance,
    now: float | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> dict[str, list[str]]:
    """Mark failed the quiet STARTED/STARTING runs of every tenant whose run lock is free
    (a killed `medspa run` among them is recorded and alerted: no run-status sensor hears
    it); return the failed run ids by tenant."""
    now = time.time() if now is None else now
    failed: dict[str, list[str]] = {}
    for tenant, runs in sorted(live_runs(instance).items()):
        quiet = [r for r in runs if now - latest_event_time(instance, r.run_id) > QUIET_SECONDS]
        if not quiet:
            continue
        try:
            data_dir = run_settings(quiet[0]).data_dir
        except TenantRegistryError:
            continue  # not a tenant of the registry: no data dir, no lock to prove it dead
        if not data_dir.is_dir():
            continue  # no data dir: nothing of the tenant ever ran here to hold a lock
        try:
            with data_dir_lock(data_dir, f"the {SENSOR_NAME} failing runs of killed workers"):
                ids = fail_runs(instance, quiet, f"the {SENSOR_NAME}")
                report_killed_runs(instance, ids, run_settings(quiet[0]), tenant, warn)
        except RunLockedError:
            continue  # a run of the tenant is alive: its runs are not stale
        if ids:
            failed[tenant] = ids
    return failed


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails runs left STARTED by a killed run worker, so the tenant's queue moves.",
)
def stale_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = fail_dead_runs(context.instance, warn=context.log.warning)
    if not failed:
        return dg.SkipReason("no run left running by a killed worker")
    listed = "; ".join(f"{t}: {', '.join(ids)}" for t, ids in failed.items())
    context.log.warning(f"marked failed, their workers were gone: {listed}")
    return dg.SkipReason(f"marked failed: {listed}")
