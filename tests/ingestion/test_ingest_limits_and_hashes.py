"""DuckDB runs under the limits it is given, and remembered file hashes never hide a change."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from ingestion.duckdb_limits import DuckDBLimits, writer_config
from ingestion.hash_cache import HashCache, PrefetchedHashes
from ingestion.landing import LandingFile
from ingestion.pipeline import ingest
from ingestion.progress import TableProgress
from medspa.settings import Settings
from orchestration import run_log
from tests.ingestion.ingest_fixtures import write_required


def test_connection_runs_under_the_given_limits_and_spills_under_the_data_dir(
    tmp_path: Path,
) -> None:
    limits = DuckDBLimits.under(tmp_path / "data", "300MB", 1)
    con = limits.connect(tmp_path / "w.duckdb")
    try:
        settings = dict(
            con.execute(
                "select name, value from duckdb_settings() "
                "where name in ('memory_limit', 'threads', 'temp_directory')"
            ).fetchall()
        )
    finally:
        con.close()
    assert settings["threads"] == "1"
    assert settings["memory_limit"].startswith("286")  # 300 MB = 286 MiB, as DuckDB shows it
    assert settings["temp_directory"] == str(tmp_path / "data" / ".duckdb_tmp")
    # a spill holds what the query held, raw PHI included: the folder is the owner's alone
    assert (tmp_path / "data" / ".duckdb_tmp").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / ".duckdb_tmp").is_dir()


def test_a_load_runs_under_the_deployments_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits travel with the loader's settings: `medspa ingest`, the Dagster asset and the
    bench all load under `MEDSPA_DUCKDB_*`, never under DuckDB's defaults by omission."""
    monkeypatch.setenv("MEDSPA_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("MEDSPA_DUCKDB_THREADS", "1")
    settings = Settings.from_env(tmp_path / "data", tmp_path / "landing").ingest_settings()
    assert settings.limits == DuckDBLimits.under(tmp_path / "data", "300MB", 1)

    seen: list[tuple[str, str]] = []
    connect = DuckDBLimits.connect

    def recording(limits: DuckDBLimits, path: Path) -> duckdb.DuckDBPyConnection:
        con = connect(limits, path)
        seen.append(
            con.execute(
                "select current_setting('memory_limit'), current_setting('threads')::varchar"
            ).fetchone()
        )
        return con

    monkeypatch.setattr(DuckDBLimits, "connect", recording)
    write_required(tmp_path / "landing")
    assert ingest(settings).ok
    assert seen and all(limit.startswith("286") and threads == "1" for limit, threads in seen)


def _row_groups(con: duckdb.DuckDBPyConnection) -> int:
    found = con.execute(
        "select count(distinct row_group_id) from pragma_storage_info('t')"
    ).fetchone()
    assert found is not None
    return found[0]


def _thinned_table(path: Path) -> None:
    """Table `t`: four full row groups, three rows in four deleted (the rest fit one group)."""
    size = 122_880  # DuckDB's default row-group size
    con = duckdb.connect(str(path), config=writer_config())  # type: ignore[arg-type]
    try:
        con.execute(f"create table t as select range as id from range({4 * size})")
        con.execute("checkpoint")
        con.execute("delete from t where id % 4 <> 0")
        con.execute("checkpoint")
        assert _row_groups(con) == 4
    finally:
        con.close()


def _loader_writes(path: Path) -> None:
    con = DuckDBLimits.under(path.parent / "data").connect(path)
    try:
        con.execute("create table loaded as select range as id from range(10)")
        con.execute("checkpoint")
    finally:
        con.close()


def _run_log_writes(path: Path) -> None:
    at = dt.datetime(2026, 11, 16, 3, tzinfo=dt.UTC)
    record = run_log.RunRecord("r1", at, at, 1, 2, 0, 0, run_log.PUBLISHED, None, False)
    run_log.write_record(path, record)


@pytest.mark.parametrize("write", [_loader_writes, _run_log_writes], ids=["loader", "run_log"])
def test_warehouse_writers_leave_row_group_merging_to_the_compaction(
    tmp_path: Path, write: Callable[[Path], None]
) -> None:
    """A writer that merged would pay for the merging dbt defers, on tables it never touched
    (a checkpoint covers the whole file): the loader's connections and the run log's one-row
    upsert merge nothing; DuckDB's default on the same file merges at once."""
    path = tmp_path / "w.duckdb"
    _thinned_table(path)
    write(path)
    con = duckdb.connect(str(path))
    try:
        assert _row_groups(con) == 4
        con.execute("create table touched as select 1 as x")  # any change: the close merges
    finally:
        con.close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert _row_groups(con) == 1
    finally:
        con.close()


def _file(root: Path, text: str) -> LandingFile:
    path = root / "pms" / "rooms" / "2026-11-20.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return LandingFile("pms", "rooms", "2026-11-20", path, "pms/rooms/2026-11-20.csv", "csv")


def test_hash_is_reused_for_an_unchanged_file_and_recomputed_after_a_rewrite(
    tmp_path: Path,
) -> None:
    landing, cache_path = tmp_path / "landing", tmp_path / "hashes.json"
    file = _file(landing, "room_id\nR1\n")
    assert HashCache(cache_path).sha256(file) == file.sha256()
    assert file.rel_path not in HashCache(cache_path).entries  # just written: not trusted yet
    first = HashCache(cache_path, settle_ns=0)
    original = first.sha256(file)
    first.save()
    # A remembered hash is used as is: prove it by planting a marker in the cache.
    planted = HashCache(cache_path, settle_ns=0)
    planted.entries[file.rel_path][4] = "remembered"
    assert planted.sha256(file) == "remembered"
    # Same size, mtime put back by hand: the ctime still moves, so the file is re-hashed.
    stat = file.path.stat()
    time.sleep(0.05)  # past the coarse timestamp tick
    file.path.write_text("room_id\nR2\n")
    os.utime(file.path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = HashCache(cache_path, settle_ns=0)
    assert again.sha256(file) == file.sha256() != original


def test_the_cache_is_the_owners_alone(tmp_path: Path) -> None:
    """It names every extract, and a per-patient export may be named after the patient."""
    landing, cache_path = tmp_path / "landing", tmp_path / "hashes.json"
    stale = cache_path.with_name(cache_path.name + ".tmp")
    stale.write_text("{}")
    stale.chmod(0o644)  # a crash's leftover with the umask's mode
    cache = HashCache(cache_path, settle_ns=0)
    cache.sha256(_file(landing, "room_id\nR1\n"))
    old_umask = os.umask(0o022)
    try:
        cache.save()
    finally:
        os.umask(old_umask)
    assert cache_path.stat().st_mode & 0o777 == 0o600
    assert "pms/rooms/2026-11-20.csv" in HashCache(cache_path).entries


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "hashes.json").write_text("{not json")
    file = _file(tmp_path / "landing", "room_id\nR1\n")
    assert HashCache(tmp_path / "hashes.json").sha256(file) == file.sha256()


def test_prefetched_hashes_are_the_caches_and_a_failure_surfaces_for_its_file(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    rooms = _file(landing, "room_id\nR1\n")
    gone_path = landing / "pms" / "rooms" / "2026-11-21.csv"
    gone = LandingFile("pms", "rooms", "2026-11-21", gone_path, "pms/rooms/2026-11-21.csv", "csv")
    cache = HashCache(tmp_path / "hashes.json", settle_ns=0)
    prefetched = PrefetchedHashes(cache, [rooms, gone])  # `gone` does not exist
    try:
        assert prefetched.sha256(rooms) == rooms.sha256()
        # the file's own error, raised where its hash is asked for (as hashing it inline did)
        with pytest.raises(FileNotFoundError):
            prefetched.sha256(gone)
    finally:
        prefetched.close()
    assert cache.entries[rooms.rel_path][4] == rooms.sha256()  # remembered as before


def test_prefetched_hashes_close_cancels_what_has_not_started(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = _file(landing, "room_id\nR1\n")
    hashed: list[str] = []

    class SlowCache(HashCache):
        def sha256(self, file: LandingFile) -> str:
            time.sleep(0.2)
            hashed.append(file.rel_path)
            return super().sha256(file)

    many = [first] + [
        LandingFile("pms", "rooms", f"2026-11-{day}", first.path, f"pms/rooms/{day}.csv", "csv")
        for day in range(10, 30)
    ]
    prefetched = PrefetchedHashes(SlowCache(tmp_path / "hashes.json"), many)
    prefetched.close()  # a load that stopped early does not wait for 21 files' hashes
    assert len(hashed) <= 2


def test_progress_is_silent_off_a_terminal_and_counts_tables_on_one() -> None:
    quiet = io.StringIO()
    TableProgress(2, "loaded", quiet)("pms.rooms", 3)
    assert quiet.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    progress = TableProgress(2, "loaded", tty)
    progress("pms.rooms", 3)
    progress("pms.appointments", 1_200)
    lines = tty.getvalue().splitlines()
    assert lines[0].startswith("[1/2] loaded pms.rooms: 3 rows")
    assert lines[1].startswith("[2/2] loaded pms.appointments: 1,200 rows")
