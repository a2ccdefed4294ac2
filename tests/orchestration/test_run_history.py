"""What a run publishes and records when it is not the whole story.

`serving` can run without the checks that judge what it publishes (materialized alone from
the UI, or in Dagster's automatic retry, which re-executes only the failed step onward), and
tenants share one Dagster instance. So the publish gate reads each check's latest evaluation
*for the tenant* across runs, and the run log reads a retry's whole chain of runs. These tests
use a small job of the same shape as the nightly (a raw table with a blocking check, a build
step, a publish step), run by Dagster itself: real runs, real re-execution, real event log.
"""

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import run_events, run_log
from orchestration.defs.automation.run_log_sensor import build_run_log_sensors
from orchestration.resources import MedspaSettings, settings_run_config
from orchestration.run_alerts import FAILED_AFTER_PUBLISHING, alert_payload, alert_status
from orchestration.tenancy import TENANT_PARTITIONS, tenant_run_tags

#: Tenants whose raw table fails its blocking check (set by the tests).
FAILING: set[str] = set()
#: While this file exists, `build` fails (a transient error the retry gets past).
FLAKY_MARKER = "MEDSPA_TEST_FLAKY_MARKER"

RAW_KEY = dg.AssetKey(["raw_pms", "appointments"])
CHECK_KEY = dg.AssetCheckKey(RAW_KEY, "unique_keys")


@dg.asset(key=RAW_KEY, partitions_def=TENANT_PARTITIONS)
def raw_appointments() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows_inserted": 40, "rows_updated": 2})


@dg.asset_check(asset=RAW_KEY, name="unique_keys", blocking=True)
def unique_keys(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    tenant = context.run.tags["dagster/partition"]
    return dg.AssetCheckResult(passed=tenant not in FAILING, description=f"tenant {tenant}")


@dg.asset(deps=[RAW_KEY], partitions_def=TENANT_PARTITIONS)
def build() -> None:
    marker = os.environ.get(FLAKY_MARKER)
    if marker and Path(marker).exists():
        Path(marker).unlink()
        raise RuntimeError("IO Error: Could not set lock on file warehouse.duckdb")


@dg.asset(deps=[build], partitions_def=TENANT_PARTITIONS)
def publish(medspa: MedspaSettings) -> None:
    """Stands in for `serving`: nothing to publish, only runs when selected."""


#: While this file exists, `publish_postgres` fails (PostgreSQL refusing the publish).
POSTGRES_DOWN_MARKER = "MEDSPA_TEST_POSTGRES_DOWN_MARKER"


@dg.asset(deps=[publish], partitions_def=TENANT_PARTITIONS)
def publish_postgres() -> None:
    """Stands in for `serving_postgres`, a step after the publish that can fail on its own."""
    marker = os.environ.get(POSTGRES_DOWN_MARKER)
    if marker and Path(marker).exists():
        raise RuntimeError("OperationalError: connection refused")


@dg.asset
def elsewhere(medspa: MedspaSettings) -> None:
    """Belongs to no tenant (like the peer benchmarks across tenants)."""


def _definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_appointments, build, publish, publish_postgres],
        asset_checks=[unique_keys],
        jobs=[dg.define_asset_job("nightly", partitions_def=TENANT_PARTITIONS)],
        sensors=build_run_log_sensors(),
        resources={"medspa": MedspaSettings()},
        executor=dg.in_process_executor,  # as orchestration/definitions.py
    )


def nightly_job() -> dg.JobDefinition:
    """Module level, so Dagster can reconstruct the job for a re-execution."""
    return _definitions().resolve_job_def("nightly")


@pytest.fixture
def instance(tmp_path: Path):
    FAILING.clear()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a", "clinic-b", "default"])
        yield inst
    FAILING.clear()


def _materialized(result) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def _run(instance, tenant: str, selection: list[dg.AssetKey] | None = None, checks=None):
    job = nightly_job()
    if selection is not None:
        job = job.get_subset(asset_selection=set(selection), asset_check_selection=checks)
    return job.execute_in_process(instance=instance, partition_key=tenant, raise_on_error=False)


# -- the publish gate: each check's latest evaluation for the tenant ------------------------


def test_a_failed_blocking_check_blocks_a_later_run_that_does_not_evaluate_it(instance):
    FAILING.add("clinic-a")
    failed = _run(instance, "clinic-a")
    assert publish.key not in _materialized(failed)
    # The UI: `publish` alone, no check selected. The run itself evaluates nothing ...
    alone = _run(instance, "clinic-a", [publish.key], checks=set())
    assert alone.get_asset_check_evaluations() == []
    # ... but the check's latest evaluation for clinic-a is the failure, from the first run.
    (latest,) = run_events.latest_check_outcomes(instance, alone.run_id, [CHECK_KEY], "clinic-a")
    assert (latest.passed, latest.run_id) == (False, failed.run_id)
    assert run_events.failed_blocking([latest]) == [latest]


def test_another_tenants_evaluations_never_count(instance):
    FAILING.add("clinic-a")
    a = _run(instance, "clinic-a")
    FAILING.clear()
    b = _run(instance, "clinic-b")  # newer, and it passed: but it is clinic-b's
    alone = _run(instance, "clinic-a", [publish.key], checks=set())
    (for_a,) = run_events.latest_check_outcomes(instance, alone.run_id, [CHECK_KEY], "clinic-a")
    (for_b,) = run_events.latest_check_outcomes(instance, b.run_id, [CHECK_KEY], "clinic-b")
    assert (for_a.passed, for_a.run_id) == (False, a.run_id)
    assert (for_b.passed, for_b.run_id) == (True, b.run_id)


def test_a_later_passing_evaluation_lifts_the_block(instance):
    FAILING.add("clinic-a")
    _run(instance, "clinic-a")
    FAILING.clear()
    fixed = _run(instance, "clinic-a", [RAW_KEY], checks={CHECK_KEY})
    alone = _run(instance, "clinic-a", [publish.key], checks=set())
    (latest,) = run_events.latest_check_outcomes(instance, alone.run_id, [CHECK_KEY], "clinic-a")
    assert (latest.passed, latest.run_id) == (True, fixed.run_id)
    assert run_events.failed_blocking([latest]) == []


def test_a_check_never_evaluated_for_the_tenant_is_left_out(instance):
    _run(instance, "clinic-b")
    alone = _run(instance, "clinic-a", [publish.key], checks=set())
    assert run_events.latest_check_outcomes(instance, alone.run_id, [CHECK_KEY], "clinic-a") == []


def test_a_check_evaluated_more_than_a_page_of_runs_ago_still_counts(instance, monkeypatch):
    """The tests of a model the nightly leaves out are evaluated only when it is built: a
    bound of 50 runs on the walk once dropped them from the gate and the published results."""
    monkeypatch.setattr(run_events, "RUNS_PER_PAGE", 2)  # five pages of runs, not 250 runs
    FAILING.add("clinic-a")
    failed = _run(instance, "clinic-a")
    FAILING.clear()
    for _ in range(9):
        _run(instance, "clinic-a", [publish.key], checks=set())
    alone = _run(instance, "clinic-a", [publish.key], checks=set())
    (latest,) = run_events.latest_check_outcomes(instance, alone.run_id, [CHECK_KEY], "clinic-a")
    assert (latest.passed, latest.run_id) == (False, failed.run_id)


def test_a_table_loaded_after_its_check_ran_is_named(instance):
    """A run that selects one raw table loads its whole system: the siblings take new rows
    while their checks stay as the last nightly left them, and the gate must not trust those."""
    checked = _run(instance, "clinic-a")
    outcomes = run_events.latest_check_outcomes(instance, checked.run_id, [CHECK_KEY], "clinic-a")
    assert run_events.loaded_since_checked(instance, outcomes, [CHECK_KEY], "clinic-a") == []
    loaded = _run(instance, "clinic-a", [RAW_KEY], checks=set())  # new rows, no check
    outcomes = run_events.latest_check_outcomes(instance, loaded.run_id, [CHECK_KEY], "clinic-a")
    assert [o.run_id for o in outcomes] == [checked.run_id]
    stale = run_events.loaded_since_checked(instance, outcomes, [CHECK_KEY], "clinic-a")
    assert stale == ["raw_pms/appointments:unique_keys"]
    # another tenant's loads are not clinic-a's, and a table never loaded has nothing to judge
    _run(instance, "clinic-b", [RAW_KEY], checks=set())
    assert run_events.loaded_since_checked(instance, [], [CHECK_KEY], "default") == []
    rechecked = _run(instance, "clinic-a", [RAW_KEY], checks={CHECK_KEY})
    outcomes = run_events.latest_check_outcomes(instance, rechecked.run_id, [CHECK_KEY], "clinic-a")
    assert run_events.loaded_since_checked(instance, outcomes, [CHECK_KEY], "clinic-a") == []


# -- a retry from failure is recorded with what its chain loaded and checked -----------------


def test_a_retry_from_failure_records_the_rows_and_checks_of_its_parent(
    instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    marker = tmp_path / "flaky"
    marker.touch()
    monkeypatch.setenv(FLAKY_MARKER, str(marker))
    job = dg.reconstructable(nightly_job)
    tags = {"dagster/partition": "clinic-a", **tenant_run_tags("clinic-a")}
    with dg.execute_job(job, instance, tags=tags, raise_on_error=False) as parent:
        assert not parent.success
        parent_id = parent.run_id
    options = dg.ReexecutionOptions.from_failure(parent_id, instance)
    with dg.execute_job(
        job, instance, tags=tags, raise_on_error=False, reexecution_options=options
    ) as retry:
        assert retry.success
        # Dagster re-executed only `build` and `publish`: no load, no check in the retry itself.
        assert retry.get_asset_check_evaluations() == []
        retry_id = retry.run_id
    assert run_events.run_chain(instance, retry_id) == [retry_id, parent_id]
    record = run_log.record_of(instance, retry_id, published=True, demo_key_on_real_data=False)
    assert (record.rows_loaded, record.checks_passed, record.checks_failed) == (42, 1, 0)
    assert record.started_at == run_events.run_started_at(instance, parent_id)
    assert record.status == run_log.PUBLISHED
    # The gate at the retry's `serving` sees the parent's evaluation too.
    (latest,) = run_events.latest_check_outcomes(instance, retry_id, [CHECK_KEY], "clinic-a")
    assert (latest.passed, latest.run_id) == (True, parent_id)


# -- statuses and which runs the run log hears about --------------------------------------


def test_a_successful_run_that_did_not_publish_is_not_called_failed(instance):
    partial = _run(instance, "clinic-a", [raw_appointments.key], checks=set())
    assert partial.success and publish.key not in _materialized(partial)
    record = run_log.record_of(
        instance, partial.run_id, published=False, demo_key_on_real_data=False
    )
    assert record.status == run_log.NOT_PUBLISHED == "succeeded, not published"
    FAILING.add("clinic-a")
    blocked = _run(instance, "clinic-a")
    record = run_log.record_of(
        instance, blocked.run_id, published=False, demo_key_on_real_data=False
    )
    assert (record.status, record.blocked_by) == (
        run_log.BLOCKED,
        "raw_pms/appointments:unique_keys",
    )


def test_a_run_stopped_by_ctrl_c_is_recorded_cancelled_not_failed(instance, tmp_path, monkeypatch):
    """Dagster ends an interrupted in-process run (Ctrl-C, SIGTERM of `medspa run`) as a
    failure; `medspa run` knows it was interrupted and says so, as the UI's Terminate does."""
    marker = tmp_path / "flaky"
    marker.touch()
    monkeypatch.setenv(FLAKY_MARKER, str(marker))
    failed = _run(instance, "clinic-a")
    assert not failed.success
    as_failed = run_log.record_of(
        instance, failed.run_id, published=False, demo_key_on_real_data=False
    )
    as_interrupted = run_log.record_of(
        instance, failed.run_id, published=False, demo_key_on_real_data=False, interrupted=True
    )
    assert (as_failed.status, as_interrupted.status) == (run_log.FAILED, run_log.CANCELLED)


def test_a_run_that_fails_after_it_published_is_recorded_so_and_alerts(
    instance, tmp_path, monkeypatch
):
    """serving.duckdb published, then the PostgreSQL publish failed: BI tools keep yesterday's
    data, so the run is neither `published` (which neither alerted nor made the tenant
    unhealthy) nor `failed` (the dashboards did get the new data)."""
    marker = tmp_path / "postgres-down"
    marker.touch()
    monkeypatch.setenv(POSTGRES_DOWN_MARKER, str(marker))
    run = _run(instance, "clinic-a")
    assert not run.success and publish.key in _materialized(run)
    record = run_log.record_of(instance, run.run_id, published=True, demo_key_on_real_data=False)
    assert record.status == run_log.PUBLISHED_THEN_FAILED == "published, then failed"
    assert alert_status(record) == FAILED_AFTER_PUBLISHING
    payload = alert_payload("clinic-a", record)
    assert payload["status"] == "published_then_failed"
    assert "then a later step failed" in str(payload["text"])
    # stopped by Ctrl-C after the publish: it published, and nobody needs an alert for it
    stopped = run_log.record_of(
        instance, run.run_id, published=True, demo_key_on_real_data=False, interrupted=True
    )
    assert (stopped.status, alert_status(stopped)) == (run_log.PUBLISHED, None)


def _tick(instance, defs: dg.Definitions, name: str, cursor: str | None) -> str | None:
    repository = defs.get_repository_def()
    sensor = next(s for s in repository.sensor_defs if s.name == name)
    context = dg.build_sensor_context(instance=instance, repository_def=repository, cursor=cursor)
    return sensor.evaluate_tick(context).cursor


def test_runs_of_the_asset_graph_reach_the_run_log(instance, tmp_path: Path):
    """Materialize in the UI runs Dagster's implicit asset job, not `nightly`."""
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).close()
    defs = _definitions()
    cursors = {
        name: _tick(instance, defs, name, None)
        for name in ("run_log_finished_runs", "run_log_failed_runs")
    }
    asset_job = defs.resolve_implicit_job_def_def_for_assets([raw_appointments.key])
    assert asset_job.name.startswith("__ASSET_JOB")
    materialize = asset_job.execute_in_process(
        instance=instance,
        partition_key="default",
        asset_selection=[raw_appointments.key],
        run_config=settings_run_config(data, tmp_path / "landing"),
    )
    # A run of no tenant (no partition, like the peer benchmarks'): nobody's warehouse.
    unpartitioned = dg.materialize(
        [elsewhere],
        instance=instance,
        resources={"medspa": MedspaSettings()},
        run_config=settings_run_config(data, tmp_path / "landing"),
    )
    for name, cursor in cursors.items():
        _tick(instance, defs, name, cursor)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select run_id, status, rows_loaded from raw_meta.run_log").fetchall()
    assert rows == [(materialize.run_id, run_log.NOT_PUBLISHED, 42)]
    assert unpartitioned.run_id not in {r[0] for r in rows}
