"""A step that reads the warehouse, run where there is none, says so and creates nothing.

DuckDB creates a file it is asked to open: a dbt model materialized from the UI before any
load (or with the data dir pointed elsewhere) once left a 1.5 MB warehouse of bookkeeping
tables and failed on a missing raw table, and `serving` alone blamed 40 marts.
"""

from pathlib import Path

import dagster as dg
from orch_e2e import failure_messages

from medspa.tenants import DEFAULT_TENANT
from orchestration.resources import settings_run_config
from orchestration.tenancy import TENANT_PARTITIONS


def test_dbt_and_serving_without_a_warehouse_name_it_and_create_none(defs, tmp_path: Path):
    data, landing = tmp_path / "data", tmp_path / "landing"
    landing.mkdir()
    nightly = defs.resolve_job_def("nightly")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, [DEFAULT_TENANT])
        for asset in ("stg_pms__rooms", "serving"):
            job = nightly.get_subset(
                asset_selection={dg.AssetKey(asset)}, asset_check_selection=set()
            )
            result = job.execute_in_process(
                instance=instance,
                run_config=settings_run_config(data, landing),
                partition_key=DEFAULT_TENANT,
                raise_on_error=False,
            )
            assert not result.success
            text = failure_messages(result)
            assert f"warehouse not found at {data / 'warehouse.duckdb'}: run the nightly" in text
            assert "mart(s) are not as" not in text
            assert not (data / "warehouse.duckdb").exists()
