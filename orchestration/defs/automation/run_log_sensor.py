"""Record every finished tenant run in the warehouse's run log, whatever started it.

`medspa run` records its own run; runs started by the schedule, the landing sensor or the UI
are recorded here when they end. The UI starts its own jobs -- Materialize in the asset graph
and backfills run Dagster's implicit asset job, not `nightly` -- so the sensors watch every job
of this code location (none named) and keep the runs that belong to a tenant (its partition
tag): a peer-benchmarks or freshness-check run belongs to no tenant's warehouse. (`medspa run`'s
in-process runs have no code location, so they are not recorded twice.) A failed blocking check
fails its own step, so a blocked run ends as FAILURE, like a run whose dbt step failed; a run
that did not select `serving` ends as SUCCESS; one stopped from the UI as CANCELED. So all three
statuses are watched, and `run_log.record_of` tells published, blocked, failed, cancelled and
succeeded-without-publishing apart from the run's events.

A run-status sensor's cursor passes a run even when its evaluation raised (Dagster's sensor
daemon: run-status sensors have side effects it does not repeat), and the tenant's warehouse is
often busy just then: the queue starts the tenant's next run, or its retry, as this one ends.
So the record is first kept in the tenant's data dir (`run_log.defer_record`) and then written
under the tenant's run lock, as every writer of the warehouse does -- the sensor never opens it
under a running step (a run that starts during that one write is refused like any run meeting
the lock: a run-level failure, which a scheduled run retries). While a run holds the lock, or
the file is busy, the record waits and the next write to that warehouse takes it: the next
run's own record (`serving` when it publishes, `medspa run`) or this sensor's next run of the
tenant.
"""

import dagster as dg
import duckdb

from medspa.run_lock import RunLockedError, data_dir_lock
from orchestration import run_events, run_log
from orchestration.resources import run_settings
from orchestration.run_alerts import send_recovery_alert, send_run_alert
from orchestration.tenancy import PARTITION_TAG, TENANT_TAG
from orchestration.tenant_status import unpublished_before


def record_finished_run(context: dg.RunStatusSensorContext) -> None:
    """Upsert the run's record into its tenant's `raw_meta.run_log`; skip runs of no tenant.
    A run that did not publish (blocked, failed) posts its alert (`orchestration.run_alerts`);
    one that published after one that did not posts that its tenant recovered.

    Kept pending first, so that whatever happens next (a busy warehouse, this process ending)
    the record is not lost; the write then takes it with any record an earlier run left.
    """
    tags = context.dagster_run.tags or {}
    if PARTITION_TAG not in tags and TENANT_TAG not in tags:
        return  # not one tenant's run (peer benchmarks, a freshness-check run): no warehouse
    # the tenant's own data dir, so the record lands in its warehouse
    settings = run_settings(context.dagster_run)
    run_id = context.dagster_run.run_id
    record = run_log.record_of(
        context.instance,
        run_id,
        published=run_events.published(context.instance, run_id),
        demo_key_on_real_data=settings.demo_key_on_real_data,
    )
    if settings.warehouse_path.exists():  # else nothing was ever loaded: no log to keep it in
        run_log.defer_record(settings.warehouse_path, record)
        try:
            with data_dir_lock(settings.data_dir, f"the run-log sensor recording run {run_id}"):
                run_log.write_record(settings.warehouse_path)
        except (RunLockedError, duckdb.Error) as exc:
            context.log.info(
                f"run {run_id} kept for the run log in "
                f"{run_log.pending_dir(settings.warehouse_path)} ({type(exc).__name__}: the "
                "warehouse is busy); the next write to it records it"
            )
    # After the record is safe: Dagster moves this sensor past the run whatever happens next.
    tenant = str(tags.get(PARTITION_TAG) or tags.get(TENANT_TAG))
    url = settings.alert_webhook_url
    if record.status in (
        run_log.PUBLISHED,
        run_log.PUBLISHED_THEN_FAILED,
    ) or run_events.failed_nightly(
        context.instance, context.dagster_run
    ):  # published (with failed checks?), or the nightly failing: not a UI experiment failing
        send_run_alert(url, tenant, record, warn=context.log.warning)
    send_recovery_alert(
        url,
        tenant,
        record,
        lambda: unpublished_before(context.instance, tenant, run_id),
        warn=context.log.warning,
    )


def _sensor(status: dg.DagsterRunStatus, name: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        # No `monitored_jobs`: every job of this code location, the UI's asset job included.
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Writes the ended run (published, blocked, failed or cancelled) to the "
        "run log.",
    )
    def _record(context: dg.RunStatusSensorContext) -> None:
        record_finished_run(context)

    return _record


def build_run_log_sensors() -> list[dg.SensorDefinition]:
    """The run-status sensors (failed, succeeded, cancelled) that keep the run log complete."""
    return [
        _sensor(dg.DagsterRunStatus.FAILURE, "run_log_failed_runs"),
        _sensor(dg.DagsterRunStatus.SUCCESS, "run_log_finished_runs"),
        _sensor(dg.DagsterRunStatus.CANCELED, "run_log_cancelled_runs"),
    ]
