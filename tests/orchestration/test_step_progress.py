"""Step progress: `medspa run`'s start/end lines and the step timing on asset metadata.

Not timed: these prove which lines and which metadata appear, on a real (tiny) Dagster job.
"""

import io
import re

import dagster as dg

from orchestration.progress import StepTimer, execute_with_progress, with_step_metadata


@dg.asset
def first() -> dg.MaterializeResult:
    timer = StepTimer()
    return dg.MaterializeResult(metadata={"rows": 3, **timer.metadata()})


@dg.asset(deps=[first])
def second():
    # the dbt assets' pattern: the step's events pass through with_step_metadata
    timer = StepTimer()
    yield from with_step_metadata([dg.Output(None, metadata={"rows": 5})], timer)


@dg.asset(deps=[second])
def broken() -> None:
    raise ValueError("boom")


def _run(*assets: dg.AssetsDefinition) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    job = dg.Definitions(assets=list(assets)).resolve_implicit_global_asset_job_def()
    out = io.StringIO()
    with dg.DagsterInstance.ephemeral() as instance:
        result = execute_with_progress(job, instance, out, raise_on_error=False)
    return result, out.getvalue().splitlines()


def test_each_step_prints_its_start_then_its_end_with_a_duration() -> None:
    result, lines = _run(first, second)
    assert result.success
    steps = [re.fullmatch(r"\[\d\d:\d\d:\d\d\] (\w+) (started|done in [\d.]+ s)", x) for x in lines]
    assert all(steps), lines
    assert [(m.group(1), m.group(2).split()[0]) for m in steps] == [
        ("first", "started"),
        ("first", "done"),
        ("second", "started"),
        ("second", "done"),
    ]


def test_a_failed_step_is_printed_as_failed_with_its_duration() -> None:
    result, lines = _run(first, second, broken)
    assert not result.success
    tail = [re.sub(r"^\[\d\d:\d\d:\d\d\] ", "", line) for line in lines[4:]]
    assert tail[0] == "broken started"
    assert re.fullmatch(r"broken FAILED in [\d.]+ s", tail[1]), tail
    assert len(tail) == 2


def test_materializations_carry_the_step_start_and_seconds() -> None:
    result, _ = _run(first, second)
    for key in ("first", "second"):
        (mat,) = result.asset_materializations_for_node(key)
        assert mat.metadata["rows"].value in (3, 5)  # the asset's own metadata is kept
        assert isinstance(mat.metadata["step_started_at"], dg.TimestampMetadataValue)
        assert mat.metadata["step_seconds"].value >= 0


def test_no_stream_means_no_listener_and_no_output() -> None:
    job = dg.Definitions(assets=[first]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = execute_with_progress(job, instance, None)
        assert result.success
        assert not instance._subscribers[result.run_id]


def test_a_closed_terminal_stops_the_lines_not_the_run() -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    job = dg.Definitions(assets=[first, second]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        assert execute_with_progress(job, instance, ClosedPipe(), raise_on_error=False).success


def test_the_first_step_hook_runs_once_when_the_first_step_starts() -> None:
    seen: list[str] = []

    @dg.asset
    def watched() -> int:
        seen.append("step body")
        return 1

    @dg.asset(deps=[watched])
    def after() -> int:
        seen.append("second step body")
        return 2

    job = dg.Definitions(assets=[watched, after]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = execute_with_progress(
            job, instance, None, on_first_step=lambda: seen.append("hook")
        )
    assert result.success
    # called once, after the run was created and before the first step's own code ran
    assert seen == ["hook", "step body", "second step body"]
