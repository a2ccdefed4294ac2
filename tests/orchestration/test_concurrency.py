"""Things happening at once: a reader on serving.duckdb during a publish, and nightly runs of
one tenant and of another submitted while the first is still running.

DuckDB takes one writer per file. Readers of `serving.duckdb` (BI tools, the DuckDB shell)
must not stop a publish, and two runs of one tenant must never write its warehouse at the same
time: Dagster's run queue (`dagster.yaml`: one run per value of the `medspa/tenant` and the
`dagster/partition` tags, so runs started from the UI count too) holds the second as QUEUED
until the first ends, instead of letting it start and fail on DuckDB's file lock, while a run
of another tenant (other files) starts alongside (`max_concurrent_runs: 2`). `medspa run` runs
outside the queue, so every run of a tenant, `medspa run` or launched by Dagster, holds the
tenant's run lock (`medspa.run_lock`): whichever starts second is refused, naming the other.
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
from orchestration.resources import MedspaSettings
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
from medspa.run_lock import data_dir_lock
with data_dir_lock(Path(sys.argv[1]), *sys.argv[2:]):
    print("locked", flush=True)
    sys.stdin.read()
"""


#: Another process: takes the data dir's run lock and lets it go (a refusal exits non-zero).
LOCK_PROBE = """
import sys
from pathlib import Path
from medspa.run_lock import data_dir_lock
with data_dir_lock(Path(sys.argv[1])):
    pass
"""


def _hold_lock(data_dir: Path, *holder_name: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(data_dir), *holder_name],
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
    from medspa.commands.run import run
    from medspa.run_lock import RUN_LOCK_NAME

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
        out = capsys.readouterr().err
        assert f"pid {holder.pid}" in out
        assert str(data / RUN_LOCK_NAME) in out
        # Refused before anything ran: no warehouse, no run in the instance.
        assert not (data / "warehouse.duckdb").exists()
        assert not (data / "dagster" / "dagster.yaml").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_the_run_lock_is_released_when_its_process_dies(tmp_path: Path):
    from medspa.run_lock import RunLockedError, data_dir_lock

    holder = _hold_lock(tmp_path)
    try:
        with pytest.raises(RunLockedError, match="lock file"), data_dir_lock(tmp_path):
            pass
    finally:
        holder.kill()  # no clean exit: the kernel drops the lock with the process
        holder.wait(timeout=60)
    with data_dir_lock(tmp_path, "`medspa run`") as path:
        assert path.read_text() == f"{os.getpid()}\n`medspa run`\n"


def test_the_run_lock_is_reentrant_in_its_process_and_exclusive_across_processes(tmp_path: Path):
    """`medspa run` holds the lock, then sets up the job's resources, which take it again."""
    from medspa.run_lock import RunLockedError, data_dir_lock

    def other_process_can_lock() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", LOCK_PROBE, str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 or "RunLockedError" in done.stderr, done.stderr
        return done.returncode == 0

    with data_dir_lock(tmp_path, "outer"):
        with data_dir_lock(tmp_path, "inner") as path:
            assert path.read_text().endswith("outer\n")  # the holder stays the first taker
        assert not other_process_can_lock()  # leaving the inner level kept the lock
    assert other_process_can_lock()
    with pytest.raises(RunLockedError):  # and a refusal names the holder it read back
        holder = _hold_lock(tmp_path, "Dagster run abc of tenant 'acme'")
        try:
            with data_dir_lock(tmp_path):
                pass
        finally:
            holder.stdin.close()
            holder.wait(timeout=60)


# -- a Dagster-launched run and `medspa run` on one tenant ---------------------------------

TENANT_PARTITIONS_FOR_TEST = dg.StaticPartitionsDefinition(["default"])

#: What the probe asset saw: could another process take the tenant's lock during the run?
_SEEN: dict[str, bool] = {}


@dg.asset(partitions_def=TENANT_PARTITIONS_FOR_TEST)
def _lock_probe(context: dg.AssetExecutionContext, medspa: MedspaSettings) -> None:
    data_dir = medspa.settings(context).data_dir
    done = subprocess.run(
        [sys.executable, "-c", LOCK_PROBE, str(data_dir)], cwd=REPO, capture_output=True, text=True
    )
    _SEEN["other process refused"] = done.returncode != 0 and "RunLockedError" in done.stderr
    _SEEN["names this run"] = context.run.run_id in done.stderr


def _tenant_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_a_dagster_run_holds_the_tenants_run_lock_for_its_whole_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A run the daemon launches (any run with the tenant's partition) locks the tenant out."""
    from medspa.run_lock import data_dir_lock

    _tenant_env(monkeypatch)
    _SEEN.clear()
    resources = {"medspa": MedspaSettings(data_dir=str(tmp_path), landing_dir=str(tmp_path))}
    result = dg.materialize([_lock_probe], resources=resources, partition_key="default")
    assert result.success
    assert _SEEN == {"other process refused": True, "names this run": True}
    with data_dir_lock(tmp_path):  # released when the run ended
        pass


def test_a_dagster_run_stops_before_its_first_step_while_medspa_run_holds_the_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _tenant_env(monkeypatch)
    _SEEN.clear()
    resources = {"medspa": MedspaSettings(data_dir=str(tmp_path), landing_dir=str(tmp_path))}
    holder = _hold_lock(tmp_path, "`medspa run`")
    try:
        result = dg.materialize(
            [_lock_probe],
            resources=resources,
            partition_key="default",
            raise_on_error=False,
        )
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert not result.success
    assert _SEEN == {}  # no step ran
    failure = next(
        event
        for event in result.all_events
        if event.event_type in (DagsterEventType.RUN_FAILURE, DagsterEventType.STEP_FAILURE)
        and "lock" in str(event.event_specific_data)
    )
    text = str(failure.event_specific_data)
    assert f"`medspa run` (pid {holder.pid}) is running on {tmp_path}" in text
    assert str(tmp_path / ".medspa-run.lock") in text


def test_an_unattended_run_waits_for_the_lock_a_persons_run_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The schedule's run at 02:00, while an engineer's `medspa run` holds the tenant: it used
    to be refused, retried once about 40 s later and refused again, and the night had no
    refresh. It now waits (a while), says what for, and runs once the lock is free. While it
    waits it says so again every `WAIT_NOTICE_SECONDS` (1 s here): a run quiet for two minutes
    is one the stale-run sensor may fail as killed, in the moment the lock is free."""
    import threading

    from medspa import run_lock
    from orchestration import resources as resources_module
    from orchestration.tenancy import SETTLE_TAG

    _tenant_env(monkeypatch)
    _SEEN.clear()
    monkeypatch.setattr(resources_module, "UNATTENDED_LOCK_WAIT_SECONDS", 120)
    monkeypatch.setattr(run_lock, "WAIT_NOTICE_SECONDS", 1.0)
    resources = {"medspa": MedspaSettings(data_dir=str(tmp_path), landing_dir=str(tmp_path))}
    holder = _hold_lock(tmp_path, "`medspa run`")
    # the person's run ends a few seconds after the scheduled one started waiting
    release = threading.Timer(4.0, holder.stdin.close)
    release.start()
    instance = dg.DagsterInstance.ephemeral()

    def unattended_run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [_lock_probe],
            resources=resources,
            partition_key="default",
            tags={SETTLE_TAG: "0"},  # as the schedule and the landing sensor tag their runs
            instance=instance,
            raise_on_error=False,
        )

    try:
        result = unattended_run()
    finally:
        release.join()
        holder.wait(timeout=60)
    assert result.success
    assert _SEEN == {"other process refused": True, "names this run": True}
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    waited = [m for m in logged if m.startswith("waiting up to 120 s: ")]
    assert waited and f"`medspa run` (pid {holder.pid}) is running on {tmp_path}" in waited[0]
    # held about 4 s: told at once, then again at its next try (every 2 s) past the second
    again = [m for m in logged if m.startswith("still waiting (")]
    assert again and "s of up to 120 s): `medspa run` (pid" in again[0]

    # ... but not for ever: past the wait it is refused as a person's run is at once
    monkeypatch.setattr(resources_module, "UNATTENDED_LOCK_WAIT_SECONDS", 1)
    _SEEN.clear()
    holder = _hold_lock(tmp_path, "`medspa run`")
    try:
        result = unattended_run()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert not result.success and _SEEN == {}


def test_a_run_without_a_tenant_takes_no_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The peer benchmarks job names no tenant: it must not wait for any tenant's run."""
    _tenant_env(monkeypatch)
    seen: list[bool] = []

    @dg.asset
    def unpartitioned(medspa: MedspaSettings) -> None:
        seen.append(not (Path(medspa.base_settings().data_dir) / ".medspa-run.lock").exists())

    resources = {"medspa": MedspaSettings(data_dir=str(tmp_path), landing_dir=str(tmp_path))}
    holder = _hold_lock(tmp_path / "elsewhere")
    try:
        assert dg.materialize([unpartitioned], resources=resources).success
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert seen == [True]


@pytest.mark.parametrize("command", ["ingest", "transform"])
def test_the_standalone_writers_are_refused_while_a_run_holds_the_tenant(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    """`medspa ingest` and `medspa transform` write the warehouse a run is writing."""
    from medspa.cli import main

    _tenant_env(monkeypatch)
    monkeypatch.setenv("MEDSPA_PHI_KEY", "a-test-key-long-enough-for-the-check-0123456789")
    (tmp_path / "landing").mkdir()
    (tmp_path / "warehouse.duckdb").write_bytes(b"")  # `transform` wants one to exist
    before = (tmp_path / "warehouse.duckdb").stat().st_mtime_ns
    holder = _hold_lock(tmp_path, "Dagster run r1 of tenant 'default'")
    try:
        argv = [command, "--data-dir", str(tmp_path)]
        if command == "ingest":
            argv += ["--landing", str(tmp_path / "landing")]
        assert main(argv) == 2
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    captured = capsys.readouterr()
    assert f"Dagster run r1 of tenant 'default' (pid {holder.pid})" in captured.out + captured.err
    assert (tmp_path / "warehouse.duckdb").stat().st_mtime_ns == before
    assert not (tmp_path / ".dlt").exists()  # the load never started


def test_a_waiting_run_speaks_more_often_than_the_stale_run_sensor_listens():
    """A run waiting for the lock logs a notice at least every `WAIT_NOTICE_SECONDS` (plus a
    retry's sleep): inside the quiet time after which the sensor tries the lock, with room for
    a slow event write, so the sensor never finds a waiting run quiet, whenever the lock comes
    free."""
    from medspa import run_lock
    from orchestration.defs.automation.stale_run_sensor import QUIET_SECONDS

    assert run_lock.WAIT_NOTICE_SECONDS + run_lock._RETRY_SECONDS <= 0.55 * QUIET_SECONDS
