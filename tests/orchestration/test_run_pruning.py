"""Dagster's run history is pruned without losing what anything still reads.

Real runs of a small tenant-partitioned job (two assets, a check on the first) in a real
SQLite-backed instance; pruning is asked as of a day 200 days after the runs (`LATER`), so
every run is old enough to go unless something keeps it. Each test states which runs must go
and which must stay, and why.
"""

import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

from medspa.cli import main
from medspa.commands.run import using_dagster_home
from orchestration import run_events
from orchestration.run_pruning import (
    PRUNE_INTERVAL_SECONDS,
    prune_if_due,
    prune_run_history,
)
from orchestration.tenancy import TENANT_PARTITIONS, TENANT_TAG

DAY = 86400.0
LATER = time.time() + 200 * DAY

VISITS = dg.AssetKey(["raw_pms", "visits"])
ROOMS = dg.AssetKey(["raw_pms", "rooms"])
CHECK_KEY = dg.AssetCheckKey(VISITS, "unique_keys")


@dg.asset(key=VISITS, partitions_def=TENANT_PARTITIONS)
def visits(context: dg.AssetExecutionContext) -> None:
    print(f"visits of {context.partition_key}")  # captured: the run has step logs to remove


@dg.asset(key=ROOMS, partitions_def=TENANT_PARTITIONS)
def rooms() -> None:
    """Changes rarely: its latest materialization may be in a months-old run."""


#: While True, the check raises before it has a result (its execution stays PLANNED).
CHECK_BREAKS = {"now": False}


@dg.asset_check(asset=VISITS, name="unique_keys")
def unique_keys() -> dg.AssetCheckResult:
    if CHECK_BREAKS["now"]:
        raise RuntimeError("the check's query failed")
    return dg.AssetCheckResult(passed=True)


def nightly_job() -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[visits, rooms],
        asset_checks=[unique_keys],
        jobs=[dg.define_asset_job("nightly", partitions_def=TENANT_PARTITIONS)],
        executor=dg.in_process_executor,
    )
    return defs.resolve_job_def("nightly")


@pytest.fixture
def instance(tmp_path: Path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a", "clinic-b"])
        yield inst


def _run(instance, tenant: str, *, rooms_too: bool = True, check: bool = True) -> str:
    """One nightly of `tenant`: visits always, rooms and the check as asked; its run id."""
    job = nightly_job()
    selection = {VISITS, ROOMS} if rooms_too else {VISITS}
    checks = {CHECK_KEY} if check else set()
    job = job.get_subset(asset_selection=selection, asset_check_selection=checks)
    result = job.execute_in_process(instance=instance, partition_key=tenant)
    assert result.success
    return result.run_id


def _latest_run(instance, key: dg.AssetKey, tenant: str) -> str:
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[tenant]), limit=1
    ).records
    return record.run_id


def _check_execution_runs(instance) -> set[str]:
    table = AssetCheckExecutionsTable
    with instance.event_log_storage.index_connection() as conn:
        return {row[0] for row in conn.execute(sa.select(table.c.run_id))}


def _shard(instance, run_id: str) -> Path:
    return Path(instance.event_log_storage.path_for_shard(run_id))


def _step_logs(instance, run_id: str) -> Path:
    return Path(instance.compute_log_manager._base_dir) / run_id


def test_superseded_runs_go_and_the_runs_holding_latest_events_stay(instance):
    a1 = _run(instance, "clinic-a")  # the only build of clinic-a's rooms
    a2 = _run(instance, "clinic-a", rooms_too=False)  # visits and the check, superseded by a3
    a3 = _run(instance, "clinic-a", rooms_too=False)
    b1 = _run(instance, "clinic-b")  # clinic-b's only run: its latest of everything
    assert _shard(instance, a2).exists() and _step_logs(instance, a2).is_dir()

    report = prune_run_history(instance, 90, now=LATER, min_runs_kept=1)

    assert report.deleted == [a2]
    assert report.kept_old == 3  # a1 (rooms), a3 (newest, visits, check), b1 (clinic-b)
    assert report.bytes_removed > 0
    assert instance.get_run_by_id(a2) is None
    assert {instance.get_run_by_id(r).run_id for r in (a1, a3, b1)} == {a1, a3, b1}
    # What Dagster's own delete leaves behind is gone too: the shard, the step logs, the
    # index's check executions of the run.
    assert not _shard(instance, a2).exists()
    assert not _step_logs(instance, a2).exists()
    assert _check_execution_runs(instance) == {a1, a3, b1}
    # Every asset partition's latest build, and the check's latest result per tenant, remain.
    assert _latest_run(instance, VISITS, "clinic-a") == a3
    assert _latest_run(instance, ROOMS, "clinic-a") == a1
    assert _latest_run(instance, VISITS, "clinic-b") == b1
    (outcome,) = run_events.latest_check_outcomes(instance, a3, [CHECK_KEY], "clinic-a")
    assert (outcome.run_id, outcome.passed) == (a3, True)


def test_a_tenants_latest_check_result_keeps_its_run_though_other_runs_are_newer(instance):
    """The check was last evaluated for clinic-a in a1: newer runs of clinic-a skipped it and
    clinic-b evaluated it later, but the publish gate reads clinic-a's own latest result."""
    a1 = _run(instance, "clinic-a", rooms_too=False)
    b1 = _run(instance, "clinic-b", rooms_too=False)
    a2 = _run(instance, "clinic-a", rooms_too=False, check=False)  # superseded by a3
    a3 = _run(instance, "clinic-a", rooms_too=False, check=False)

    report = prune_run_history(instance, 90, now=LATER, min_runs_kept=1)

    assert report.deleted == [a2]
    assert {r for r in (a1, b1, a3) if instance.get_run_by_id(r) is not None} == {a1, b1, a3}
    (outcome,) = run_events.latest_check_outcomes(instance, a3, [CHECK_KEY], "clinic-a")
    assert outcome.run_id == a1


def test_a_check_planned_but_never_evaluated_keeps_the_run_of_its_last_result(instance):
    """Every run plans the checks of its selection; a check that then never runs (its query
    failed, its model was left out) leaves a PLANNED row newer than its last result."""
    a1 = _run(instance, "clinic-a", rooms_too=False)  # the check's last result
    CHECK_BREAKS["now"] = True
    try:
        broken = []
        for _ in range(2):
            job = nightly_job().get_subset(
                asset_selection={VISITS}, asset_check_selection={CHECK_KEY}
            )
            result = job.execute_in_process(
                instance=instance, partition_key="clinic-a", raise_on_error=False
            )
            assert not result.success and result.get_asset_check_evaluations() == []
            broken.append(result.run_id)
    finally:
        CHECK_BREAKS["now"] = False

    report = prune_run_history(instance, 90, now=LATER, min_runs_kept=1)

    assert report.deleted == [broken[0]]  # visits superseded by broken[1], which is newest
    assert instance.get_run_by_id(a1) is not None
    (outcome,) = run_events.latest_check_outcomes(instance, broken[1], [CHECK_KEY], "clinic-a")
    assert outcome.run_id == a1


def test_a_pruning_deletes_at_most_its_limit_and_leaves_the_rest_due(instance):
    runs = [_run(instance, "clinic-a", rooms_too=False) for _ in range(4)]

    first = prune_run_history(instance, 90, now=LATER, min_runs_kept=1, max_deleted=2)
    assert (first.deleted, first.left) == (runs[:2], 1)
    assert "1 more due at the next pruning" in first.to_text()
    second = prune_run_history(instance, 90, now=LATER, min_runs_kept=1, max_deleted=2)
    assert (second.deleted, second.left) == ([runs[2]], 0)


def test_each_tenants_newest_runs_stay_whatever_their_age(instance):
    runs = [_run(instance, "clinic-a", rooms_too=False) for _ in range(4)]

    report = prune_run_history(instance, 90, now=LATER, min_runs_kept=2)

    assert report.deleted == runs[:2]  # oldest first; the newest two kept
    assert [instance.get_run_by_id(r) is not None for r in runs] == [False, False, True, True]


def test_runs_younger_than_the_retention_are_never_deleted(instance):
    runs = [_run(instance, "clinic-a", rooms_too=False) for _ in range(3)]

    report = prune_run_history(instance, 90, min_runs_kept=1)  # now: they are seconds old

    assert (report.deleted, report.kept_old) == ([], 0)
    assert all(instance.get_run_by_id(r) is not None for r in runs)
    # Just past the retention, the superseded ones go.
    later = prune_run_history(instance, 90, now=time.time() + 91 * DAY, min_runs_kept=1)
    assert later.deleted == runs[:2]


def test_a_run_still_going_is_never_deleted(instance):
    _run(instance, "clinic-a", rooms_too=False)
    alive = DagsterRun(
        job_name="nightly",
        run_id=str(uuid.uuid4()),
        status=dg.DagsterRunStatus.STARTED,
        tags={TENANT_TAG: "clinic-a"},
    )
    instance.add_run(alive)

    report = prune_run_history(instance, 90, now=LATER, min_runs_kept=0)

    assert alive.run_id not in report.deleted
    assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED


def test_a_dry_run_names_the_runs_and_deletes_nothing(instance):
    runs = [_run(instance, "clinic-a", rooms_too=False) for _ in range(3)]

    dry = prune_run_history(instance, 90, now=LATER, min_runs_kept=1, dry_run=True)

    assert dry.deleted == runs[:2] and dry.dry_run
    assert "would delete 2 runs" in dry.to_text()
    assert all(instance.get_run_by_id(r) is not None for r in runs)
    assert all(_shard(instance, r).exists() for r in runs)
    real = prune_run_history(instance, 90, now=LATER, min_runs_kept=1)
    assert real.deleted == dry.deleted and real.bytes_removed == dry.bytes_removed


def test_pruning_when_due_happens_once_a_day_and_never_with_zero_days(instance):
    for _ in range(3):
        _run(instance, "clinic-a", rooms_too=False)

    assert prune_if_due(instance, 0, now=LATER) is None  # 0 keeps everything
    first = prune_if_due(instance, 90, now=LATER)
    assert first is not None and first.deleted == []  # the newest 50 of a tenant stay
    assert prune_if_due(instance, 90, now=LATER + 3600) is None  # done today
    again = prune_if_due(instance, 90, now=LATER + PRUNE_INTERVAL_SECONDS + 1)
    assert again is not None


def test_the_history_command_prunes_a_data_dirs_instance(tmp_path, monkeypatch, capsys):
    for name in ("MEDSPA_RUN_HISTORY_DAYS", "MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    home = data_dir / "dagster"
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a"])
        runs = [_run(inst, "clinic-a", rooms_too=False) for _ in range(2)]

    assert main(["history", "--data-dir", str(data_dir), "--keep-days", "0"]) == 2
    assert "must be at least 1" in capsys.readouterr().err
    monkeypatch.setenv("MEDSPA_RUN_HISTORY_DAYS", "0")
    assert main(["history", "--data-dir", str(data_dir), "--dry-run"]) == 0
    assert "kept whole; nothing to prune" in capsys.readouterr().out
    monkeypatch.delenv("MEDSPA_RUN_HISTORY_DAYS")
    assert main(["history", "--data-dir", str(data_dir), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete 0 runs" in out  # both are seconds old
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as inst:
        assert all(inst.get_run_by_id(r) is not None for r in runs)
    assert main(["history", "--data-dir", str(tmp_path / "empty")]) == 0
    assert "no Dagster run history" in capsys.readouterr().out


def test_the_daemons_sensor_prunes_once_a_day(instance, monkeypatch):
    from orchestration.defs.automation.run_history_sensor import run_history_sensor

    _run(instance, "clinic-a", rooms_too=False)
    monkeypatch.setenv("MEDSPA_RUN_HISTORY_DAYS", "0")
    off = run_history_sensor(dg.build_sensor_context(instance=instance))
    assert "kept whole" in off.skip_message
    monkeypatch.setenv("MEDSPA_RUN_HISTORY_DAYS", "30")
    first = run_history_sensor(dg.build_sensor_context(instance=instance))
    assert first.skip_message.startswith("run history (finished runs older than 30 days)")
    second = run_history_sensor(dg.build_sensor_context(instance=instance))
    assert "pruned within the last day" in second.skip_message


def test_a_run_id_that_is_not_a_file_name_removes_no_file(instance):
    from orchestration.run_pruning import _files_of

    storage = instance.event_log_storage
    assert _files_of(instance, storage, "../../elsewhere") == []
    assert _files_of(instance, storage, "..") == []
    run_id = _run(instance, "clinic-a", rooms_too=False)
    assert _shard(instance, run_id) in _files_of(instance, storage, run_id)
