"""The quarantine check judges each table's latest load (1 % limit, exactly 1 % passes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ingestion.raw_schema import ensure_meta_tables
from quality.quarantine import table_verdicts

AT = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def _warehouse(tmp_path: Path, loads: list[tuple[str, int, int]]) -> Path:
    """pms.appointments loaded as (load_id, rows_read, rows_quarantined), one file each."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    ensure_meta_tables(con)
    for i, (load_id, read, bad) in enumerate(loads):
        con.execute(
            "insert into raw_meta.loaded_files values (?, ?, 'sha', 'pms', 'appointments', ?, "
            "'loaded', null, ?, ?, 0, 0, ?, ?)",
            [
                load_id,
                f"pms/appointments/2026-11-{10 + i}.csv",
                f"2026-11-{10 + i}",
                read,
                read - bad,
                bad,
                AT,
            ],
        )
        for row in range(bad):
            con.execute(
                "insert into raw_quarantine.rejected_rows values (?, ?, ?, 'pms', "
                "'appointments', 'booked_at', 'invalid timestamp', '{}', ?)",
                [load_id, f"pms/appointments/2026-11-{10 + i}.csv", row + 1, AT],
            )
    con.close()
    return path


def _refused(path: Path, load_id: str, extract_id: str, reason: str, rows_read: int) -> None:
    """Record one refused pms.appointments extract of `load_id` (its rows counted as read)."""
    con = duckdb.connect(str(path))
    con.execute(
        "insert into raw_meta.loaded_files values (?, ?, 'sha-refused', 'pms', 'appointments', "
        "?, 'refused', ?, ?, 0, 0, 0, 0, ?)",
        [load_id, f"pms/appointments/{extract_id}.csv", extract_id, reason, rows_read, AT],
    )
    con.close()


def test_latest_load_above_the_limit_blocks(tmp_path: Path):
    path = _warehouse(tmp_path, [("20261110T020000Z", 100, 2)])
    verdict = table_verdicts(path, 0.01)[("pms", "appointments")]
    assert verdict.blocks and not verdict.passed
    assert "2 of 100 rows quarantined (2.00%)" in verdict.description


def test_exactly_the_limit_warns_without_blocking(tmp_path: Path):
    path = _warehouse(tmp_path, [("20261110T020000Z", 100, 1)])
    verdict = table_verdicts(path, 0.01)[("pms", "appointments")]
    assert not verdict.blocks and not verdict.passed
    assert verdict.rows_quarantined == 1


def test_a_clean_later_delivery_lifts_the_block(tmp_path: Path):
    """... but not the warning: the 5 rows were never delivered again (a later load of their
    file or of their keys would bring them back: tests/ingestion/test_quarantine_still_missing)."""
    path = _warehouse(tmp_path, [("20261110T020000Z", 100, 5), ("20261111T020000Z", 100, 0)])
    verdict = table_verdicts(path, 0.01)[("pms", "appointments")]
    assert not verdict.blocks and not verdict.passed
    assert verdict.rows_quarantined == 0 and verdict.earlier_missing == 5
    assert "5 row(s) quarantined in earlier loads are still missing" in verdict.description


def test_no_warehouse_yet_means_nothing_to_judge(tmp_path: Path):
    assert table_verdicts(tmp_path / "missing.duckdb", 0.01) == {}


def test_a_refused_later_file_does_not_lift_the_block(tmp_path: Path):
    """A later extract the loader refused (empty, a contract column missing) delivered nothing:
    the bad load before it still blocks until an extract of the table actually loads."""
    path = _warehouse(tmp_path, [("20261110T020000Z", 100, 5)])
    _refused(path, "20261111T020000Z", "2026-11-11", "empty file", rows_read=0)
    verdict = table_verdicts(path, 0.01)[("pms", "appointments")]
    assert verdict.blocks and not verdict.passed
    assert "5 of 100 rows quarantined" in verdict.description


def test_a_refused_file_of_the_same_load_does_not_dilute_the_share(tmp_path: Path):
    """2 bad rows of a 20-row extract is 10 %, whatever the 300 rows of a file refused in the
    same load (counted as read before the refusal): it blocks, 2 of 20."""
    path = _warehouse(tmp_path, [("20261110T020000Z", 20, 2)])
    _refused(path, "20261110T020000Z", "2026-11-10b", "a contract column is missing", 300)
    verdict = table_verdicts(path, 0.01)[("pms", "appointments")]
    assert verdict.blocks
    assert "2 of 20 rows quarantined (10.00%)" in verdict.description
