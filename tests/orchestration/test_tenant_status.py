"""`medspa status` and the recovery alert read each tenant's health from the run history.

Real runs of a small job of the nightly's shape (a raw table with a blocking check, `serving`,
then `site`) in a real SQLite instance; runs Dagster never finished (cancelled by a person,
still going) are added to the run storage as the daemon would leave them. Each test says which run
decides and why; ages are measured from the tenant's own publish time, not the wall clock.
"""

import datetime as dt
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.dagster_run import DagsterRun
from test_run_alerts import Receiver, webhook  # noqa: F401
from test_run_history import _tick

from medspa.cli import main
from medspa.commands.run import using_dagster_home
from orchestration import run_events, run_log, summary
from orchestration.defs.automation.run_log_sensor import build_run_log_sensors
from orchestration.resources import MedspaSettings, settings_run_config
from orchestration.tenancy import PARTITION_TAG, TENANT_PARTITIONS
from orchestration.tenant_status import (
    FAILING,
    NEVER_PUBLISHED,
    PUBLISHED_WITH_FAILURES,
    STALE,
    last_published,
    tenant_status,
    unpublished_before,
)

HOUR = 3600.0
RAW_KEY = dg.AssetKey(["raw_pms", "appointments"])
#: Tenants whose raw table fails its blocking check, and whose site step fails (tests set them).
BLOCKED: set[str] = set()
SITE_BREAKS: set[str] = set()
#: Tenants a required table's file was refused for: an error check fails, not a blocking one.
FILE_REFUSED: set[str] = set()


@dg.asset(key=RAW_KEY, partitions_def=TENANT_PARTITIONS)
def raw_appointments() -> None:
    """Stands in for the loader."""


@dg.asset_check(asset=RAW_KEY, name="unique_keys", blocking=True)
def unique_keys(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=context.run.tags[PARTITION_TAG] not in BLOCKED)


@dg.asset_check(asset=RAW_KEY, name="contract_load", blocking=False)
def contract_load(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=context.run.tags[PARTITION_TAG] not in FILE_REFUSED,
        severity=dg.AssetCheckSeverity.ERROR,
    )


@dg.asset(key="serving", deps=[RAW_KEY], partitions_def=TENANT_PARTITIONS)
def serving(medspa: MedspaSettings) -> None:
    """Stands in for the publish: materialized = published."""


@dg.asset(key="site", deps=["serving"], partitions_def=TENANT_PARTITIONS)
def site(context: dg.AssetExecutionContext) -> None:
    if context.partition_key in SITE_BREAKS:
        raise RuntimeError("the site could not be written")


def _definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_appointments, serving, site],
        asset_checks=[unique_keys, contract_load],
        jobs=[dg.define_asset_job("nightly", partitions_def=TENANT_PARTITIONS)],
        sensors=build_run_log_sensors(),
        resources={"medspa": MedspaSettings()},
        executor=dg.in_process_executor,
    )


def _nightly(instance, tenant: str, data: Path | None = None, site_only: bool = False) -> str:
    """One run of `tenant` (the whole job, or `site` alone as the UI's Materialize); its id."""
    job = _definitions().resolve_job_def("nightly")
    config = settings_run_config(data, data / "landing") if data is not None else None
    result = job.execute_in_process(
        instance=instance,
        partition_key=tenant,
        raise_on_error=False,
        run_config=config,
        # the run then records its selection, as the UI's runs do
        asset_selection=[site.key] if site_only else None,
    )
    return result.run_id


def _left_by_daemon(instance, tenant: str, status: dg.DagsterRunStatus) -> str:
    """A run the daemon left in `status` (cancelled from the UI, still going)."""
    run_id = str(uuid.uuid4())
    instance.add_run(
        DagsterRun(job_name="nightly", run_id=run_id, status=status, tags={PARTITION_TAG: tenant})
    )
    return run_id


@pytest.fixture
def instance(tmp_path: Path):
    BLOCKED.clear()
    SITE_BREAKS.clear()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a", "clinic-b", "default"])
        yield inst
    BLOCKED.clear()
    SITE_BREAKS.clear()


def test_a_tenant_that_published_is_healthy_until_its_publish_is_older_than_the_limit(instance):
    run_id = _nightly(instance, "clinic-a")
    published_at = last_published(instance, "clinic-a")
    assert published_at is not None

    fresh = tenant_status(instance, "clinic-a", published_at + 25 * HOUR)
    assert fresh.healthy and fresh.newest_deciding_run.run_id == run_id
    assert fresh.newest_deciding_run.status == "published"
    assert fresh.hours_since_publish == 25.0

    assert "(25.0 h ago; limit 26 h)" in fresh.to_text()
    # a publish stamped after now (under a clock that was ahead) says so, not "-60 min ago"
    early = tenant_status(instance, "clinic-a", published_at - HOUR).to_text()
    assert "(1.0 h in the future: this machine's clock is behind, or was ahead then;" in early

    late = tenant_status(instance, "clinic-a", published_at + 27 * HOUR)
    assert late.verdicts == [STALE]
    assert late.problems == [
        "nothing published for 27.0 h (limit 26 h): is the nightly still scheduled (the Dagster "
        "daemon running, or the cron line in place)?"
    ]


def test_a_blocked_nightly_makes_the_tenant_failing_though_its_last_publish_is_recent(instance):
    published = _nightly(instance, "clinic-b")
    BLOCKED.add("clinic-b")
    blocked = _nightly(instance, "clinic-b")
    at = last_published(instance, "clinic-b")

    status = tenant_status(instance, "clinic-b", at + HOUR)

    assert status.verdicts == [FAILING]
    assert status.newest_deciding_run.run_id == blocked
    assert status.newest_deciding_run.status == "blocked"
    assert status.newest_deciding_run.blocked_by == "raw_pms/appointments:unique_keys"
    # the dashboards still show the earlier run's publish
    assert last_published(instance, "clinic-b") == at
    assert unpublished_before(instance, "clinic-b", blocked) is None
    assert published != blocked

    # An hour after the blocked run ended, with a limit that has the publish stale but the
    # blocked run within it: a nightly did run, so the schedule is not what to ask about.
    ended = instance.get_run_stats(blocked).end_time
    limit = HOUR + (ended - at) / 2
    later = tenant_status(instance, "clinic-b", ended + HOUR, dt.timedelta(seconds=limit))
    assert later.verdicts == [STALE, FAILING]
    assert later.problems[0].startswith("nothing published for 1.0 h (limit 1.0")
    assert "scheduled" not in later.problems[0]


def test_runs_that_say_nothing_about_the_nightly_are_passed_over(instance):
    """A site-only run that succeeded, a run cancelled by a person and a run still going come
    after the blocked nightly: the blocked run still decides, and the live one is shown."""
    _nightly(instance, "clinic-a")
    BLOCKED.add("clinic-a")
    blocked = _nightly(instance, "clinic-a")
    BLOCKED.clear()
    _nightly(instance, "clinic-a", site_only=True)
    _left_by_daemon(instance, "clinic-a", dg.DagsterRunStatus.CANCELED)
    going = _left_by_daemon(instance, "clinic-a", dg.DagsterRunStatus.STARTED)

    status = tenant_status(instance, "clinic-a", last_published(instance, "clinic-a") + HOUR)

    assert status.verdicts == [FAILING]
    assert status.newest_deciding_run.run_id == blocked
    assert [(r.run_id, r.status) for r in status.active_runs] == [(going, "started")]


def test_a_run_that_failed_after_publishing_makes_the_tenant_failing_and_the_next_recovers(
    instance,
):
    """serving.duckdb published, then the site (or the PostgreSQL publish) failed: the
    status said OK and "published" while the dashboards (or BI tools) kept yesterday's data."""
    SITE_BREAKS.add("clinic-a")
    run_id = _nightly(instance, "clinic-a")
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE

    status = tenant_status(instance, "clinic-a", last_published(instance, "clinic-a") + HOUR)

    assert status.verdicts == [FAILING]
    assert status.newest_deciding_run.status == "published, then failed"
    assert status.problems == [
        "the newest nightly published serving.duckdb, then a later step failed (the PostgreSQL "
        "publish or the site): BI tools on PostgreSQL or the dashboards may still show the "
        "previous data; its Dagster run says which step"
    ]
    SITE_BREAKS.clear()
    good = _nightly(instance, "clinic-a")
    assert unpublished_before(instance, "clinic-a", good) == run_id
    assert tenant_status(instance, "clinic-a", last_published(instance, "clinic-a") + HOUR).healthy


def test_a_tenant_that_never_published_is_not_healthy(instance):
    BLOCKED.add("clinic-b")
    _nightly(instance, "clinic-b")
    _nightly(instance, "clinic-a")  # another tenant's publish does not count

    status = tenant_status(instance, "clinic-b", 0.0)

    assert status.verdicts == [NEVER_PUBLISHED, FAILING]
    assert status.last_published_at is None


def test_the_run_a_publish_recovered_from_is_the_deciding_run_before_it(instance):
    BLOCKED.add("clinic-a")
    blocked = _nightly(instance, "clinic-a")
    BLOCKED.clear()
    _nightly(instance, "clinic-b")  # another tenant's run in between
    _nightly(instance, "clinic-a", site_only=True)  # says nothing
    recovered = _nightly(instance, "clinic-a")
    again = _nightly(instance, "clinic-a")

    assert unpublished_before(instance, "clinic-a", recovered) == blocked
    assert unpublished_before(instance, "clinic-a", again) is None
    assert unpublished_before(instance, "clinic-b", blocked) is None  # clinic-b's first run


def test_the_run_log_sensor_posts_that_a_blocked_tenant_recovered(
    instance,
    webhook: Receiver,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", webhook.url)
    data = tmp_path / "data"
    data.mkdir()
    defs = _definitions()
    cursor = _tick(instance, defs, "run_log_finished_runs", None)
    failed_cursor = _tick(instance, defs, "run_log_failed_runs", None)
    BLOCKED.add("default")
    blocked = _nightly(instance, "default", data)
    failed_cursor = _tick(instance, defs, "run_log_failed_runs", failed_cursor)
    BLOCKED.clear()
    recovered = _nightly(instance, "default", data)
    cursor = _tick(instance, defs, "run_log_finished_runs", cursor)
    _nightly(instance, "default", data)
    _tick(instance, defs, "run_log_finished_runs", cursor)

    assert [(b["status"], b["run_id"]) for b in webhook.bodies] == [
        ("blocked", blocked),
        ("recovered", recovered),
    ]
    assert webhook.bodies[1]["recovered_from"] == blocked
    # when the run ended, not when the sensor got round to it
    ended = dt.datetime.fromtimestamp(instance.get_run_stats(blocked).end_time, tz=dt.UTC)
    assert webhook.bodies[0]["finished_at"] == ended.isoformat()
    assert webhook.bodies[1]["text"] == (
        f"medspa-warehouse: tenant 'default' recovered: run {recovered} published after run "
        f"{blocked} did not. Dashboards and BI show new data again."
    )


def _failed_by_daemon(instance, tenant: str, **run: object) -> str:
    """A run that failed as Dagster fails one (its RUN_FAILURE event, which the run-log
    sensor hears), with `run`'s fields (tags, asset selection)."""
    tags = {PARTITION_TAG: tenant, **run.pop("tags", {})}  # type: ignore[dict-item]
    started = DagsterRun(
        job_name="nightly",
        run_id=str(uuid.uuid4()),
        status=dg.DagsterRunStatus.STARTED,
        tags=tags,
        **run,  # type: ignore[arg-type]
    )
    instance.add_run(started)
    instance.report_run_failed(started)
    return started.run_id


@contextmanager
def _lock_held_elsewhere(data: Path) -> Iterator[None]:
    """The tenant's run lock held by another process (a `medspa run`), as a run meets it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\nfrom medspa.run_lock import "
            "data_dir_lock\nwith data_dir_lock(Path(sys.argv[1]), 'a medspa run'):\n"
            "    print('held', flush=True)\n    time.sleep(60)",
            str(data),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_failed_runs_that_are_not_the_nightly_failing_are_passed_over_and_post_nothing(
    instance,
    webhook: Receiver,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """After a published nightly: the UI's Materialize of `site` that fails, a run refused by
    the run lock of a `medspa run`, and a Ctrl-C'd `medspa run` (Dagster ends it as a failure;
    `medspa run` tags it, and posts no alert for it itself). None is the nightly failing: the
    run-log sensor posts nothing, and the tenant stays healthy. A re-execution of a blocked
    nightly that fails again is the nightly failing."""
    from medspa.commands.run import _tag_interrupted

    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", webhook.url)
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).close()  # the run log's home
    defs = _definitions()
    cursor = _tick(instance, defs, "run_log_failed_runs", None)
    published = _nightly(instance, "default", data)
    SITE_BREAKS.add("default")
    experiment = _nightly(instance, "default", data, site_only=True)
    SITE_BREAKS.clear()
    with _lock_held_elsewhere(data):
        refused = _nightly(instance, "default", data)
    interrupted = _failed_by_daemon(instance, "default")
    _tag_interrupted(instance, interrupted)
    cursor = _tick(instance, defs, "run_log_failed_runs", cursor)

    failed = [instance.get_run_by_id(r).status for r in (experiment, refused, interrupted)]
    assert failed == [dg.DagsterRunStatus.FAILURE] * 3
    assert webhook.bodies == []
    status = tenant_status(instance, "default", last_published(instance, "default") + HOUR)
    assert status.healthy and status.newest_deciding_run.run_id == published
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        logged = dict(con.execute("select run_id, status from raw_meta.run_log").fetchall())
    assert logged[experiment] == logged[refused] == "failed"  # the run log keeps every run
    # `medspa run` records its own runs (the sensor never sees them): as a cancelled run
    record = run_log.record_of(instance, interrupted, published=False, demo_key_on_real_data=False)
    assert record.status == "cancelled"

    BLOCKED.add("default")
    blocked = _nightly(instance, "default", data)
    again = _failed_by_daemon(  # re-executed from failure: `serving` onwards
        instance,
        "default",
        tags={"dagster/root_run_id": blocked, "dagster/parent_run_id": blocked},
        asset_selection=frozenset({dg.AssetKey("serving")}),
    )
    _tick(instance, defs, "run_log_failed_runs", cursor)
    assert [(b["status"], b["run_id"]) for b in webhook.bodies] == [
        ("blocked", blocked),
        ("failed", again),
    ]
    status = tenant_status(instance, "default", last_published(instance, "default") + HOUR)
    assert status.verdicts == [FAILING] and status.newest_deciding_run.run_id == again


def _registry(tmp_path: Path) -> Path:
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n"
        f"  - name: clinic-a\n    landing: {tmp_path / 'la'}\n    demo: true\n"
        f"  - name: clinic-b\n    landing: {tmp_path / 'lb'}\n    demo: true\n",
        encoding="utf-8",
    )
    return registry


def test_a_run_with_another_key_than_the_warehouse_was_built_with_fails_before_its_first_step(
    instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A secret remounted with a trailing newline: the run fails in its set-up, naming
    `medspa rekey`, nothing runs, the run lock is released (the next run with the right key
    publishes), and the tenant is FAILING until then."""
    key = "a-clinic-secret-of-at-least-32-bytes-0001"
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).close()
    monkeypatch.setenv("MEDSPA_PHI_KEY", key)
    published = _nightly(instance, "default", data)
    monkeypatch.setenv("MEDSPA_PHI_KEY", key + "\n")
    refused = _nightly(instance, "default", data)
    run = instance.get_run_by_id(refused)
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert not run_events.materializations(instance, refused)  # no step ran
    # `medspa run`'s summary says why, though no step failed
    (why,) = summary._step_failures(instance, refused)
    assert why.startswith("set-up: ") and "run `medspa rekey`" in why
    status = tenant_status(instance, "default", last_published(instance, "default") + HOUR)
    assert status.verdicts == [FAILING] and status.newest_deciding_run.run_id == refused
    monkeypatch.setenv("MEDSPA_PHI_KEY", key)
    again = _nightly(instance, "default", data)
    assert run_events.published(instance, again) and published != again


def status_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """The data dir and the `medspa status` arguments of a two-tenant registry under it."""
    data = tmp_path / "data"
    monkeypatch.delenv("MEDSPA_TENANTS_FILE", raising=False)
    return data, ["status", "--data-dir", str(data), "--tenants-file", str(_registry(tmp_path))]


def test_medspa_status_exits_1_naming_the_tenant_that_is_not_healthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    data, args = status_args(tmp_path, monkeypatch)

    assert main(args) == 1  # nothing ever ran here: no history, and nothing is created
    assert "no run has been recorded" in capsys.readouterr().out
    assert not (data / "dagster").exists()

    home = data / "dagster"
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a", "clinic-b"])
        _nightly(inst, "clinic-a")
        BLOCKED.add("clinic-b")
        try:
            blocked = _nightly(inst, "clinic-b")
        finally:
            BLOCKED.clear()

    assert main(args) == 1
    out = capsys.readouterr().out
    assert "tenant clinic-a: OK" in out
    assert "tenant clinic-b: NEVER PUBLISHED, FAILING" in out
    assert f"newest nightly: run {blocked} blocked, blocked by raw_pms/appointments" in out
    assert out.rstrip().endswith(f"1 of 2 tenant(s) healthy (run history read from {home})")

    assert main([*args, "--tenant", "clinic-a", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["healthy"] is True
    assert [t["tenant"] for t in report["tenants"]] == ["clinic-a"]

    # The instance named explicitly (the Docker deployment's /opt/dagster), here elsewhere.
    moved = tmp_path / "elsewhere"
    home.rename(moved)
    assert main([*args, "--dagster-home", str(moved), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["dagster_home"] == str(moved)

    assert main([*args, "--tenant", "clinic-z"]) == 2
    assert "no tenant 'clinic-z'" in capsys.readouterr().err


def test_a_started_run_whose_tenant_lock_nobody_holds_died_and_makes_the_tenant_failing(
    instance,
):
    """A nightly killed mid-way (`kill -9`, out of memory) stays STARTED in Dagster: the status
    called the tenant OK until its publish went stale a day later. Every live run holds its
    tenant's run lock, so a started run without it is dead."""
    _nightly(instance, "clinic-a")
    going = _left_by_daemon(instance, "clinic-a", dg.DagsterRunStatus.STARTED)
    now = last_published(instance, "clinic-a") + HOUR

    alive = tenant_status(instance, "clinic-a", now, run_lock_held=True)
    unknown = tenant_status(instance, "clinic-a", now, run_lock_held=None)
    assert alive.healthy and unknown.healthy

    dead = tenant_status(instance, "clinic-a", now, run_lock_held=False)
    assert dead.verdicts == [FAILING]
    assert dead.problems == [
        f"run {going} is still called started, but no process holds the tenant's run lock: it "
        "died without finishing (killed, out of memory, a restart); nothing it had not published "
        "was published, and the next run marks it failed"
    ]
    assert "tenant clinic-a: FAILING" in dead.to_text()


def test_the_run_lock_is_read_from_the_kernel_without_taking_it(tmp_path: Path):
    from medspa.run_lock import data_dir_lock, lock_held

    assert lock_held(tmp_path) is None  # no lock file yet: unknown, judged as before
    with data_dir_lock(tmp_path):
        assert lock_held(tmp_path) is True
    assert lock_held(tmp_path) is False


def test_a_nightly_that_published_with_a_failed_error_check_is_not_healthy(instance):
    """A required table's file refused: the run publishes (the other tables' rows are good),
    its day of that table is missing, and the status said OK every night while only the
    webhook, if set, said so."""
    FILE_REFUSED.add("clinic-a")
    try:
        degraded = _nightly(instance, "clinic-a")
    finally:
        FILE_REFUSED.clear()
    now = last_published(instance, "clinic-a") + HOUR
    status = tenant_status(instance, "clinic-a", now)
    assert status.verdicts == [PUBLISHED_WITH_FAILURES]
    assert status.newest_deciding_run.run_id == degraded
    assert status.problems == [
        "the newest nightly published, but 1 check(s) of error severity failed in it: dashboards "
        "and BI show data a check found wrong (e.g. the day of a table whose file was refused); "
        "its Dagster run and the data-quality page name them"
    ]
    assert "tenant clinic-a: PUBLISHED WITH FAILURES" in status.to_text()
    _nightly(instance, "clinic-a")  # the corrected file delivered: healthy again
    assert tenant_status(instance, "clinic-a", now + HOUR).healthy
