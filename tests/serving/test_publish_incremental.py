"""A publish that starts from the previous serving file: patched marts equal a fresh copy.

`serving.mart_sync` patches large marts (deletes and inserts the rows whose hash differs) and
replaces small or reshaped ones; the audit re-reads every mart's row count and hash sum.
`PATCH_MIN_ROWS` is lowered so the hand-made tables here take the patch path.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from serving import mart_sync, publish, row_hashes

RELATIONS = [
    publish.MartRelation("marts", "fct_messages"),
    publish.MartRelation("marts", "kpi_targets"),
]


@pytest.fixture(autouse=True)
def small_patch_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mart_sync, "PATCH_MIN_ROWS", 10)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """100 messages (ids 0..99) and a small seed."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_messages as select i as message_id, 'L' || (i % 3) as "
        "location_id, date '2026-11-01' + (i % 20)::int as sent_on, i * 1.5 as cost "
        "from range(100) r(i)"
    )
    con.execute("create table marts.kpi_targets as select 'nps' as kpi, 30.0 as target_low")
    con.close()
    return path


def _wh(warehouse: Path, *sql: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()


def _rows(path: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select * from marts.{table} order by all").fetchall()
    finally:
        con.close()


def _publish(warehouse: Path, serving: Path, run: str) -> dict[str, mart_sync.SyncResult]:
    report: dict[str, mart_sync.SyncResult] = {}
    publish.publish(warehouse, serving, run, RELATIONS, publish.OpsData(), report=report)
    return report


def test_a_nightly_change_is_patched_and_equals_the_warehouse(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    first = _publish(warehouse, serving, "run1")
    assert first["fct_messages"].how == "replaced"  # nothing published yet
    # One day's change: 2 messages rebuilt with a new cost, one deleted, 3 new ones.
    _wh(
        warehouse,
        "update marts.fct_messages set cost = cost + 1 where message_id in (5, 6)",
        "delete from marts.fct_messages where message_id = 7",
        "insert into marts.fct_messages select i, 'L0', date '2026-11-21', 1.0 "
        "from range(100, 103) r(i)",
    )
    second = _publish(warehouse, serving, "run2")
    # Deleted: the old 5, 6 and 7. Inserted: the new 5, 6 and 100..102.
    assert (second["fct_messages"].how, second["fct_messages"].rows_deleted) == ("patched", 3)
    assert second["fct_messages"].rows_inserted == 5
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")
    assert len(_rows(serving, "fct_messages")) == 102  # 100 - 1 + 3
    assert second["kpi_targets"].how == "replaced"  # small: copied whole every time


def test_an_unchanged_large_mart_is_kept_as_it_was(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    assert _publish(warehouse, serving, "run2")["fct_messages"].how == "unchanged"
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")


def test_a_new_column_replaces_the_mart_whole(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    _wh(warehouse, "alter table marts.fct_messages add column channel varchar default 'sms'")
    assert _publish(warehouse, serving, "run2")["fct_messages"].how == "replaced"
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")
    assert _rows(serving, "fct_messages")[0][-1] == "sms"


def test_duplicate_rows_are_counted_by_a_whole_copy(warehouse: Path, tmp_path: Path):
    """A set difference by hash sees no change when a row is doubled: the totals catch it."""
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    _wh(warehouse, "insert into marts.fct_messages select * from marts.fct_messages limit 1")
    assert _publish(warehouse, serving, "run2")["fct_messages"].how == "replaced"
    assert len(_rows(serving, "fct_messages")) == 101


def test_a_large_change_is_a_whole_copy(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    _wh(warehouse, "update marts.fct_messages set cost = cost * 2 where message_id < 40")
    assert _publish(warehouse, serving, "run2")["fct_messages"].how == "replaced"  # 80 > 25
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")


def test_the_audit_catches_a_patch_that_went_wrong(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The audit re-reads the built file: a sync that lies about its work cannot publish."""
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    before = serving.read_bytes()
    _wh(warehouse, "update marts.fct_messages set cost = -1 where message_id = 3")

    def claims_done(con, source, target, *_columns):  # copies nothing; the warehouse's figures
        cols = mart_sync.columns(con, *source)
        return mart_sync.SyncResult(
            "patched", mart_sync.fingerprint(con, mart_sync.relation(*source), cols)
        )

    monkeypatch.setattr(publish, "sync_mart", claims_done)
    with pytest.raises(publish.PublishAuditError, match="fct_messages: content differs"):
        _publish(warehouse, serving, "run2")
    assert serving.read_bytes() == before
    assert not list(tmp_path.glob("serving.duckdb.tmp-*"))


def test_a_mart_no_longer_published_leaves_serving(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    publish.publish(warehouse, serving, "run2", RELATIONS[:1], publish.OpsData())
    assert ("marts", "kpi_targets") not in set(publish.table_names(serving))


def test_an_unreadable_previous_file_is_rebuilt_from_scratch(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"not a duckdb file" * 100)
    report = _publish(warehouse, serving, "run1")
    assert {r.how for r in report.values()} == {"replaced"}
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")


def test_the_next_publish_reads_the_audited_row_hashes_instead_of_hashing(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    assert row_hashes.hashes_path(serving).is_file()
    seen: list[str | None] = []
    prehashed: list[bool] = []
    real = mart_sync._patch

    def spy(con, source, target, cols, rows, old_hashes=None, src_hashes=None):
        seen.append(old_hashes)
        prehashed.append(src_hashes is not None)
        return real(con, source, target, cols, rows, old_hashes, src_hashes)

    monkeypatch.setattr(mart_sync, "_patch", spy)
    _wh(warehouse, "update marts.fct_messages set cost = 0 where message_id = 9")
    assert _publish(warehouse, serving, "run2")["fct_messages"].how == "patched"
    assert seen == ['"rowhashes"."main"."fct_messages"']
    # The warehouse side was hashed while the previous file was copied (serving.source_hashes)
    assert prehashed == [True]
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")


def test_row_hashes_of_another_serving_file_are_ignored(warehouse: Path, tmp_path: Path):
    """Hashes belong to one version of serving.duckdb: a file swapped in by hand voids them."""
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    _wh(warehouse, "delete from marts.fct_messages where message_id < 5")
    other = tmp_path / "other"
    other.mkdir()
    _publish(warehouse, other / "serving.duckdb", "run2")  # 95 messages, its own hashes
    serving.write_bytes((other / "serving.duckdb").read_bytes())  # same rows, new file
    _wh(warehouse, "delete from marts.fct_messages where message_id = 5")
    report = _publish(warehouse, serving, "run3")
    assert report["fct_messages"].how == "patched"
    assert _rows(serving, "fct_messages") == _rows(warehouse, "fct_messages")  # 94 rows


def _hashes_trusted(serving: Path) -> bool:
    con = duckdb.connect(":memory:")
    try:
        return row_hashes.attach_if_valid(con, serving)
    finally:
        con.close()


def test_a_data_dir_copied_whole_keeps_its_row_hashes_only_once_adopted(
    warehouse: Path, tmp_path: Path
):
    """A copy (`cp -a`) has the same bytes, size and time but a new inode: its hashes are void
    until adopted; a serving file changed since (another time) is never adopted."""
    data, copy = tmp_path / "data", tmp_path / "copy"
    data.mkdir()
    _publish(warehouse, data / "serving.duckdb", "run1")
    assert _hashes_trusted(data / "serving.duckdb")
    shutil.copytree(data, copy)
    assert not _hashes_trusted(copy / "serving.duckdb")
    assert row_hashes.adopt_copy(copy / "serving.duckdb")
    assert _hashes_trusted(copy / "serving.duckdb")
    _wh(warehouse, "update marts.fct_messages set cost = 0 where message_id = 9")
    report = _publish(warehouse, copy / "serving.duckdb", "run2")
    assert report["fct_messages"].how == "patched"
    assert _rows(copy / "serving.duckdb", "fct_messages") == _rows(warehouse, "fct_messages")

    touched = tmp_path / "touched"
    shutil.copytree(data, touched)
    stat = (touched / "serving.duckdb").stat()
    os.utime(touched / "serving.duckdb", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert not row_hashes.adopt_copy(touched / "serving.duckdb")
    assert not _hashes_trusted(touched / "serving.duckdb")
