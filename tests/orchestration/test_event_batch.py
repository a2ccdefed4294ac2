"""A batch of Dagster events is stored in one transaction per SQLite file, with nothing lost.

Not timed (figures in docs/performance.md): these prove that a run under
`orchestration.event_batch` still records every planned event and every asset check's
execution (the UI and the freshness/publish checks read them), and that a batch which fails
half-way leaves no partial rows behind for Dagster's one-by-one fallback to duplicate.
"""

import os
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration import event_batch, instance_sqlite

CHECKS = 12


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "dagster"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    instance_sqlite.install()
    event_batch.install()
    inst = dg.DagsterInstance.from_config(str(home))
    yield inst
    inst.dispose()
    event_batch.release()
    instance_sqlite.release()


def _job_with_checks() -> dg.JobDefinition:
    @dg.asset(check_specs=[dg.AssetCheckSpec(f"c{i}", asset="one") for i in range(CHECKS)])
    def one():
        yield dg.Output(1)
        for i in range(CHECKS):
            yield dg.AssetCheckResult(check_name=f"c{i}", passed=i != 3)

    return dg.Definitions(assets=[one]).resolve_implicit_global_asset_job_def()


def _planned(instance: dg.DagsterInstance, run_id: str) -> list:
    return [
        e
        for e in instance.all_logs(run_id)
        if e.dagster_event
        and e.dagster_event.event_type
        in (
            DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
            DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        )
    ]


def test_install_turns_batched_writes_on_without_overriding_a_deployment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    event_batch.install()
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == event_batch.BATCH_SIZE
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "50")
    event_batch.install()
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == "50"


def test_a_run_records_every_planned_event_and_check_execution(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    batched = SqliteEventLogStorage.store_event_batch

    def spy(self, events):
        batches.append(len(events))
        return batched(self, events)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event_batch", spy)
    result = _job_with_checks().execute_in_process(instance=instance, raise_on_error=False)
    assert batches == [1 + CHECKS]  # the planned events went through the batch path
    # one planned materialization + one planned evaluation per check, each stored once
    assert len(_planned(instance, result.run_id)) == 1 + CHECKS
    for i in range(CHECKS):
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("one"), f"c{i}")]
        )[dg.AssetCheckKey(dg.AssetKey("one"), f"c{i}")]
        assert record.run_id == result.run_id
        assert record.status.value == ("FAILED" if i == 3 else "SUCCEEDED")


def test_a_failing_batch_leaves_nothing_and_the_fallback_stores_each_event_once(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SqliteEventLogStorage.store_event
    calls = {"n": 0, "fail": True}

    def flaky(self, event):
        calls["n"] += 1
        if calls["fail"] and calls["n"] == 5:  # half-way through the planned batch
            calls["fail"] = False
            raise RuntimeError("disk hiccup")
        return original(self, event)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", flaky)
    result = _job_with_checks().execute_in_process(instance=instance, raise_on_error=False)
    assert not calls["fail"]  # the failure did happen inside the batch
    planned = _planned(instance, result.run_id)
    assert len(planned) == 1 + CHECKS
    assert len({(e.dagster_event.event_type, e.dagster_event.message) for e in planned}) == len(
        planned
    )


def test_kept_engines_are_bounded_and_threads_writing_at_once_lose_nothing(
    instance: dg.DagsterInstance,
) -> None:
    storage = instance.event_log_storage
    assert isinstance(storage, SqliteEventLogStorage)

    def write(run: int) -> None:
        for i in range(20):
            storage.store_event(_log_entry(f"run{run}", f"message {i}"))

    runs = range(event_batch.MAX_ENGINES + 2)  # one shard per run: more shards than engines
    threads = [threading.Thread(target=write, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in runs:
        assert len(storage.get_logs_for_run(f"run{r}")) == 20
    assert len(event_batch._engines) <= event_batch.MAX_ENGINES


def _log_entry(run_id: str, message: str):
    return EventLogEntry(
        error_info=None,
        level=20,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
    )


def test_a_found_table_is_asked_for_once_and_a_missing_one_every_time(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    original = event_batch._ORIGINAL_HAS_TABLE

    def counting(storage: SqliteEventLogStorage, table_name: str) -> bool:
        asked.append(table_name)
        return original(storage, table_name)

    monkeypatch.setattr(event_batch, "_ORIGINAL_HAS_TABLE", counting)
    result = _job_with_checks().execute_in_process(instance=instance, raise_on_error=False)
    # every check's planned and evaluation events asked Dagster's has_table before; now once
    assert asked.count("asset_check_executions") == 1
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("one"), "c3"), limit=5
    )
    assert [c.run_id for c in checks] == [result.run_id]

    storage = instance.event_log_storage
    assert not storage.has_table("medspa_later")
    assert not storage.has_table("medspa_later")
    assert asked.count("medspa_later") == 2  # a missing table is not remembered
    with storage.index_connection() as conn:
        conn.exec_driver_sql("create table medspa_later (id integer)")
    assert storage.has_table("medspa_later")
    assert storage.has_table("medspa_later")
    assert asked.count("medspa_later") == 3
