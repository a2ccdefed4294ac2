"""Record every finished nightly run in the warehouse's run log, whatever started it.

`medspa run` records its own run; runs started by the schedule, the landing sensor or the UI
are recorded here when they end. A failed run is FAILURE; a run whose serving step was skipped
because a blocking check failed ends as SUCCESS in Dagster, so both statuses are watched and
`run_log.record_of` tells published, blocked and failed apart.
"""

import dagster as dg

from medspa.settings import Settings
from medspa.tenants import settings_for_tenant
from orchestration import run_events, run_log
from orchestration.resources import MedspaSettings
from orchestration.tenancy import tenant_of_run


def _settings(run: dg.DagsterRun) -> Settings:
    """The run's tenant's settings: its own data dir, so the record lands in its warehouse.

    The deployment's dirs and registry come from the run config, else the `MEDSPA_*`
    environment; the tenant is the run's partition.
    """
    config = (run.run_config or {}).get("resources", {}).get("medspa", {}).get("config", {})
    base = MedspaSettings(**config).base_settings()
    return settings_for_tenant(base, tenant_of_run(run))


def record_finished_run(context: dg.RunStatusSensorContext) -> None:
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


def _sensor(status: dg.DagsterRunStatus, name: str, job: object) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Writes the finished run (published, blocked or failed) to the run log.",
    )
    def _record(context: dg.RunStatusSensorContext) -> None:
        record_finished_run(context)

    return _record


def build_run_log_sensors(job: object) -> list[dg.SensorDefinition]:
    return [
        _sensor(dg.DagsterRunStatus.FAILURE, "run_log_failed_runs", job),
        _sensor(dg.DagsterRunStatus.SUCCESS, "run_log_finished_runs", job),
    ]
