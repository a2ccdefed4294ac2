"""A blocked run ends as FAILURE and is not retried; a run refused by the run lock is.

A failed blocking check fails its own step (the run ends as FAILURE, not SUCCESS: the run-log
sensor for failed runs records it as `blocked`). Retrying it from that step would evaluate the
same data again and fail again, so the runs the schedule and the landing sensor start carry
`dagster/retry_on_asset_or_op_failure: false`: Dagster then retries only a run-level failure,
such as the tenant's run lock held by a `medspa run` (refused in resource setup, before any
step). Dagster itself decides, when the run fails, and tags the run `dagster/will_retry`: that
tag is what the retry daemon acts on.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from holders import HOLD_RUN_LOCK, held

from medspa.settings import Settings
from orchestration import run_log
from orchestration.defs.automation.jobs import nightly_requests
from orchestration.defs.automation.landing_sensor import RETRY_RUN_FAILURES_ONLY, tenant_requests
from orchestration.resources import MedspaSettings
from orchestration.tenancy import TENANT_PARTITIONS

NO_STEP_RETRY = {"dagster/retry_on_asset_or_op_failure": "false"}


@pytest.fixture(autouse=True)
def _no_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_scheduled_and_landing_runs_are_retried_only_after_a_run_level_failure(tmp_path: Path):
    assert RETRY_RUN_FAILURES_ONLY == NO_STEP_RETRY
    settings = Settings.from_env(tmp_path / "data", tmp_path / "landing")
    (scheduled,) = nightly_requests(settings, ["default"], "2026-11-30T02:00:00")
    assert scheduled.tags["dagster/max_retries"] == "1"
    assert scheduled.tags.items() >= NO_STEP_RETRY.items()

    extract = tmp_path / "landing" / "pms" / "locations" / "2026-11-20.csv"
    extract.parent.mkdir(parents=True)
    extract.write_text("a\n1\n")
    (landed,), _ = tenant_requests(settings, {}, settled_before=time.time() + 1)
    assert landed.tags["dagster/max_retries"] == "1"  # the sensor's runs are retried too
    assert landed.tags.items() >= NO_STEP_RETRY.items()
    assert landed.tags["medspa/tenant"] == "default"


@dg.asset(partitions_def=TENANT_PARTITIONS)
def appointments(medspa: MedspaSettings) -> None:
    """Stands in for a raw table; takes the settings resource, so its run holds the run lock."""


@dg.asset_check(asset=appointments, blocking=True)
def quarantine_share() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)


def _job() -> dg.JobDefinition:
    return dg.Definitions(
        assets=[appointments],
        asset_checks=[quarantine_share],
        jobs=[dg.define_asset_job("nightly", partitions_def=TENANT_PARTITIONS)],
        resources={"medspa": MedspaSettings()},
        executor=dg.in_process_executor,
    ).resolve_job_def("nightly")


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """Run retries on, as in `dagster.yaml`: Dagster tags each failed run `will_retry`."""
    home = tmp_path / "dagster"
    home.mkdir()
    overrides = {"run_retries": {"enabled": True, "max_retries": 0}}
    with dg.instance_for_test(temp_dir=str(home), overrides=overrides) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["default"])
        yield inst


def _run(instance: dg.DagsterInstance, data: Path, tags: dict[str, str]) -> dg.DagsterRun:
    config = {"resources": {"medspa": {"config": {"data_dir": str(data)}}}}
    result = _job().execute_in_process(
        run_config=config,
        instance=instance,
        partition_key="default",
        tags=tags,
        raise_on_error=False,
    )
    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    return run


def test_a_blocked_run_fails_and_is_not_retried(instance: dg.DagsterInstance, tmp_path: Path):
    scheduled = {"dagster/max_retries": "1", **RETRY_RUN_FAILURES_ONLY}
    blocked = _run(instance, tmp_path / "data", scheduled)
    assert blocked.tags["dagster/failure_reason"] == "STEP_FAILURE"
    assert blocked.tags["dagster/will_retry"] == "false"
    record = run_log.record_of(
        instance, blocked.run_id, published=False, demo_key_on_real_data=False
    )
    assert (record.status, record.blocked_by) == (run_log.BLOCKED, "appointments:quarantine_share")
    # Without the tag, the same night would be retried from the failed check, to fail again.
    retried = _run(instance, tmp_path / "data", {"dagster/max_retries": "1"})
    assert retried.tags["dagster/will_retry"] == "true"


def test_a_run_refused_by_the_run_lock_is_still_retried(
    instance: dg.DagsterInstance, tmp_path: Path
):
    data = tmp_path / "data"
    data.mkdir()
    with held(HOLD_RUN_LOCK, data):
        refused = _run(instance, data, {"dagster/max_retries": "1", **RETRY_RUN_FAILURES_ONLY})
    assert refused.tags["dagster/failure_reason"] == "RUN_EXCEPTION"  # before any step
    assert refused.tags["dagster/will_retry"] == "true"
