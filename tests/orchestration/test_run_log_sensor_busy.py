"""A run's record is never lost because its tenant's warehouse was busy when the run ended.

The run-status sensors evaluate right after a run ends, just when the queue starts the
tenant's next run (or its retry), and Dagster moves their cursor past a run even when the
evaluation fails. So the record is kept in the data dir and written by the next write to that
warehouse. No test here waits on time: another process holds the warehouse (or the tenant's run
lock) until the test releases it.

More on the run-log sensors: test_run_log_sensor.py, test_run_history.py.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster import DagsterEventType
from holders import HOLD_RUN_LOCK, HOLD_WAREHOUSE, held

from orchestration import run_log
from orchestration.defs.automation.run_log_sensor import build_run_log_sensors
from orchestration.resources import MedspaSettings, settings_run_config
from orchestration.tenancy import TENANT_PARTITIONS


@dg.asset(partitions_def=TENANT_PARTITIONS)
def boom(medspa: MedspaSettings) -> None:
    raise RuntimeError("dbt failed")


@dg.asset(partitions_def=TENANT_PARTITIONS)
def fine(medspa: MedspaSettings) -> None:
    """A step that does nothing: its run succeeds without publishing."""


def _definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[boom, fine],
        jobs=[
            dg.define_asset_job("nightly", selection=[boom], partitions_def=TENANT_PARTITIONS),
            dg.define_asset_job("partial", selection=[fine], partitions_def=TENANT_PARTITIONS),
        ],
        sensors=build_run_log_sensors(),
        resources={"medspa": MedspaSettings()},
    )


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The `default` tenant's data dir (no registry), with its warehouse."""
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    duckdb.connect(str(folder / "warehouse.duckdb")).close()
    return folder


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["default"])
        yield inst


def _run(instance: dg.DagsterInstance, data: Path, job: str = "nightly") -> dg.DagsterRun:
    result = (
        _definitions()
        .resolve_job_def(job)
        .execute_in_process(
            run_config=settings_run_config(data, data.parent / "landing"),
            instance=instance,
            partition_key="default",
            raise_on_error=False,
        )
    )
    return result.dagster_run


def _sensor(name: str) -> dg.RunStatusSensorDefinition:
    return next(s for s in build_run_log_sensors() if s.name == name)  # type: ignore[return-value]


def _evaluate(instance: dg.DagsterInstance, run: dg.DagsterRun, name: str) -> None:
    """One evaluation of the sensor for the failed `run`, as the daemon makes it."""
    of_type = DagsterEventType.RUN_FAILURE
    (record,) = instance.get_records_for_run(run.run_id, of_type=of_type).records
    sensor = _sensor(name)
    sensor(
        dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=record.event_log_entry.get_dagster_event(),
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(run.run_id),
        )
    )


def _rows(data: Path) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        has_log = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'raw_meta' and table_name = 'run_log'"
        ).fetchone()
        if not has_log or not has_log[0]:
            return []
        return con.execute(
            "select run_id, status from raw_meta.run_log order by finished_at"
        ).fetchall()


def _pending(data: Path) -> list[str]:
    folder = run_log.pending_dir(data / "warehouse.duckdb")
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def test_a_busy_warehouse_keeps_the_record_until_the_next_evaluation_writes_it_once(
    instance: dg.DagsterInstance, data: Path
):
    failed = _run(instance, data)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    with held(HOLD_WAREHOUSE, data / "warehouse.duckdb"):
        _evaluate(instance, failed, "run_log_failed_runs")  # does not raise: nothing to retry
        assert _pending(data) == [failed.run_id]
    assert _rows(data) == []  # not written yet, but kept
    _evaluate(instance, failed, "run_log_failed_runs")
    assert _rows(data) == [(failed.run_id, run_log.FAILED)]
    assert _pending(data) == []
    _evaluate(instance, failed, "run_log_failed_runs")  # evaluated again: still one row
    assert _rows(data) == [(failed.run_id, run_log.FAILED)]


def test_while_a_run_holds_the_tenant_the_record_waits_for_that_runs_own_write(
    instance: dg.DagsterInstance, data: Path
):
    """The sensor takes the run lock like every writer: it never opens the warehouse under a
    running step, and the running run's own record (`serving`, `medspa run`) takes it along."""
    failed = _run(instance, data)
    with held(HOLD_RUN_LOCK, data):
        _evaluate(instance, failed, "run_log_failed_runs")
        assert _pending(data) == [failed.run_id]
    assert _rows(data) == []
    nxt = _run(instance, data, "partial")
    record = run_log.record_of(instance, nxt.run_id, published=False, demo_key_on_real_data=False)
    run_log.write_record(data / "warehouse.duckdb", record)  # as the next run records itself
    assert _rows(data) == [(failed.run_id, run_log.FAILED), (nxt.run_id, run_log.NOT_PUBLISHED)]
    assert _pending(data) == []


def test_a_runs_own_write_that_meets_a_busy_warehouse_keeps_its_record(
    instance: dg.DagsterInstance, data: Path
):
    """`serving` and `medspa run` still see the error (they warn), and the record is kept."""
    run = _run(instance, data, "partial")
    record = run_log.record_of(instance, run.run_id, published=False, demo_key_on_real_data=False)
    with held(HOLD_WAREHOUSE, data / "warehouse.duckdb"), pytest.raises(duckdb.Error):
        run_log.write_record(data / "warehouse.duckdb", record)
    assert _pending(data) == [run.run_id]
    run_log.write_record(data / "warehouse.duckdb")
    assert _rows(data) == [(run.run_id, run_log.NOT_PUBLISHED)]


def _ticker(instance: dg.DagsterInstance, name: str) -> Callable[[str | None], str | None]:
    """One real tick of the sensor `name` from a cursor, returning the cursor it leaves."""
    repository = _definitions().get_repository_def()
    sensor = _sensor(name)

    def tick(cursor: str | None) -> str | None:
        context = dg.build_sensor_context(
            instance=instance, repository_def=repository, cursor=cursor
        )
        return sensor.evaluate_tick(context).cursor

    return tick


def test_the_cursor_passes_the_busy_run_and_the_tenants_next_run_brings_its_record(
    instance: dg.DagsterInstance, data: Path
):
    """Through real sensor ticks: Dagster moves the cursor past a run whose record could not be
    written (raising would not help), so the kept record is what saves it."""
    tick = _ticker(instance, "run_log_failed_runs")

    cursor = tick(None)  # the first tick only sets the cursor
    first = _run(instance, data)
    with held(HOLD_WAREHOUSE, data / "warehouse.duckdb"):
        after_first = tick(cursor)
    assert after_first != cursor  # past the first run
    assert tick(after_first) == after_first  # nothing new: the first run is not seen again
    assert _rows(data) == []
    second = _run(instance, data)  # the tenant's next night fails too
    tick(after_first)
    assert sorted(_rows(data)) == sorted(
        [(first.run_id, run_log.FAILED), (second.run_id, run_log.FAILED)]
    )
    assert _pending(data) == []


def test_a_cancelled_run_is_recorded_as_cancelled(instance: dg.DagsterInstance, data: Path):
    """Terminate in the UI ends a run as CANCELED: a third sensor watches that status."""
    tick = _ticker(instance, "run_log_cancelled_runs")

    cursor = tick(None)
    run = instance.create_run_for_job(
        job_def=_definitions().resolve_job_def("nightly"),
        run_config=settings_run_config(data, data.parent / "landing"),
        tags={"dagster/partition": "default"},
    )
    instance.report_run_canceled(run)
    tick(cursor)
    assert _rows(data) == [(run.run_id, run_log.CANCELLED)]
