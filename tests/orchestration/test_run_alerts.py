"""A run that did not publish tells a person: one JSON POST to MEDSPA_ALERT_WEBHOOK_URL.

A real HTTP server on 127.0.0.1 receives the posts. The run-log sensor's path runs a real
Dagster run blocked by its check (the small job of test_run_history.py); `medspa run`'s path
goes through `_record_run` as the command calls it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from test_run_history import FAILING, _definitions, _tick, instance, nightly_job  # noqa: F401

from medspa.commands import run as run_command
from medspa.settings import Settings, SettingsError
from orchestration import run_log
from orchestration.resources import settings_run_config
from orchestration.run_alerts import alert_payload, send_run_alert
from orchestration.summary import RunSummary

AT = dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)
TOKEN = "T000/B000/secret-token"


class Receiver:
    """What the webhook server received, and how it answers (`status`)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        self.url = ""


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            receiver.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(receiver.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/services/{TOKEN}"
    yield receiver
    server.shutdown()
    server.server_close()


def _record(status: str, blocked_by: str | None = None) -> run_log.RunRecord:
    return run_log.RunRecord(
        run_id="r1",
        started_at=AT,
        finished_at=AT + dt.timedelta(minutes=3),
        rows_loaded=1200,
        checks_passed=390,
        checks_warned=1,
        checks_failed=1 if blocked_by else 0,
        status=status,
        blocked_by=blocked_by,
        demo_key_on_real_data=False,
    )


def test_a_blocked_run_posts_who_what_and_why(webhook: Receiver) -> None:
    blocked = _record(run_log.BLOCKED, "raw_pos/invoices:quarantine_share")
    assert send_run_alert(webhook.url, "glow-austin", blocked, warn=pytest.fail)
    (body,) = webhook.bodies
    assert body == alert_payload("glow-austin", blocked)
    assert body["text"] == (
        "medspa-warehouse: tenant 'glow-austin', run r1: blocked by failed checks: "
        "raw_pos/invoices:quarantine_share. Nothing new was published; dashboards and BI keep "
        "the last published data."
    )
    assert (body["status"], body["checks_failed"], body["rows_loaded"]) == ("blocked", 1, 1200)
    assert body["started_at"] == "2026-12-06T07:00:00+00:00"


@pytest.mark.parametrize("status", [run_log.PUBLISHED, run_log.CANCELLED, run_log.NOT_PUBLISHED])
def test_runs_that_published_or_were_stopped_by_a_person_post_nothing(
    webhook: Receiver, status: str
) -> None:
    assert not send_run_alert(webhook.url, "default", _record(status), warn=pytest.fail)
    assert webhook.bodies == []


def test_a_run_that_published_despite_a_failed_error_check_says_so(webhook: Receiver) -> None:
    """A refused file of a required table fails its `contract_load` check (error severity, not
    blocking): the run publishes a night without that table's day, and the owner is told."""
    published = dataclasses.replace(_record(run_log.PUBLISHED), checks_failed=2)
    assert send_run_alert(webhook.url, "default", published, warn=pytest.fail)
    (body,) = webhook.bodies
    assert (body["status"], body["checks_failed"]) == ("published_with_failures", 2)
    assert body["text"].startswith(
        "medspa-warehouse: tenant 'default', run r1: published, but 2 check(s) of error "
        "severity failed"
    )


def test_without_a_webhook_nothing_is_sent() -> None:
    assert not send_run_alert(None, "default", _record(run_log.FAILED), warn=pytest.fail)


def test_a_webhook_that_fails_is_tried_twice_then_warned_about_without_its_token(
    webhook: Receiver,
) -> None:
    webhook.status = 500
    warnings: list[str] = []
    slept: list[float] = []
    sent = send_run_alert(
        webhook.url, "default", _record(run_log.FAILED), warn=warnings.append, sleep=slept.append
    )
    assert not sent and len(webhook.bodies) == 2 and slept == [2.0]
    (warning,) = warnings
    assert warning.startswith("alert for run r1 not delivered to 127.0.0.1 (HTTPError: ")
    assert "secret-token" not in warning


def test_an_unreachable_webhook_never_fails_the_caller() -> None:
    warnings: list[str] = []
    url = f"http://127.0.0.1:9/services/{TOKEN}"  # discard port: nothing listens
    sent = send_run_alert(
        url, "default", _record(run_log.FAILED), warn=warnings.append, sleep=lambda s: None
    )
    assert not sent and len(warnings) == 1 and "secret-token" not in warnings[0]


@pytest.mark.parametrize("value", ["hooks.example.com/x", "ftp://hooks.example.com/x", "https://"])
def test_a_webhook_that_is_not_an_http_url_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", value)
    with pytest.raises(SettingsError, match="MEDSPA_ALERT_WEBHOOK_URL is not an http") as caught:
        Settings.from_env(tmp_path)
    assert value not in str(caught.value) or value == "https://"


def test_medspa_runs_own_failed_run_posts_its_alert(
    webhook: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _record(run_log.FAILED)
    monkeypatch.setattr(run_log, "record_of", lambda *a, **k: record)
    monkeypatch.setattr(run_log, "write_record", lambda path, rec: None)
    settings = replace(Settings.from_env(tmp_path / "data"), alert_webhook_url=webhook.url)
    summary = RunSummary(run_id="r1", success=False, failures=["dbt_build: dbt error"])
    run_command._record_run(object(), summary, settings, tenant="default")
    assert [b["status"] for b in webhook.bodies] == ["failed"]


def test_the_run_log_sensor_posts_for_a_blocked_run_the_daemon_launched(
    instance,  # noqa: F811
    webhook: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", webhook.url)
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).close()
    defs = _definitions()
    cursor = _tick(instance, defs, "run_log_failed_runs", None)
    FAILING.add("default")
    blocked = nightly_job().execute_in_process(
        instance=instance,
        partition_key="default",
        run_config=settings_run_config(data, tmp_path / "landing"),
        raise_on_error=False,
    )
    assert not blocked.success

    _tick(instance, defs, "run_log_failed_runs", cursor)

    (body,) = webhook.bodies
    assert (body["tenant"], body["run_id"], body["status"]) == (
        "default",
        blocked.run_id,
        "blocked",
    )
    assert body["blocked_by"] == "raw_pms/appointments:unique_keys"


def test_a_reply_that_is_not_http_is_warned_about_not_raised() -> None:
    """`http.client` raises its own errors (here BadStatusLine), which are not OSErrors."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_garbage() -> None:
        for _ in range(2):  # the first try and the retry
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(b"garbage\r\n\r\n")
            conn.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/services/{TOKEN}"
    warnings: list[str] = []
    sent = send_run_alert(
        url, "default", _record(run_log.FAILED), warn=warnings.append, sleep=lambda s: None
    )
    listener.close()
    assert not sent and len(warnings) == 1
    assert "BadStatusLine" in warnings[0] and "secret-token" not in warnings[0]


def test_a_webhook_url_with_a_space_is_refused(monkeypatch, tmp_path) -> None:
    """`http.client` would refuse it at the first alert with the whole path (the token) in its
    message: refused when the settings are built instead, without echoing it."""
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", f"https://hooks.example.com/{TOKEN} x")
    with pytest.raises(SettingsError, match="no space or control character") as caught:
        Settings.from_env(tmp_path)
    assert "secret-token" not in str(caught.value)


def test_the_record_is_written_before_the_alert_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    record = _record(run_log.BLOCKED, "raw_pms/appointments:unique_keys")
    monkeypatch.setattr(run_log, "record_of", lambda *a, **k: record)
    monkeypatch.setattr(run_log, "write_record", lambda path, rec: order.append("recorded"))
    monkeypatch.setattr(
        run_command, "_alert", lambda inst, rec, settings, tenant: order.append("alerted")
    )
    summary = RunSummary(run_id="r1", success=False, failures=["raw: blocked"])
    run_command._record_run(object(), summary, Settings.from_env(tmp_path), tenant="default")
    assert order == ["recorded", "alerted"]


def test_a_tenant_whose_key_cannot_be_used_posts_that_it_was_not_run(
    webhook: Receiver, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """`medspa run` refuses a tenant whose key variable is unset or short before any Dagster
    run exists, so no sensor hears of it: the command posts itself, naming the variable and
    never its value."""
    from medspa.cli import main

    registry = tmp_path / "tenants.yml"
    registry.write_text(
        f"tenants:\n  - {{name: clinic-a, landing: {tmp_path / 'a'}, phi_key_env: CLINIC_A_KEY}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.delenv("MEDSPA_TENANTS_FILE", raising=False)
    argv = ["run", "--tenants-file", str(registry), "--data-dir", str(tmp_path / "data")]

    monkeypatch.delenv("CLINIC_A_KEY", raising=False)
    assert main(argv) == 2
    monkeypatch.setenv("CLINIC_A_KEY", "short-secret-value")
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err

    assert [(b["status"], b["tenant"]) for b in webhook.bodies] == [("refused", "clinic-a")] * 2
    unset, short = (b["reason"] for b in webhook.bodies)
    assert "CLINIC_A_KEY" in unset and "CLINIC_A_KEY" in short
    assert "short-secret-value" not in json.dumps(webhook.bodies)
    assert webhook.bodies[0]["text"].startswith("medspa-warehouse: tenant 'clinic-a' was not run: ")
    assert not (tmp_path / "data" / "dagster").exists()  # no run was started


def _run_failing_at_set_up(
    failure: Callable[..., None], webhook: Receiver, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """`medspa run` on `<tmp_path>/data`, whose set-up (`Settings.ensure_dirs`) raises by
    `failure`, posting to `webhook`; its exit status."""
    from medspa.cli import main
    from medspa.settings import Settings

    monkeypatch.setattr(Settings, "ensure_dirs", failure)
    monkeypatch.setenv("MEDSPA_ALERT_WEBHOOK_URL", webhook.url)
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "landing").mkdir()
    return main(
        ["run", "--data-dir", str(tmp_path / "data"), "--landing", str(tmp_path / "landing")]
    )


def test_a_run_stopped_by_a_full_disk_says_so_in_one_line_and_posts_it(
    webhook: Receiver, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """A full disk or a read-only data dir ended `medspa run` in a 110-line traceback, with no
    alert and no run-log row: a cron nightly failed unseen until the next night."""

    data = tmp_path / "data"

    def full_disk(self) -> None:  # Settings.ensure_dirs
        raise OSError(28, "No space left on device", str(self.data_dir / "dagster"))

    assert _run_failing_at_set_up(full_disk, webhook, tmp_path, monkeypatch) == 1
    printed = capsys.readouterr()
    assert f"error: OSError: No space left on device: {data / 'dagster'}\n" in printed.err
    assert "Traceback" not in printed.out + printed.err
    ((status, tenant, reason, text),) = [
        (b["status"], b["tenant"], b["reason"], b["text"]) for b in webhook.bodies
    ]
    assert (status, tenant) == ("failed", "default")
    assert reason == f"OSError: No space left on device: {data / 'dagster'}"
    assert text.startswith("medspa-warehouse: tenant 'default''s run stopped with an error: ")


def test_a_full_disk_under_dagsters_run_history_says_so_in_one_line(
    webhook: Receiver, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """Dagster keeps its run history in SQLite in the data dir: a disk that filled during a
    run ended it in a 100-line traceback of SQLAlchemy's `OperationalError` (no OSError), and
    `medspa status` crashed the same way. Both now say it in one line."""
    import sqlite3

    import sqlalchemy.exc

    from medspa.cli import main

    data = tmp_path / "data"

    def full_disk(self) -> None:  # Settings.ensure_dirs
        cause = sqlite3.OperationalError("database or disk is full")
        raise sqlalchemy.exc.OperationalError("INSERT INTO event_logs ...", {}, cause) from cause

    assert _run_failing_at_set_up(full_disk, webhook, tmp_path, monkeypatch) == 1
    printed = capsys.readouterr()
    assert "error: OperationalError: database or disk is full\n" in printed.err
    assert "free the space or fix the permission, then run again" in printed.err
    assert "Traceback" not in printed.out + printed.err
    assert [b["status"] for b in webhook.bodies] == ["failed"]

    def unreadable(*_args: object) -> None:
        raise sqlalchemy.exc.OperationalError(
            "SELECT ...", {}, sqlite3.OperationalError("disk I/O error")
        )

    from medspa.commands import status

    monkeypatch.setattr(status, "_statuses", unreadable)
    assert main(["status", "--data-dir", str(data)]) == 1
    printed = capsys.readouterr()
    assert "error: cannot read the run history in " in printed.err
    assert "(OperationalError: disk I/O error): a full disk or an unreadable file" in printed.err
    assert "Traceback" not in printed.out + printed.err


def test_only_the_machines_trouble_is_taken_for_it():
    """An error of this project's own, or a bug raised while an OSError was being handled, is
    not a full disk: it keeps its own handler (or its traceback)."""
    import sqlite3

    from medspa.machine_errors import machine_error
    from medspa.settings import SettingsError

    disk = OSError(28, "No space left on device")
    try:
        try:
            raise disk
        except OSError:
            raise SettingsError("the data dir cannot be a folder") from None
    except SettingsError as own:
        assert machine_error(own) is None
    try:
        try:
            raise disk
        except OSError:
            {}["dagster_home"]  # a bug in a fallback
    except KeyError as bug:
        assert machine_error(bug) is None
    wrapped = RuntimeError("step failed")
    wrapped.__cause__ = sqlite3.OperationalError("database or disk is full")
    assert machine_error(wrapped) is wrapped.__cause__
    assert machine_error(sqlite3.OperationalError("no such table: runs")) is None
