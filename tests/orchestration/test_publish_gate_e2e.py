"""`serving` materialized without its checks still honours them (the real asset, real data).

A run in which a blocking GX suite on `kpi_scorecard` failed refuses to publish; `serving`
materialized on its own afterwards (the UI's Materialize, no check selected) must refuse too,
naming the check, until an evaluation of that check passes again. The published
`ops.check_results` then holds every check's latest evaluation, not only the last run's.
"""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from orch_e2e import failure_messages, query

from medspa.tenants import DEFAULT_TENANT
from orchestration.defs.publish.assets import gate_checks
from orchestration.resources import settings_run_config

SCORECARD = dg.AssetKey("kpi_scorecard")
SERVING = dg.AssetKey("serving")


def _execute(defs, instance, data: Path, landing: Path, checks: set[dg.AssetCheckKey]):
    job = defs.resolve_job_def("nightly").get_subset(
        asset_selection={SERVING}, asset_check_selection=checks
    )
    return job.execute_in_process(
        instance=instance,
        run_config=settings_run_config(data, landing),
        partition_key=DEFAULT_TENANT,
        raise_on_error=False,
    )


@pytest.mark.xdist_group("e2e")
def test_serving_alone_after_a_failed_blocking_check_keeps_the_published_file(
    defs, happy_run, tmp_path, monkeypatch
):
    assert happy_run.summary.success, happy_run.summary.to_text()
    data = shutil.copytree(happy_run.data_dir, tmp_path / "data")  # keep the shared run as it is
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    serving = data / "serving.duckdb"
    published = serving.read_bytes()
    graph = defs.resolve_job_def("nightly").asset_layer.asset_graph
    gx = {
        k for k in graph.asset_check_keys if k.asset_key == SCORECARD and k.name.startswith("gx_")
    }
    assert gx and gx <= set(gate_checks())

    with duckdb.connect(str(data / "warehouse.duckdb")) as con:  # a bad build: a duplicate key
        con.execute("insert into marts.kpi_scorecard select * from marts.kpi_scorecard limit 1")
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        checked = _execute(defs, instance, data, happy_run.landing, gx)
        failed = [e for e in checked.get_asset_check_evaluations() if not e.passed]
        assert failed and all(e.severity == dg.AssetCheckSeverity.ERROR for e in failed)
        assert serving.read_bytes() == published

        # The UI: select `serving`, Materialize. No check runs in this run ...
        alone = _execute(defs, instance, data, happy_run.landing, set())
        assert alone.get_asset_check_evaluations() == []
        # ... and still nothing is published: the check's latest evaluation failed.
        assert not alone.success
        assert SERVING not in {e.asset_key for e in alone.get_asset_materialization_events()}
        message = failure_messages(alone)
        assert "not publishing: blocking check(s) failed" in message
        assert f"kpi_scorecard:{failed[0].check_name}" in message
        assert serving.read_bytes() == published

        # The build is fixed and the suite passes again: the next `serving` publishes.
        with duckdb.connect(str(data / "warehouse.duckdb")) as con:
            con.execute(
                "create or replace table marts.kpi_scorecard as "
                "select distinct * from marts.kpi_scorecard"
            )
        fixed = _execute(defs, instance, data, happy_run.landing, gx)
        assert fixed.success
        assert all(e.passed for e in fixed.get_asset_check_evaluations())

    results = query(serving, "select asset, check_name, passed, run_id from ops.check_results")
    by_check = {(asset, name): (passed, run_id) for asset, name, passed, run_id in results}
    assert len(by_check) == len(results)  # each check once: its latest evaluation
    for key in gx:
        assert by_check[("kpi_scorecard", key.name)] == (True, fixed.run_id)
    # The raw checks were not evaluated by that run: their latest evaluation is the nightly's.
    raw = {k: v for k, v in by_check.items() if k[0].startswith("raw_")}
    assert raw and {run_id for _, run_id in raw.values()} == {happy_run.summary.run_id}


@pytest.mark.xdist_group("e2e")
def test_serving_alone_refuses_marts_that_no_good_build_of_their_inputs_wrote(
    defs, happy_run, tmp_path, monkeypatch
):
    """A model dbt did not finish leaves no failed check: built outside the pipeline (here, as
    `medspa transform --select kpi_engagement` leaves it), errored, or skipped below one that
    errored, it has no record of a good build, and the marts built on it still hold older rows.
    `serving` alone must refuse, naming those marts, until a run builds them again."""
    import subprocess
    import sys

    from orch_e2e import run

    from medspa.settings import Settings
    from orchestration.defs.publish.assets import marts_not_current

    assert happy_run.summary.success, happy_run.summary.to_text()
    data = shutil.copytree(happy_run.data_dir, tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    serving = data / "serving.duckdb"
    published = serving.read_bytes()
    settings = Settings.from_env(data, happy_run.landing)
    assert marts_not_current(settings) == []

    medspa = Path(sys.executable).with_name("medspa")
    argv = [medspa, "transform", "--data-dir", data, "--select", "kpi_engagement"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    behind = marts_not_current(settings)
    # the mart itself and every mart built on it (by hand in the transform: not by the pipeline)
    assert {"kpi_engagement", "kpi_scorecard", "kpi_alerts"} <= set(behind)
    assert "kpi_financial" not in behind

    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        alone = _execute(defs, instance, data, happy_run.landing, set())
    assert not alone.success
    message = failure_messages(alone)
    assert f"not publishing: {len(behind)} mart(s) are not as the last good dbt build" in message
    assert "kpi_engagement" in message
    assert serving.read_bytes() == published

    # the nightly builds them (and only what is below kpi_engagement), then publishes
    again = run(data, happy_run.landing)
    assert again.summary.success, again.summary.to_text()
    assert marts_not_current(settings) == []
    assert serving.read_bytes() != published
