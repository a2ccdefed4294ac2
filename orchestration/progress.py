"""Step progress of a run, for the terminal (`medspa run`) and for the UI (asset metadata).

A large chain's nightly job runs for minutes; a person watching it should see which step is
running and how long each took, wherever they watch:

- `medspa run` prints a line when each step starts and when it ends, with its duration. The
  lines come from Dagster's own step events (`STEP_START`, `STEP_SUCCESS`, `STEP_FAILURE`,
  `STEP_SKIPPED`), received through an instance event listener, so the terminal and the run's
  event log cannot disagree.
- Each asset's materialization carries `step_started_at` and `step_seconds` (seconds since its
  step started when the materialization was reported): the same figures, in the asset catalog.
"""

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

import dagster as dg
from dagster import DagsterEventType

_STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
}


class StepPrinter:
    """An instance event listener that prints one line per step start and end.

    `clock` gives the local time shown at the start of each line (a test may fix it); the
    duration is the difference of the events' own timestamps.
    """

    def __init__(self, out: TextIO, clock: Callable[[float], str] | None = None) -> None:
        self.out: TextIO | None = out
        self.clock = clock or (lambda ts: dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S"))
        self.started: dict[str, float] = {}

    def __call__(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None or event.event_type not in _STEP_EVENTS or not event.step_key:
            return
        step, ts = event.step_key, entry.timestamp
        if event.event_type == DagsterEventType.STEP_START:
            self.started[step] = ts
            self._line(ts, f"{step} started")
            return
        began = self.started.pop(step, None)
        took = f" in {ts - began:.1f} s" if began is not None else ""
        outcome = {
            DagsterEventType.STEP_SUCCESS: "done",
            DagsterEventType.STEP_FAILURE: "FAILED",
            DagsterEventType.STEP_SKIPPED: "skipped",
        }[event.event_type]
        self._line(ts, f"{step} {outcome}{took}")

    def _line(self, ts: float, text: str) -> None:
        if self.out is None:
            return
        try:
            self.out.write(f"[{self.clock(ts)}] {text}\n")
            self.out.flush()
        except OSError:  # the terminal went away (closed pipe): the run itself goes on
            self.out = None


class FirstStepHook:
    """An instance event listener that calls `action` once, when the run's first step starts.

    For work that should overlap the run's steps but not Dagster's own start-up (creating the
    run and its ~500 planned events is Python holding the GIL): `medspa run` starts GX's import
    on a background thread here, while the load runs mostly inside DuckDB.
    """

    def __init__(self, action: Callable[[], Any]) -> None:
        self.action: Callable[[], Any] | None = action

    def __call__(self, entry: Any) -> None:
        event = entry.dagster_event
        if self.action is None or event is None:
            return
        if event.event_type == DagsterEventType.STEP_START:
            action, self.action = self.action, None
            action()


def execute_with_progress(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    out: TextIO | None,
    on_first_step: Callable[[], Any] | None = None,
    **kwargs: Any,
) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process(**kwargs)` printing each step's start and end on `out` (if any),
    and calling `on_first_step` (if any) when the first step starts."""
    run_id = kwargs.pop("run_id", None) or str(uuid.uuid4())  # Dagster's own run id form
    if out is not None:
        instance.add_event_listener(run_id, StepPrinter(out))
    if on_first_step is not None:
        instance.add_event_listener(run_id, FirstStepHook(on_first_step))
    return job.execute_in_process(instance=instance, run_id=run_id, **kwargs)


class StepTimer:
    """When the current step started; `metadata()` is what each materialization carries."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._start = time.perf_counter()

    def metadata(self) -> dict[str, Any]:
        return {
            "step_started_at": dg.MetadataValue.timestamp(self.started_at),
            "step_seconds": round(time.perf_counter() - self._start, 2),
        }


def with_step_metadata(events: Iterable[Any], timer: StepTimer) -> Iterator[Any]:
    """Pass a step's events through, adding the step's timing to each materialization.

    Used on dbt's event stream: every model shows when its step started and how far into the
    step it finished, so a long `dbt build` shows its progress model by model in the UI.
    """
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            event = event.with_metadata({**(event.metadata or {}), **timer.metadata()})
        yield event
