"""The nightly job, its 02:00 schedule, and the sensors that can also start it.

One job runs everything (ingest -> dbt -> checks -> serving -> site) for one tenant (the run's
partition); `medspa run`, the schedule and the landing sensor all start this same job. The
schedule requests one run per tenant; the run queue (`dagster.yaml`) runs a few tenants at a
time and each tenant's runs one at a time (tags `medspa/tenant` and `dagster/partition`, the
latter also on runs started from the UI), because one DuckDB file takes one writer. A scheduled
or landing-sensor run that fails as a run (a lost worker, the tenant's run lock held) is
retried once (`dagster/max_retries`); one whose step failed -- a blocking check, dbt -- is not,
since a retry from that step would fail again on the same data (`RETRY_RUN_FAILURES_ONLY`). Its
load leaves a landing file modified in the last 30 s for the next run, as the landing sensor's
runs do (`UNATTENDED_RUN_TAGS`): an exporter may still be writing it at 02:00.
"""

import dagster as dg

from medspa.settings import Settings
from orchestration.defs.automation.landing_sensor import (
    RETRY_ONCE,
    UNATTENDED_RUN_TAGS,
    build_landing_sensor,
)
from orchestration.defs.automation.run_history_sensor import run_history_sensor
from orchestration.defs.automation.run_log_sensor import build_run_log_sensors
from orchestration.defs.automation.stale_run_sensor import stale_runs_sensor
from orchestration.defs.automation.tenant_sensor import registry_names, tenant_partitions_sensor
from orchestration.tenancy import TENANT_PARTITIONS, tenant_run_tags

NIGHTLY = dg.define_asset_job(
    name="nightly",
    # Everything per tenant; the peer benchmarks (across tenants) have their own job.
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("kpi_benchmarks"),
    partitions_def=TENANT_PARTITIONS,
    description="For one tenant: load its landing folder, build dbt, run every check, "
    "publish its serving file and site.",
)


def nightly_requests(settings: Settings, existing: list[str], tick: str) -> list[dg.RunRequest]:
    """One run per registry tenant that already is a partition (the sync sensor adds them).

    Each is keyed by tick and tenant: a re-evaluated tick cannot start a tenant twice.
    """
    return [
        dg.RunRequest(
            run_key=f"nightly-{tick}-{name}",
            partition_key=name,
            tags={**RETRY_ONCE, **UNATTENDED_RUN_TAGS, **tenant_run_tags(name)},
        )
        for name in registry_names(settings)
        if name in existing
    ]


def nightly_schedule(timezone: str | None = None) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly_0200",
        job=NIGHTLY,
        cron_schedule="0 2 * * *",
        execution_timezone=timezone or Settings.from_env().schedule_timezone,
        # On: a clinic that starts `dagster dev` (or the daemon) wants its nightly run.
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="02:00 in the deployment's time zone (MEDSPA_SCHEDULE_TZ): one run per tenant.",
    )
    def nightly_0200(context: dg.ScheduleEvaluationContext):
        existing = list(context.instance.get_dynamic_partitions(TENANT_PARTITIONS.name))
        when = context.scheduled_execution_time
        tick = when.isoformat() if when else "manual"
        requests = nightly_requests(Settings.from_env(), existing, tick)
        return requests or dg.SkipReason(
            "no tenant partition yet: tenant_partitions_sensor adds them from the registry"
        )

    return nightly_0200


SCHEDULES = [nightly_schedule()]
SENSORS = [
    tenant_partitions_sensor,
    build_landing_sensor(NIGHTLY),
    *build_run_log_sensors(),
    stale_runs_sensor,
    run_history_sensor,
]
