"""`medspa status` says whether anything will start the next nightly: the daemon, the schedule.

The instance is real (SQLite, as a deployment's), the schedule is the project's own
`nightly_0200` loaded through a Dagster workspace as the UI loads it, and it is stopped the way
the UI's toggle stops it. The daemon's heartbeats and the schedule's tick are written as the
daemon writes them; times are fixed, never the wall clock.
"""

import datetime as dt
import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.scheduler.instigation import InstigatorStatus, TickData, TickStatus
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._daemon.types import DaemonHeartbeat
from test_tenant_status import _nightly, status_args

from medspa.cli import main
from medspa.commands.run import using_dagster_home
from orchestration.scheduler_status import (
    CODE_LOCATION,
    NIGHTLY_SCHEDULE,
    SCHEDULER_DAEMON,
    scheduler_status,
)
from orchestration.tenancy import TENANT_PARTITIONS

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC).timestamp()
DAY = dt.timedelta(hours=26)
MINUTE = 60.0

#: A code location holding the project's nightly job and schedule, as the UI loads one.
DEFINITIONS = """
import dagster as dg
from orchestration.defs.automation.jobs import NIGHTLY, nightly_schedule
from orchestration.tenancy import TENANT_PARTITIONS

@dg.asset(partitions_def=TENANT_PARTITIONS)
def serving() -> None: ...

@dg.asset
def kpi_benchmarks() -> None: ...

defs = dg.Definitions(
    assets=[serving, kpi_benchmarks], jobs=[NIGHTLY], schedules=[nightly_schedule("UTC")]
)
"""


def _heard(instance: dg.DagsterInstance, minutes_ago: float) -> None:
    """The scheduler daemon's heartbeat, as the daemon writes it every 30 s."""
    instance.add_daemon_heartbeat(
        DaemonHeartbeat(NOW - minutes_ago * MINUTE, SCHEDULER_DAEMON, "daemon-1", None)
    )


def _stop_schedule_and_tick(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    """Turn the nightly schedule off as the UI's toggle does, after one skipped 02:00 tick."""
    module = tmp_path / "location.py"
    module.write_text(textwrap.dedent(DEFINITIONS), encoding="utf-8")
    origin = LoadableTargetOrigin(python_file=str(module), attribute="defs")
    with in_process_test_workspace(instance, origin) as workspace:
        location = workspace.get_code_location(workspace.code_location_names[0])
        repository = next(iter(location.get_repositories().values()))
        schedule = repository.get_schedule(NIGHTLY_SCHEDULE)
        origin_id, selector_id = schedule.get_remote_origin_id(), schedule.selector_id
        instance.start_schedule(schedule)
        instance.create_tick(
            TickData(
                instigator_origin_id=origin_id,
                instigator_name=NIGHTLY_SCHEDULE,
                instigator_type=InstigatorType.SCHEDULE,
                status=TickStatus.SKIPPED,
                timestamp=NOW - 7 * 60 * MINUTE,
                selector_id=selector_id,
                skip_reason="no tenant partition yet",
            )
        )
        instance.stop_schedule(origin_id, selector_id, schedule)


@pytest.fixture
def instance(tmp_path: Path):
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as inst:
        yield inst


def test_a_deployment_without_a_daemon_is_described_not_judged(instance):
    """A nightly from cron never starts a daemon: nothing to page anyone about."""
    status = scheduler_status(instance, NOW, DAY)
    assert (status.daemon_running, status.schedule, status.problems) == (False, "unknown", [])
    assert "no Dagster daemon has run with this instance" in status.to_text()


def test_a_daemon_that_stopped_within_the_window_is_a_problem_one_long_gone_is_not(instance):
    _heard(instance, minutes_ago=2)
    status = scheduler_status(instance, NOW, DAY)
    assert (status.daemon_running, status.minutes_since_daemon, status.problems) == (True, 2, [])

    _heard(instance, minutes_ago=31)  # past Dagster's 30-minute tolerance
    status = scheduler_status(instance, NOW, DAY)
    assert not status.daemon_running
    assert status.problems == [
        "the Dagster daemon stopped 31 min ago: no schedule, sensor or queued run starts until "
        "it runs again (restart it: `dagster-daemon run`, or the deployment's daemon service)"
    ]

    _heard(instance, minutes_ago=27 * 60)  # a `make dev` of long ago, the nightly from cron
    status = scheduler_status(instance, NOW, DAY)
    assert (status.daemon_running, status.problems) == (False, [])
    assert "Dagster daemon NOT running (last heard 27.0 h ago)" in status.to_text()


def test_the_nightly_schedule_turned_off_while_the_daemon_runs_is_a_problem(instance, tmp_path):
    _stop_schedule_and_tick(instance, tmp_path)
    # No daemon: the stored state is said, but nothing would run it anyway.
    assert scheduler_status(instance, NOW, DAY).problems == []

    _heard(instance, minutes_ago=1)
    status = scheduler_status(instance, NOW, DAY)
    assert status.schedule == "off"
    assert status.last_tick_at == "2026-12-06T02:00:00+00:00"
    assert status.last_tick == "skipped (no tenant partition yet)"
    assert status.problems == [
        "the nightly schedule nightly_0200 is turned off: no tenant's nightly starts at 02:00 "
        "(turn it on in the UI: Automation)"
    ]
    assert status.to_text().splitlines()[0] == (
        "scheduler: Dagster daemon running (heard 1 min ago); schedule nightly_0200 OFF "
        "(stopped in the UI), newest tick 2026-12-06T02:00:00+00:00: skipped (no tenant "
        "partition yet)"
    )


def test_medspa_status_exits_1_when_the_daemon_stopped_though_every_tenant_is_healthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    data, args = status_args(tmp_path, monkeypatch)
    home = data / "dagster"
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a", "clinic-b"])
        _nightly(inst, "clinic-a")
        _nightly(inst, "clinic-b")
        # `medspa status` reads the clock, as every freshness verdict does: the heartbeat is
        # written 45 minutes before now.
        inst.add_daemon_heartbeat(
            DaemonHeartbeat(
                dt.datetime.now(dt.UTC).timestamp() - 45 * MINUTE, SCHEDULER_DAEMON, "d", None
            )
        )

    assert main(args) == 1
    out = capsys.readouterr().out
    assert "tenant clinic-a: OK" in out and "tenant clinic-b: OK" in out
    assert "the Dagster daemon stopped 45 min ago" in out
    assert "2 of 2 tenant(s) healthy; the scheduler is NOT (above)" in out

    assert main([*args, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["healthy"] is False
    assert report["scheduler"]["daemon_running"] is False
    assert all(t["healthy"] for t in report["tenants"])


def test_our_code_locations_state_is_the_one_judged(instance, monkeypatch):
    """An instance opened once under another location name (`dagster dev -m ...`) holds a
    second state of the schedule: `medspa status` reads the one of the location `medspa`."""

    def state(location: str, status: InstigatorStatus) -> SimpleNamespace:
        return SimpleNamespace(
            instigator_name=NIGHTLY_SCHEDULE,
            status=status,
            repository_selector=SimpleNamespace(location_name=location),
            instigator_origin_id=f"origin-{location}",
            selector_id=f"selector-{location}",
        )

    states = [
        state("orchestration.definitions", InstigatorStatus.DECLARED_IN_CODE),
        state(CODE_LOCATION, InstigatorStatus.STOPPED),
    ]
    monkeypatch.setattr(instance, "all_instigator_state", lambda **_: states)
    _heard(instance, minutes_ago=1)
    status = scheduler_status(instance, NOW, DAY)
    assert status.schedule == "off"
    assert status.problems[-1].startswith(f"the nightly schedule {NIGHTLY_SCHEDULE} is turned off")
