"""The systemd example in deploy/systemd/: the nightly without the Dagster daemon.

A deployment that schedules `medspa run` itself gets, from these two units, what the daemon's
schedule gives its runs: the same hour and time zone, a run that is the schedule's
(`--unattended`: the settle window, the wait for the lock, a stop that alerts), and a timeout
whose SIGTERM reaches `medspa` alone, so it can record and alert before anything else is killed.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medspa.cli import build_parser
from medspa.settings import Settings
from orchestration.defs.automation.jobs import nightly_schedule
from orchestration.resources import UNATTENDED_LOCK_WAIT_SECONDS

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
SERVICE, TIMER = UNITS / "medspa-nightly.service", UNITS / "medspa-nightly.timer"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _seconds(span: str) -> int:
    units = {"s": 1, "min": 60, "h": 3600}
    number = span.rstrip("hmins")
    return int(number) * units[span[len(number) :]]


def _medspa_args(command: str) -> object:
    """The medspa CLI's own parse of a unit's command line (its executable must be medspa)."""
    argv = shlex.split(command)
    assert Path(argv[0]).name == "medspa", argv
    return build_parser().parse_args(argv[1:])


def test_the_service_runs_the_nightly_unattended():
    service = _unit(SERVICE)["Service"]
    args = _medspa_args(service["ExecStart"])
    assert (args.command, args.unattended) == ("run", True)
    # the registry's variant, given in the unit's comment, parses as well
    (variant,) = [
        line.split("ExecStart=", 1)[1]
        for line in SERVICE.read_text(encoding="utf-8").splitlines()
        if line.startswith("#") and "ExecStart=" in line
    ]
    variant_args = _medspa_args(variant)
    assert (variant_args.all_tenants, variant_args.unattended) == (True, True)
    assert service["UMask"] == "0077"  # the data dir holds raw PHI


def test_a_timeout_stops_medspa_alone_with_sigterm_after_its_lock_wait():
    """KillMode=mixed: SIGTERM to the main process only (`medspa`, which records the run as
    failed and alerts; `--all-tenants` forwards it to each tenant); SIGKILL to the rest only
    after TimeoutStopSec. A timeout shorter than the wait for the lock would stop every night
    an engineer's run delayed."""
    service = _unit(SERVICE)["Service"]
    assert (service["Type"], service["KillMode"], service["KillSignal"]) == (
        "oneshot",
        "mixed",
        "SIGTERM",
    )
    assert _seconds(service["TimeoutStartSec"]) > 2 * UNATTENDED_LOCK_WAIT_SECONDS
    assert _seconds(service["TimeoutStopSec"]) >= 60


def test_the_timer_fires_when_the_schedule_would(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MEDSPA_SCHEDULE_TZ", raising=False)  # the default, which the unit names
    schedule = nightly_schedule()
    minute, hour, *every_day = schedule.cron_schedule.split()  # type: ignore[union-attr]
    assert every_day == ["*", "*", "*"]
    timer = _unit(TIMER)["Timer"]
    day, at, zone = timer["OnCalendar"].split()
    assert day == "*-*-*"
    assert at == f"{int(hour):02d}:{int(minute):02d}:00"
    assert zone == Settings.from_env().schedule_timezone == schedule.execution_timezone
    assert timer["Unit"] == SERVICE.name and timer["Persistent"] == "true"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_reads_both_units_without_a_warning(tmp_path: Path):
    """`systemd-analyze verify` on copies whose command is this checkout's `medspa` (it must
    exist and be executable); a setting systemd does not understand is a warning on stderr,
    which must stay empty."""
    medspa = Path(sys.executable).with_name("medspa")
    text = SERVICE.read_text(encoding="utf-8")
    text = text.replace("/srv/medspa-warehouse/.venv/bin/medspa", str(medspa))
    text = text.replace("WorkingDirectory=/srv/medspa-warehouse", f"WorkingDirectory={REPO}")
    (tmp_path / SERVICE.name).write_text(text, encoding="utf-8")
    shutil.copy(TIMER, tmp_path / TIMER.name)
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", _unit(TIMER)["Timer"]["OnCalendar"]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert calendar.returncode == 0, calendar.stderr
