"""The nightly job, its 02:00 schedule, and the sensors that can also start it.

One job runs everything (ingest -> dbt -> checks -> serving -> site); `medspa run`, the
schedule and the landing sensor all start this same job. Runs are queued one at a time
(`dagster.yaml`: `max_concurrent_runs: 1`) and steps run in one process, because DuckDB takes
one writer. A scheduled run that fails is retried once (`dagster/max_retries`).
"""

import dagster as dg

from medspa.settings import Settings
from orchestration.defs.automation.landing_sensor import build_landing_sensor
from orchestration.defs.automation.run_log_sensor import build_run_log_sensors

NIGHTLY = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    description="Load the landing folder, build dbt, run every check, publish serving and site.",
)


def nightly_schedule(timezone: str | None = None) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly_0200",
        job=NIGHTLY,
        cron_schedule="0 2 * * *",
        execution_timezone=timezone or Settings.from_env().schedule_timezone,
        # On: a clinic that starts `dagster dev` (or the daemon) wants its nightly run.
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"dagster/max_retries": "1"},
        description="02:00 in the clinic's time zone (MEDSPA_SCHEDULE_TZ).",
    )


SCHEDULES = [nightly_schedule()]
SENSORS = [build_landing_sensor(NIGHTLY), *build_run_log_sensors(NIGHTLY)]
