"""`medspa run --unattended`: the nightly schedule's run, started by cron or a systemd timer.

Three things set a scheduled run apart from a person's, and a cron line used to get none of
them: its load leaves files an exporter may still be writing, it waits for a run of the tenant
in progress instead of being refused (the night would have no refresh), and a signal that stops
it (the scheduler's timeout) is a failed nightly with its alert, not a run a person stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from holders import HOLD_RUN_LOCK, REPO, let_go, start_holding
from test_run_alerts import webhook  # noqa: F401 (a fixture: an HTTP server on 127.0.0.1)

from medspa.commands import run as run_command
from medspa.commands.run_tenants import tenant_command
from medspa.settings import Settings
from orchestration import run_log
from orchestration.summary import RunSummary
from orchestration.tenancy import SETTLE_TAG, TENANT_TAG

pytestmark = pytest.mark.filterwarnings("ignore::medspa.settings.DemoKeyWarning")


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)


class _FakeRun:
    """What `execute` needs of the nightly's run: the tags it was started with."""

    def __init__(self) -> None:
        self.tags: dict[str, str] | None = None
        self.recorded: list[bool] = []

    def execute(self, job: object, instance: object, terminal: object, **kw: object) -> object:
        self.tags = dict(kw["tags"])  # type: ignore[arg-type]
        return argparse.Namespace(run_id="r1", success=True)

    def record(self, instance: object, summary: object, settings: object, **kw: object) -> None:
        self.recorded.append(bool(kw.get("unattended")))


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> _FakeRun:
    """`execute` as it is, around a nightly that does nothing (its steps are tested apart)."""
    from orchestration import progress, summary

    fake = _FakeRun()
    monkeypatch.setattr(progress, "execute_with_progress", fake.execute)
    monkeypatch.setattr(
        summary, "summarize", lambda *a, **kw: RunSummary(run_id="r1", success=True)
    )
    monkeypatch.setattr(run_command, "_record_run", fake.record)
    monkeypatch.setattr(run_command, "_prune_history", lambda *a: None)
    return fake


def test_an_unattended_run_is_tagged_as_the_schedule_tags_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_run: _FakeRun
):
    """The tags the raw step reads for its settle window (`SETTLE_TAG`: files modified in the
    last 30 s wait for the next run) and the resource reads to wait for the lock; a person's
    run gets neither."""
    from orchestration.defs.automation.landing_sensor import UNATTENDED_RUN_TAGS

    _clean_env(monkeypatch)
    (tmp_path / "landing").mkdir()
    run_command.execute(tmp_path / "data", tmp_path / "landing", unattended=True)
    assert fake_run.tags == {**UNATTENDED_RUN_TAGS, TENANT_TAG: "default"}
    assert fake_run.tags[SETTLE_TAG] == "30"
    assert fake_run.recorded == [True]

    run_command.execute(tmp_path / "data", tmp_path / "landing")
    assert fake_run.tags == {TENANT_TAG: "default"}
    assert fake_run.recorded == [True, False]


def test_an_unattended_run_waits_for_the_tenants_lock_and_then_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_run: _FakeRun,
):
    """A person's `medspa run` holds the tenant when cron starts the nightly: it waits, says
    what for, and runs once the lock is free."""
    _clean_env(monkeypatch)
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "landing").mkdir()
    holder = start_holding(HOLD_RUN_LOCK, data)
    assert holder.stdin is not None
    release = threading.Timer(3.0, holder.stdin.close)
    release.start()
    try:
        run_command.execute(data, tmp_path / "landing", unattended=True)
    finally:
        release.join()
        let_go(holder)
    assert fake_run.recorded == [True]  # it ran, after the holder let go
    waited = capsys.readouterr().err
    assert "waiting up to 1800 s: " in waited
    assert f"the tenant's next run (pid {holder.pid}) is running on {data}" in waited


@pytest.mark.parametrize("unattended", [False, True])
def test_an_interrupted_unattended_run_is_a_failed_nightly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unattended: bool
):
    """Ctrl-C or SIGTERM of a person's run: cancelled, tagged so, no alert. Of an unattended
    run: the scheduler stopped it (a timeout), so it is recorded as failed, which alerts and
    makes `medspa status` say FAILING. Either way the record waits for the next write to the
    warehouse (an interrupted load's process may not open the file again)."""
    asked: list[bool] = []
    tagged: list[str] = []
    kept: list[object] = []
    monkeypatch.setattr(
        run_log,
        "record_of",
        lambda *a, interrupted=False, **kw: asked.append(interrupted) or "record",
    )
    monkeypatch.setattr(run_log, "defer_record", lambda path, record: kept.append(record))
    monkeypatch.setattr(
        run_command, "_tag_interrupted", lambda instance, run_id: tagged.append(run_id)
    )
    monkeypatch.setattr(run_command, "_alert", lambda *a: None)
    summary = RunSummary(run_id="r1", success=False, failures=["raw_landing: Query interrupted"])
    settings = Settings.from_env(tmp_path / "data")
    run_command._record_run(object(), summary, settings, tenant="default", unattended=unattended)
    assert asked == [not unattended]  # recorded as stopped by a person only when one could be
    assert tagged == ([] if unattended else ["r1"])
    assert kept == ["record"]


def test_sigterm_while_an_unattended_run_waits_posts_a_failed_alert(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    webhook,  # noqa: F811 (the fixture imported above)
):
    """The scheduler's timeout ends the run before its Dagster run began (it waited for the
    lock all that time): no run record will ever say so, so the run posts `failed` itself, and
    exits 130 saying it was reported. Before, SIGTERM ended the process there without a word."""
    data, landing = tmp_path / "data", tmp_path / "landing"
    data.mkdir()
    landing.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"}
    }
    env["MEDSPA_ALERT_WEBHOOK_URL"] = webhook.url
    holder = start_holding(HOLD_RUN_LOCK, data)
    command = [sys.executable, "-m", "medspa.cli", "run", "--unattended"]
    cron = subprocess.Popen(
        [*command, "--data-dir", str(data), "--landing", str(landing)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cron.stderr is not None
        for line in cron.stderr:  # the demo key's warning may come first
            if line.startswith("warning: waiting up to 1800 s"):
                break
        else:
            pytest.fail("the unattended run never said it was waiting for the lock")
        cron.send_signal(signal.SIGTERM)
        out, _ = cron.communicate(timeout=120)
    finally:
        let_go(holder)
        if cron.poll() is None:
            cron.kill()
    assert cron.returncode == 130
    assert "reported as a failed nightly" in out
    (body,) = webhook.bodies
    assert (body["tenant"], body["status"]) == ("default", "failed")
    assert "stopped by a signal before the run finished" in body["reason"]


def test_all_tenants_unattended_runs_every_tenant_unattended(tmp_path: Path):
    """`medspa run --all-tenants --unattended` from cron: each tenant's own process is one."""
    args = argparse.Namespace(data_dir=None, unattended=True)
    command = tenant_command(args, "glow-austin", tmp_path / "tenants.yml")
    assert command[-1] == "--unattended"
    args.unattended = False
    assert "--unattended" not in tenant_command(args, "glow-austin", tmp_path / "tenants.yml")


def test_a_sigterm_while_an_ended_run_reports_itself_is_ignored():
    """Between the run's end and its record and alert, a scheduler's further SIGTERM (a
    supervisor signalling the whole group after `--all-tenants` forwarded one) is ignored, and
    the handler before is back afterwards."""
    heard: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: heard.append(signum))
    try:
        with run_command.sigterm_ignored(True):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)  # the signal is handled between bytecodes: give it the chance
        assert heard == []
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        assert heard == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


def test_the_demo_has_no_unattended_option():
    """`medspa demo` is a person's command: it takes no `--unattended` it would ignore."""
    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser, tenants=False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--unattended"])
    run_command.add_arguments(full := argparse.ArgumentParser())
    assert full.parse_args(["--unattended"]).unattended is True
