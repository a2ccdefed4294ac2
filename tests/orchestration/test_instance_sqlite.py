"""The Dagster instance's SQLite files are written in WAL mode without a sync per event.

Not timed (the figures are in docs/performance.md): these prove which files
get the cheaper settings, that other SQLite files keep theirs, and that a real instance under
the listener still stores and reads back a run's events.
"""

import sqlite3
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from orchestration import instance_sqlite


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "dagster"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance_sqlite.install()
    yield home
    instance_sqlite.release()


def _settings(path: Path) -> tuple[str, int]:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text("create table if not exists t (x int)"))
        mode = conn.execute(sa.text("pragma journal_mode")).scalar()
        sync = conn.execute(sa.text("pragma synchronous")).scalar()
        conn.commit()
    engine.dispose()
    return str(mode), int(sync)


def test_files_under_the_dagster_home_get_wal_and_normal_sync(installed: Path) -> None:
    # synchronous: 1 = NORMAL, 2 = FULL (SQLite's default)
    (installed / "history").mkdir(exist_ok=True)
    assert _settings(installed / "history" / "runs.db") == ("wal", 1)
    # the WAL outlives the connection: the kept reader stops the close from checkpointing
    assert (installed / "history" / "runs.db-wal").exists()


def test_other_sqlite_files_keep_their_settings(installed: Path, tmp_path: Path) -> None:
    assert _settings(tmp_path / "elsewhere.db") == ("delete", 2)


def test_kept_connections_are_bounded(installed: Path) -> None:
    for i in range(instance_sqlite.MAX_KEPT + 3):
        _settings(installed / f"shard{i}.db")
    assert len(instance_sqlite._kept) == instance_sqlite.MAX_KEPT


def test_a_real_instance_stores_and_reads_a_run_under_the_listener(installed: Path) -> None:
    @dg.asset
    def one() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 1})

    job = dg.Definitions(assets=[one]).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.from_config(str(installed))
    try:
        result = job.execute_in_process(instance=instance)
        assert result.success
        logs = instance.all_logs(result.run_id)
        assert any(e.dagster_event and e.dagster_event.is_step_success for e in logs)
        assert instance.get_latest_materialization_event(dg.AssetKey("one")) is not None
    finally:
        instance.dispose()
    shard = next((installed / "history" / "runs").glob(f"{result.run_id}.db"))
    assert sqlite3.connect(shard).execute("pragma journal_mode").fetchone()[0] == "wal"
