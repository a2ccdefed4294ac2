"""An interrupted `medspa run` keeps its run-log record pending instead of opening the warehouse.

After Ctrl-C stopped a load, `duckdb.connect` to the warehouse again in the same process spun
for good inside DuckDB's instance cache (100 % CPU, no error), so the run never exited. The
record is now kept pending (`run_log.defer_record`) and the next write to the warehouse takes
it; a run that failed for any other reason is still written at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medspa.commands import run as run_command
from medspa.settings import Settings
from orchestration import run_log
from orchestration.summary import RunSummary


@pytest.mark.parametrize(
    ("failure", "deferred"),
    [
        ("raw_landing: RuntimeError: Query interrupted", True),
        ("dbt_build: dagster._core.errors.DagsterExecutionInterruptedError", True),
        ("dbt_build: dbt test: 2 failing row(s)", False),
    ],
)
def test_an_interrupted_run_defers_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str, deferred: bool
) -> None:
    written: list[str] = []
    kept: list[str] = []
    asked: list[bool] = []

    def record_of(*args: object, interrupted: bool = False, **kw: object) -> str:
        asked.append(interrupted)
        return "the run's record"

    monkeypatch.setattr(run_log, "record_of", record_of)
    monkeypatch.setattr(run_log, "write_record", lambda path, record: written.append(record))
    monkeypatch.setattr(run_log, "defer_record", lambda path, record: kept.append(record))
    summary = RunSummary(run_id="r1", success=False, failures=[failure])
    settings = Settings.from_env(tmp_path / "data")
    run_command._record_run(object(), summary, settings, tenant="default")
    assert (kept, written) == (
        (["the run's record"], []) if deferred else ([], ["the run's record"])
    )
    assert asked == [deferred]  # an interrupted run is recorded as cancelled, not failed
