"""Things happening at once: a reader on serving.duckdb during a publish, and nightly runs of
one tenant and of another submitted while the first is still running.

DuckDB takes one writer per file. Readers of `serving.duckdb` (BI tools, the DuckDB shell)
must not stop a publish, and two runs of one tenant must never write its warehouse at the same
time: Dagster's run queue (`dagster.yaml`: one run per value of the `medspa/tenant` and the
`dagster/partition` tags, so runs started from the UI count too) holds the second as QUEUED
until the first ends, instead of letting it start and fail on DuckDB's file lock, while a run
of another tenant (other files) starts alongside (`max_concurrent_runs: 2`). `medspa run` runs
outside the queue, so it locks the data dir itself: a second one on the same dir is refused.
"""

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)

from orchestration import run_log
from orchestration.defs.automation.jobs import NIGHTLY, SCHEDULES, SENSORS
from orchestration.tenancy import PARTITION_TAG, TENANT_TAG, tenant_run_tags
from serving import publish

REPO = Path(__file__).resolve().parents[2]
AT = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
RELATIONS = [publish.MartRelation("marts", "kpi_scorecard")]

#: Another process: opens serving read-only, then answers one query per line on stdin.
READER = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print("ready", flush=True)
for _ in sys.stdin:
    print(con.execute("select count(*) from ops.run_log").fetchone()[0], flush=True)
con.close()
"""


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.kpi_scorecard as select 'L1' as location_id, 0.1 as value")
    con.close()
    return path


def _ops(run_id: str) -> publish.OpsData:
    record = run_log.RunRecord(
        run_id=run_id,
        started_at=AT,
        finished_at=AT,
        rows_loaded=1,
        checks_passed=1,
        checks_warned=0,
        checks_failed=0,
        status=run_log.PUBLISHED,
        blocked_by=None,
        demo_key_on_real_data=False,
    )
    return publish.OpsData(run_log_row=record.row())


def _ask(reader: subprocess.Popen) -> str:
    reader.stdin.write("count\n")
    reader.stdin.flush()
    return reader.stdout.readline().strip()


def test_publish_succeeds_while_another_process_reads_serving_and_the_reader_keeps_working(
    tmp_path: Path,
):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"
        assert _ask(reader) == "1"
        publish.publish(warehouse, serving, "run2", RELATIONS, _ops("run2"))
        # The reader still answers, from the file it opened (os.replace swapped the name only).
        assert _ask(reader) == "1"
        # A new reader sees the new file: run1's log row was carried forward, run2's added.
        with duckdb.connect(str(serving), read_only=True) as con:
            runs = con.execute("select run_id from ops.run_log order by run_id").fetchall()
        assert runs == [("run1",), ("run2",)]
        assert not list(tmp_path.glob("serving.duckdb.tmp-*"))
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0


# -- the run queue --------------------------------------------------------------------


@pytest.fixture
def instance(tmp_path: Path):
    """A Dagster instance configured by the repository's own dagster.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        inst = dg.DagsterInstance.from_config(str(home))
        try:
            yield inst
        finally:
            inst.dispose()


def _origin(job_name: str) -> RemoteJobOrigin:
    """Where the daemons would load the job from (a queued run must name its code location)."""
    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions")
    )
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job_name)


def _submit(instance: dg.DagsterInstance, job: dg.JobDefinition, tags: dict[str, str]):
    """What the sensor and schedule daemons do: create the run, hand it to the coordinator."""
    run = instance.create_run_for_job(job_def=job, tags=tags, remote_job_origin=_origin(job.name))
    return instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))


def _report(instance: dg.DagsterInstance, run, event_type: DagsterEventType) -> None:
    event = DagsterEvent(event_type_value=event_type.value, job_name=run.job_name)
    instance.report_dagster_event(event, run_id=run.run_id)


@dg.op
def _step() -> None:
    """Stands in for the nightly job's steps: the queue looks at runs, not at what they do."""


def test_a_tenants_second_run_waits_while_another_tenant_runs_alongside(instance):
    config = instance.get_concurrency_config()
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    assert config.run_queue_config.max_concurrent_runs == 2
    # The schedule and the landing sensor start the same job, one run per tenant (tag
    # `medspa/tenant`). Planning the real nightly job takes minutes on 2 cores, so a one-op job
    # of the same name stands in for it; the run queue only counts runs and reads their tags.
    (schedule,) = SCHEDULES
    sensor = next(s for s in SENSORS if s.name == "landing_files_sensor")
    assert schedule.job_name == NIGHTLY.name

    @dg.job(name=NIGHTLY.name)
    def job():
        _step()

    def tags(tenant: str, origin: dict[str, str]) -> dict[str, str]:
        return {**origin, "medspa/tenant": tenant, "dagster/partition": tenant}

    a_sensor = _submit(instance, job, tags("clinic-a", {"dagster/sensor_name": sensor.name}))
    a_schedule = _submit(instance, job, tags("clinic-a", {"dagster/schedule_name": schedule.name}))
    b_schedule = _submit(instance, job, tags("clinic-b", {"dagster/schedule_name": schedule.name}))
    assert {r.status for r in (a_sensor, a_schedule, b_schedule)} == {dg.DagsterRunStatus.QUEUED}

    # The queue daemon's own selection: clinic-a's older run and clinic-b's run start together
    # (different DuckDB files); clinic-a's second run waits (its own file takes one writer).
    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    assert [r.run_id for r in daemon._get_runs_to_dequeue(instance, config, None)] == [
        a_sensor.run_id,
        b_schedule.run_id,
    ]
    for run in (a_sensor, b_schedule):
        _report(instance, run, DagsterEventType.RUN_START)
    assert daemon._get_runs_to_dequeue(instance, config, None) == []
    assert instance.get_run_by_id(a_schedule.run_id).status == dg.DagsterRunStatus.QUEUED

    # clinic-b finishing frees a slot, but not clinic-a's: its second run still waits ...
    _report(instance, b_schedule, DagsterEventType.RUN_SUCCESS)
    assert daemon._get_runs_to_dequeue(instance, config, None) == []
    # ... until clinic-a's first run ends.
    _report(instance, a_sensor, DagsterEventType.RUN_SUCCESS)
    assert [r.run_id for r in daemon._get_runs_to_dequeue(instance, config, None)] == [
        a_schedule.run_id
    ]


def test_a_ui_run_and_a_scheduled_run_of_one_tenant_do_not_start_together(instance):
    """A run started from the UI carries only Dagster's `dagster/partition` tag: the queue must
    still hold it back while the schedule's run of the same tenant runs (and vice versa)."""
    config = instance.get_concurrency_config()
    (schedule,) = SCHEDULES

    @dg.job(name=NIGHTLY.name)
    def job():
        _step()

    @dg.job(name="__ASSET_JOB")  # what Materialize in the asset graph launches
    def asset_job():
        _step()

    scheduled = _submit(
        instance,
        job,
        {
            "dagster/schedule_name": schedule.name,
            "dagster/partition": "clinic-a",
            **tenant_run_tags("clinic-a"),
            "dagster/max_retries": "1",
        },
    )
    materialize = _submit(instance, asset_job, {"dagster/partition": "clinic-a"})
    backfill = _submit(instance, job, {"dagster/partition": "clinic-a", "dagster/backfill": "b1"})
    other = _submit(instance, asset_job, {"dagster/partition": "clinic-b"})

    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    # clinic-a's scheduled run and clinic-b's UI run: one per tenant, two in all.
    assert [r.run_id for r in daemon._get_runs_to_dequeue(instance, config, None)] == [
        scheduled.run_id,
        other.run_id,
    ]
    for run in (scheduled, other):
        _report(instance, run, DagsterEventType.RUN_START)
    _report(instance, other, DagsterEventType.RUN_SUCCESS)
    # A slot is free, but clinic-a's UI runs wait for its scheduled run ...
    assert daemon._get_runs_to_dequeue(instance, config, None) == []
    _report(instance, scheduled, DagsterEventType.RUN_SUCCESS)
    # ... then start one at a time: the Materialize run first, the backfill's after it.
    assert [r.run_id for r in daemon._get_runs_to_dequeue(instance, config, None)] == [
        materialize.run_id
    ]
    _report(instance, materialize, DagsterEventType.RUN_START)
    assert daemon._get_runs_to_dequeue(instance, config, None) == []
    _report(instance, materialize, DagsterEventType.RUN_SUCCESS)
    assert [r.run_id for r in daemon._get_runs_to_dequeue(instance, config, None)] == [
        backfill.run_id
    ]


@pytest.mark.parametrize(
    "path",
    ["dagster.yaml", "deploy/docker/dagster.yaml", "deploy/helm/values.yaml"],
)
def test_every_deployment_limits_a_tenant_by_both_of_its_tags(path: str):
    """The local instance, Docker and Kubernetes queue one run per tenant the same way."""
    document = yaml.safe_load((REPO / path).read_text(encoding="utf-8"))
    if "dagsterDaemon" in document:
        queue = document["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
        limits = queue["tagConcurrencyLimits"]
    else:
        limits = document["concurrency"]["runs"]["tag_concurrency_limits"]
    per_value = {"applyLimitPerUniqueValue": True}
    assert {(limit["key"], limit["limit"]) for limit in limits if limit["value"] == per_value} == {
        (TENANT_TAG, 1),
        (PARTITION_TAG, 1),
    }


# -- two `medspa run` processes on one data dir ------------------------------------------

#: Another process: holds the data dir's run lock until its stdin closes (or it is killed).
LOCK_HOLDER = """
import sys
from pathlib import Path
from medspa.commands.run import data_dir_lock
with data_dir_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _hold_lock(data_dir: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.filterwarnings("ignore::medspa.settings.DemoKeyWarning")  # an empty landing folder
def test_a_second_medspa_run_on_one_data_dir_is_refused_naming_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    from medspa.commands.run import RUN_LOCK_NAME, run

    data, landing = tmp_path / "data", tmp_path / "landing"
    data.mkdir()
    landing.mkdir()
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    holder = _hold_lock(data)
    try:
        args = argparse.Namespace(
            data_dir=str(data),
            landing=str(landing),
            verbose=False,
            tenants_file=None,
            tenant=None,
            all_tenants=False,
        )
        assert run(args) == 2
        out = capsys.readouterr().out
        assert f"pid {holder.pid}" in out
        assert str(data / RUN_LOCK_NAME) in out
        # Refused before anything ran: no warehouse, no run in the instance.
        assert not (data / "warehouse.duckdb").exists()
        assert not (data / "dagster" / "dagster.yaml").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_the_run_lock_is_released_when_its_process_dies(tmp_path: Path):
    from medspa.commands.run import RunLockedError, data_dir_lock

    holder = _hold_lock(tmp_path)
    try:
        with pytest.raises(RunLockedError, match="lock file"), data_dir_lock(tmp_path):
            pass
    finally:
        holder.kill()  # no clean exit: the kernel drops the lock with the process
        holder.wait(timeout=60)
    with data_dir_lock(tmp_path) as path:
        assert path.read_text().strip() == str(os.getpid())
