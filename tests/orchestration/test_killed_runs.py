"""What a killed run leaves behind is cleaned up by its tenant's next run, and a run with a bad
PHI key stops before its first step.

A run whose process is killed never reports its end: Dagster keeps it STARTED, and the run
queue (one run per tenant) would hold every later run of the tenant QUEUED for good. The next
run of the tenant holds the tenant's run lock, which proves the killed one is gone: it marks
it failed (`orchestration.stale_runs`), and removes the temporary files of a killed publish
and the scratch folders of a killed site build. Runs of other tenants and queued runs are left
alone.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from test_run_alerts import webhook  # noqa: F401 (a fixture: an HTTP server on 127.0.0.1)

from medspa.run_lock import RUN_LOCK_NAME
from orchestration.defs.automation.stale_run_sensor import fail_dead_runs
from orchestration.resources import MedspaSettings
from orchestration.stale_runs import fail_stale_runs
from orchestration.tenancy import PARTITION_TAG, TENANT_TAG

TENANTS_FOR_TEST = dg.StaticPartitionsDefinition(["default"])
_SEEN: dict[str, object] = {}


@dg.asset(partitions_def=TENANTS_FOR_TEST)
def _probe(context: dg.AssetExecutionContext, medspa: MedspaSettings) -> None:
    data_dir = medspa.settings(context).data_dir
    _SEEN["files"] = sorted(p.name for p in data_dir.iterdir())


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR", "MEDSPA_PHI_KEY"):
        monkeypatch.delenv(name, raising=False)


def _add_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict) -> str:
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="test_killed_runs"))
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "nightly")
    run = DagsterRun(
        job_name="nightly",
        run_id=str(uuid.uuid4()),
        status=status,
        tags=tags,
        remote_job_origin=origin,
    )
    instance.add_run(run)
    return run.run_id


def _resources(tmp_path: Path) -> dict:
    return {"medspa": MedspaSettings(data_dir=str(tmp_path), landing_dir=str(tmp_path))}


def test_the_tenants_next_run_fails_its_killed_runs_and_leaves_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _clean_env(monkeypatch)
    with dg.instance_for_test() as instance:
        killed = _add_run(instance, dg.DagsterRunStatus.STARTED, {TENANT_TAG: "default"})
        # a run started from the UI carries only the partition tag
        killed_ui = _add_run(instance, dg.DagsterRunStatus.STARTING, {PARTITION_TAG: "default"})
        other = _add_run(instance, dg.DagsterRunStatus.STARTED, {TENANT_TAG: "clinic-b"})
        queued = _add_run(instance, dg.DagsterRunStatus.QUEUED, {TENANT_TAG: "default"})
        no_tenant = _add_run(instance, dg.DagsterRunStatus.STARTED, {})

        result = dg.materialize(
            [_probe], resources=_resources(tmp_path), partition_key="default", instance=instance
        )

        assert result.success
        for run_id in (killed, killed_ui):
            run = instance.get_run_by_id(run_id)
            assert run.status == dg.DagsterRunStatus.FAILURE
            failure = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert len(failure) == 1
            assert (
                f"its process ended without finishing: marked failed by run {result.run_id}"
                in failure[0].dagster_event.message
            )
        assert instance.get_run_by_id(other).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(queued).status == dg.DagsterRunStatus.QUEUED
        assert instance.get_run_by_id(no_tenant).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        warnings = [
            e.message
            for e in instance.all_logs(result.run_id)
            if "marked it failed" in (e.message or "")
        ]
        assert len(warnings) == 2


def test_a_killed_medspa_run_is_recorded_and_alerted_by_the_next_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    webhook,  # noqa: F811 (the fixture imported above)
):
    """`medspa run` executes in its own process, with no code location: no run-status sensor
    hears that its run was marked failed. The run that marks it records and alerts it; a run
    Dagster launched is left to the sensors (here: `killed_ui`, which has an origin)."""
    _clean_env(monkeypatch)
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", webhook.url)
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    with dg.instance_for_test() as instance:
        cron_run = DagsterRun(
            job_name="nightly",
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags={TENANT_TAG: "default"},
        )
        instance.add_run(cron_run)  # as `medspa run` leaves it: no remote job origin
        killed_ui = _add_run(instance, dg.DagsterRunStatus.STARTED, {PARTITION_TAG: "default"})

        result = dg.materialize(
            [_probe], resources=_resources(tmp_path), partition_key="default", instance=instance
        )

        assert result.success
        assert instance.get_run_by_id(killed_ui).status == dg.DagsterRunStatus.FAILURE
        (body,) = webhook.bodies
        assert (body["run_id"], body["status"], body["tenant"]) == (
            cron_run.run_id,
            "failed",
            "default",
        )
        (pending,) = (tmp_path / "run_log_pending").glob("*.json")
        assert pending.name == f"{cron_run.run_id}.json"
        assert json.loads(pending.read_text())["status"] == "failed"


def test_a_run_that_ends_while_being_looked_at_is_left_alone():
    """A run whose latest event is recent is looked at again; one that finished is kept."""
    with dg.instance_for_test() as instance:
        run_id = _add_run(instance, dg.DagsterRunStatus.STARTED, {TENANT_TAG: "default"})
        instance.report_engine_event("step output", instance.get_run_by_id(run_id))
        waited: list[float] = []

        def finish_while_waiting(seconds: float) -> None:
            waited.append(seconds)
            run = instance.get_run_by_id(run_id)
            instance.report_dagster_event(
                dg.DagsterEvent(
                    event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name
                ),
                run_id=run_id,
            )

        failed = fail_stale_runs(instance, "default", "current", sleep=finish_while_waiting)

        assert waited  # its event was recent: it was looked at again
        assert failed == []
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS


def test_leftovers_of_a_killed_publish_and_site_build_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _clean_env(monkeypatch)
    leftovers = [
        "serving.duckdb.tmp-0a1b",
        "serving.duckdb.tmp-0a1b.wal",
        "scorecard.duckdb.tmp-0a1b",
        "scorecard.duckdb.tmp-0a1b.wal",
        "serving.rowhashes.duckdb.tmp-0a1b",
        "serving.rowhashes.duckdb.tmp-0a1b.wal",
    ]
    for name in leftovers:
        (tmp_path / name).write_text("x")
    kept = ["serving.duckdb", "notes.tmp-0a1b", "serving.duckdb.bak"]
    for name in kept:
        (tmp_path / name).write_text("keep")
    old = time.time() - 3600
    scratch = tmp_path / ".site-abc123"
    (scratch / "loc").mkdir(parents=True)
    (scratch / "loc" / "index.html").write_text("<html>")
    for path in (scratch / "loc" / "index.html", scratch / "loc", scratch):
        os.utime(path, (old, old))
    fresh = tmp_path / ".site-live99"  # a `medspa site` beside the run is writing this one
    fresh.mkdir()
    (fresh / "index.html").write_text("<html>")
    # links are never followed, nor removed when they only look like leftovers
    target = tmp_path / "elsewhere"
    (target / "inner").mkdir(parents=True)
    (target / "inner" / "data").write_text("keep")
    os.symlink(target, tmp_path / ".site-link")
    os.symlink(target / "inner" / "data", tmp_path / "serving.duckdb.tmp-link")
    os.symlink(target, scratch / "loc" / "link")  # inside a leftover: removed, not followed
    os.utime(scratch / "loc" / "link", (old, old), follow_symlinks=False)
    os.utime(scratch / "loc", (old, old))
    os.utime(scratch, (old, old))

    result = dg.materialize([_probe], resources=_resources(tmp_path), partition_key="default")

    assert result.success
    files = set(_SEEN["files"])
    assert not files & set(leftovers)
    assert ".site-abc123" not in files
    assert set(kept) <= files
    assert {".site-live99", ".site-link", "serving.duckdb.tmp-link"} <= files
    assert (target / "inner" / "data").read_text() == "keep"


def test_a_publish_killed_between_its_swaps_is_finished_before_leftovers_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The journal says run 0a1b swapped serving.duckdb in but not yet its scorecard: the
    next run swaps the scorecard in (it was audited) instead of removing it as a leftover."""
    _clean_env(monkeypatch)
    (tmp_path / "serving.duckdb").write_text("today")
    (tmp_path / "scorecard.duckdb").write_text("yesterday")
    (tmp_path / "scorecard.duckdb.tmp-0a1b").write_text("today")
    swaps = [["serving.duckdb.tmp-0a1b", "serving.duckdb"]]
    swaps.append(["scorecard.duckdb.tmp-0a1b", "scorecard.duckdb"])
    journal = {"version": 1, "run_id": "0a1b", "swaps": swaps}
    (tmp_path / "serving.duckdb.swapping").write_text(json.dumps(journal))

    result = dg.materialize([_probe], resources=_resources(tmp_path), partition_key="default")

    assert result.success
    assert (tmp_path / "scorecard.duckdb").read_text() == "today"
    assert not (tmp_path / "serving.duckdb.swapping").exists()
    assert not (tmp_path / "scorecard.duckdb.tmp-0a1b").exists()


def test_a_short_phi_key_fails_the_run_before_its_first_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """As `medspa run` refuses up front, a launched run stops before ingest writes raw PHI."""
    _clean_env(monkeypatch)
    monkeypatch.setenv("MEDSPA_PHI_KEY", "short-key")
    _SEEN.clear()

    result = dg.materialize(
        [_probe], resources=_resources(tmp_path), partition_key="default", raise_on_error=False
    )

    assert not result.success
    assert _SEEN == {}  # no step ran
    text = " ".join(
        str(e.event_specific_data)
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.STEP_FAILURE)
    )
    assert "PhiKeyError" in text
    assert "MEDSPA_PHI_KEY is set but only 9 bytes long" in text
    assert not (tmp_path / ".medspa-run.lock").exists() or _lock_is_free(tmp_path)


def _lock_is_free(data_dir: Path) -> bool:
    from medspa.run_lock import data_dir_lock

    with data_dir_lock(data_dir):
        return True


def _hold_lock_elsewhere(data_dir: Path) -> subprocess.Popen:
    """Another process holding the tenant's run lock, as a live run does."""
    code = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(data_dir / RUN_LOCK_NAME)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_the_stale_runs_sensor_fails_quiet_runs_whose_tenant_lock_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # A queued run never takes the lock, so a killed worker's run would hold the tenant's
    # place in the queue for good: the sensor (the daemon runs it) fails it when the tenant's
    # lock is free and the run has been quiet for QUIET_SECONDS.
    _clean_env(monkeypatch)
    monkeypatch.setenv("MEDSPA_DATA_DIR", str(tmp_path))
    with dg.instance_for_test() as instance:
        killed = _add_run(instance, dg.DagsterRunStatus.STARTED, {TENANT_TAG: "default"})
        queued = _add_run(instance, dg.DagsterRunStatus.QUEUED, {TENANT_TAG: "default"})
        unknown = _add_run(instance, dg.DagsterRunStatus.STARTED, {TENANT_TAG: "clinic-b"})
        # its runs have no event: as quiet as can be; 60 s after the epoch, none is quiet yet
        assert fail_dead_runs(instance, now=60.0) == {}
        # a live run of the tenant holds the lock: nothing is failed
        holder = _hold_lock_elsewhere(tmp_path)
        try:
            assert fail_dead_runs(instance) == {}
        finally:
            holder.kill()
            holder.wait()
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED
        # the lock is free: the quiet run is failed, naming the sensor
        assert fail_dead_runs(instance) == {"default": [killed]}
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(queued).status == dg.DagsterRunStatus.QUEUED
        # a tenant the registry does not list has no data dir to lock: left alone
        assert instance.get_run_by_id(unknown).status == dg.DagsterRunStatus.STARTED
        (failure,) = [
            r.event_log_entry.dagster_event.message
            for r in instance.get_records_for_run(killed).records
            if r.event_log_entry.dagster_event is not None
            and r.event_log_entry.dagster_event.event_type_value == "PIPELINE_FAILURE"
        ]
        assert "marked failed by the stale_runs_sensor" in failure
