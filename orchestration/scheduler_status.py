"""Is anything going to start tonight's runs? The Dagster daemon and the nightly schedule.

A tenant's status (`orchestration.tenant_status`) tells *that* no nightly ended lately; this
tells *why* where the instance knows it, so that a person paged at 04:00 knows whether to
restart the daemon or turn the schedule back on, and a monitor learns of a stopped daemon the
hour it stops, not a day later when the marts go stale.

Read from the same instance as the run history (the daemon's heartbeats, the schedule's stored
state and its newest tick), never from the code: `medspa status` needs no code location.

- The daemon beats every 30 s; one not heard for `DAEMON_SILENT` (Dagster's UI uses the same
  tolerance) is not running. That is a problem when it was heard within the marts' freshness
  window: it stopped lately and the next 02:00 will pass unseen. A daemon last heard long ago,
  or never, is how a deployment whose nightly is `medspa run` from cron looks (or a laptop that
  ran `make dev` once): said, not judged.
- The schedule starts on (`DefaultScheduleStatus.RUNNING`); turned off in the UI, the instance
  stores it as stopped. Stopped while the daemon runs is a problem: nobody starts the nightly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType, TickStatus

from orchestration.tenant_status import iso_utc

#: The schedule that starts every tenant's nightly (`orchestration.defs.automation.jobs`).
NIGHTLY_SCHEDULE = "nightly_0200"
#: The code location's name everywhere Dagster is started (`[tool.dagster]`, the workspaces).
CODE_LOCATION = "medspa"

#: The daemon that evaluates schedules: its heartbeat says the 02:00 tick will happen.
SCHEDULER_DAEMON = "SCHEDULER"

#: A daemon not heard for longer is not running (Dagster's UI's tolerance).
DAEMON_SILENT = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class SchedulerStatus:
    """What the instance knows of the daemon and the nightly schedule; `problems` empty = fine."""

    daemon_last_heard_at: str | None
    minutes_since_daemon: float | None
    daemon_running: bool
    schedule: str  # "on", "off", or "unknown" (no daemon has evaluated it yet)
    last_tick_at: str | None
    last_tick: str | None  # what the newest tick did, in words
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_text(self) -> str:
        minutes = self.minutes_since_daemon
        if minutes is None:
            daemon = "no Dagster daemon has run with this instance (a nightly from cron needs none)"
        elif self.daemon_running:
            daemon = f"Dagster daemon running (heard {_age(minutes)} ago)"
        else:
            daemon = f"Dagster daemon NOT running (last heard {_age(minutes)} ago)"
        schedule = {
            "on": f"schedule {NIGHTLY_SCHEDULE} on",
            "off": f"schedule {NIGHTLY_SCHEDULE} OFF (stopped in the UI)",
            "unknown": f"schedule {NIGHTLY_SCHEDULE} not evaluated by a daemon yet",
        }[self.schedule]
        if self.last_tick_at is not None:
            schedule += f", newest tick {self.last_tick_at}: {self.last_tick}"
        lines = [f"scheduler: {daemon}; {schedule}"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def _age(minutes: float) -> str:
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.0f} days"


def _tick_words(tick) -> str:
    """What a tick did, as a person reads it."""
    if tick.status == TickStatus.SUCCESS:
        return f"{len(tick.run_ids)} run(s) requested"
    if tick.status == TickStatus.SKIPPED:
        return f"skipped ({tick.skip_reason})" if tick.skip_reason else "skipped"
    if tick.status == TickStatus.FAILURE:
        message = tick.error.message.strip().splitlines()[0] if tick.error else "no message"
        return f"failed: {message}"
    return "running"


def scheduler_status(
    instance: dg.DagsterInstance, now: float, max_age: dt.timedelta
) -> SchedulerStatus:
    """The daemon's and the nightly schedule's state at `now` (epoch seconds); `max_age` is the
    marts' freshness window (a daemon that stopped within it is a problem)."""
    heartbeat = instance.get_daemon_heartbeats().get(SCHEDULER_DAEMON)
    minutes = None if heartbeat is None else max(0.0, (now - heartbeat.timestamp) / 60)
    running = minutes is not None and minutes * 60 <= DAEMON_SILENT.total_seconds()
    problems = []
    if minutes is not None and not running and minutes * 60 <= max_age.total_seconds():
        problems.append(
            f"the Dagster daemon stopped {_age(minutes)} ago: no schedule, sensor or queued run "
            "starts until it runs again (restart it: `dagster-daemon run`, or the deployment's "
            "daemon service)"
        )
    states = [
        state
        for state in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
        if state.instigator_name == NIGHTLY_SCHEDULE
    ]
    # Our code location (`[tool.dagster]`, the Docker and Kubernetes workspaces) first: an
    # instance once opened under another location name holds a second, stale state.
    states.sort(key=lambda s: s.repository_selector.location_name != CODE_LOCATION)
    state = states[0] if states else None
    if state is None:
        schedule = "unknown"
    elif state.status == InstigatorStatus.STOPPED:
        schedule = "off"
        if running or problems:
            problems.append(
                f"the nightly schedule {NIGHTLY_SCHEDULE} is turned off: no tenant's nightly "
                "starts at 02:00 (turn it on in the UI: Automation)"
            )
    else:
        schedule = "on"
    ticks = (
        instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        if state is not None
        else []
    )
    tick = ticks[0] if ticks else None
    return SchedulerStatus(
        daemon_last_heard_at=None if heartbeat is None else iso_utc(heartbeat.timestamp),
        minutes_since_daemon=None if minutes is None else round(minutes, 1),
        daemon_running=running,
        schedule=schedule,
        last_tick_at=None if tick is None else iso_utc(tick.timestamp),
        last_tick=None if tick is None else _tick_words(tick),
        problems=problems,
    )
