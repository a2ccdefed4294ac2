"""Prune Dagster's run history once a day while the daemon runs (`orchestration.run_pruning`).

`medspa run` prunes after its run as well, so a deployment driven by cron instead of the daemon
is pruned too; both share the instance's stamp file, so whichever comes first in a day does
the work and the other finds it done. Finished runs older than `MEDSPA_RUN_HISTORY_DAYS`
(default 90; 0 keeps everything) go, but never one that holds an asset's or a check's latest
event, nor a tenant's newest runs.
"""

from __future__ import annotations

import dagster as dg

from medspa.settings import Settings
from orchestration.run_pruning import prune_if_due

SENSOR_NAME = "run_history_sensor"


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Once a day: deletes finished runs older than MEDSPA_RUN_HISTORY_DAYS (default 90) "
        "that hold no asset's or check's latest event."
    ),
)
def run_history_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    keep_days = Settings.from_env().run_history_days
    if keep_days == 0:
        return dg.SkipReason("MEDSPA_RUN_HISTORY_DAYS=0: the run history is kept whole")
    report = prune_if_due(context.instance, keep_days)
    if report is None:
        return dg.SkipReason("pruned within the last day (or another process is pruning)")
    if report.deleted:
        context.log.info(report.to_text())
    return dg.SkipReason(report.to_text())
