"""Record every finished tenant run in the warehouse's run log, whatever started it.

`medspa run` records its own run; runs started by the schedule, the landing sensor or the UI
are recorded here when they end. The UI starts its own jobs -- Materialize in the asset graph
and backfills run Dagster's implicit asset job, not `nightly` -- so the sensors watch every job
of this code location (none named) and keep the runs that belong to a tenant (its partition
tag): a peer-benchmarks or freshness-check run belongs to no tenant's warehouse. (`medspa run`'s
in-process runs have no code location, so they are not recorded twice.) A failed run is FAILURE;
a run whose serving step was skipped because a blocking check failed ends as SUCCESS in Dagster,
so both statuses are watched and `run_log.record_of` tells published, blocked, failed and
succeeded-without-publishing apart.
"""

import dagster as dg

from medspa.settings import Settings
from medspa.tenants import settings_for_tenant
from orchestration import run_events, run_log
from orchestration.resources import MedspaSettings
from orchestration.tenancy import PARTITION_TAG, TENANT_TAG, tenant_of_run


def _settings(run: dg.DagsterRun) -> Settings:
    """The run's tenant's settings: its own data dir, so the record lands in its warehouse.

    The deployment's dirs and registry come from the run config, else the `MEDSPA_*`
    environment; the tenant is the run's partition.
    """
    config = (run.run_config or {}).get("resources", {}).get("medspa", {}).get("config", {})
    base = MedspaSettings(**config).base_settings()
    return settings_for_tenant(base, tenant_of_run(run))


def record_finished_run(context: dg.RunStatusSensorContext) -> None:
    """Upsert the run's record into its tenant's `raw_meta.run_log`; skip runs of no tenant."""
    tags = context.dagster_run.tags or {}
    if PARTITION_TAG not in tags and TENANT_TAG not in tags:
        return  # not one tenant's run (peer benchmarks, a freshness-check run): no warehouse
    settings = _settings(context.dagster_run)
    run_id = context.dagster_run.run_id
    published = any(
        m.asset == "serving" for m in run_events.materializations(context.instance, run_id)
    )
    record = run_log.record_of(
        context.instance,
        run_id,
        published=published,
        demo_key_on_real_data=settings.demo_key_on_real_data,
    )
    try:
        run_log.write_record(settings.warehouse_path, record)
    except Exception as exc:  # the warehouse may be busy: say so, the run itself is done
        context.log.warning(f"run {run_id} not recorded in the run log ({type(exc).__name__})")


def _sensor(status: dg.DagsterRunStatus, name: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        # No `monitored_jobs`: every job of this code location, the UI's asset job included.
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Writes the finished run (published, blocked or failed) to the run log.",
    )
    def _record(context: dg.RunStatusSensorContext) -> None:
        record_finished_run(context)

    return _record


def build_run_log_sensors() -> list[dg.SensorDefinition]:
    """The two run-status sensors (failed, succeeded) that keep the run log complete."""
    return [
        _sensor(dg.DagsterRunStatus.FAILURE, "run_log_failed_runs"),
        _sensor(dg.DagsterRunStatus.SUCCESS, "run_log_finished_runs"),
    ]
