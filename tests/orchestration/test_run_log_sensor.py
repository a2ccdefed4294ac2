"""Runs started outside `medspa run` (schedule, landing sensor, UI) are recorded when they end.

More (runs of the UI's asset job, statuses, retries): test_run_history.py.
"""

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.automation.jobs import SENSORS
from orchestration.resources import MedspaSettings, settings_run_config
from orchestration.tenancy import TENANT_PARTITIONS


@dg.asset(partitions_def=TENANT_PARTITIONS)
def boom(medspa: MedspaSettings) -> None:
    raise RuntimeError("dbt failed")


def test_failed_run_lands_in_the_warehouse_run_log(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).close()
    job = dg.Definitions(
        assets=[boom],
        jobs=[dg.define_asset_job("nightly", selection=[boom], partitions_def=TENANT_PARTITIONS)],
        resources={"medspa": MedspaSettings()},
    ).resolve_job_def("nightly")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["default"])
    result = job.execute_in_process(
        run_config=settings_run_config(data, tmp_path / "landing"),
        instance=instance,
        partition_key="default",
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    sensor = next(s for s in SENSORS if s.name == "run_log_failed_runs")
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    sensor(context)
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    rows = con.execute("select run_id, status, blocked_by from raw_meta.run_log").fetchall()
    con.close()
    assert rows == [(result.run_id, "failed", None)]
