"""The quarantine gate: exactly the threshold passes, above it blocks, raw records never shown."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.raw_schema import ensure_meta_tables
from quality.quarantine import evaluate, share_exceeds

SECRET = "Jane Doe, jane@example.com, +14155550134"


def _warehouse(path: Path, files: list[tuple], rejected: list[tuple] = ()) -> Path:
    """files: (load_id, file_path, table, status, rows_read, rows_quarantined[, reason])."""
    with duckdb.connect(str(path)) as con:
        ensure_meta_tables(con)
        for load_id, file_path, table, status, read, quarantined, *reason in files:
            con.execute(
                "insert into raw_meta.loaded_files values "
                "(?, ?, 'sha', 'pms', ?, 'x', ?, ?, ?, 0, 0, 0, ?, '2026-11-02 02:00:00+00')",
                [
                    load_id,
                    file_path,
                    table,
                    status,
                    reason[0] if reason else None,
                    read,
                    quarantined,
                ],
            )
        for load_id, file_path, table, column, why in rejected:
            con.execute(
                "insert into raw_quarantine.rejected_rows values "
                "(?, ?, 3, 'pms', ?, ?, ?, ?, '2026-11-02 02:00:00+00')",
                [load_id, file_path, table, column, why, SECRET],
            )
    return path


def test_exactly_one_percent_warns_but_does_not_block(tmp_path):
    db = _warehouse(
        tmp_path / "w.duckdb",
        [("load1", "pms/appointments/2026-11-01.csv", "appointments", "loaded", 100, 1)],
        [("load1", "pms/appointments/2026-11-01.csv", "appointments", "status", "unknown enum")],
    )
    verdict = evaluate(db, 0.01)
    assert verdict.status == "warn" and not verdict.blocking
    assert verdict.loads[0].share == 0.01
    assert "pms.appointments in load load1: 1 of 100 rows quarantined (1.00%)" in verdict.message


def test_share_above_threshold_blocks_and_names_table_load_and_share(tmp_path):
    db = _warehouse(
        tmp_path / "w.duckdb",
        [
            ("load1", "pms/appointments/a.csv", "appointments", "loaded", 100, 1),
            ("load2", "pms/appointments/b.csv", "appointments", "loaded", 150, 1),
            ("load2", "pms/appointments/c.csv", "appointments", "loaded", 49, 1),  # 2 / 199
            ("load2", "pms/rooms/b.csv", "rooms", "loaded", 10, 0),
        ],
    )
    verdict = evaluate(db, 0.01)
    assert verdict.status == "fail" and verdict.blocking
    assert [
        (o.load_id, o.table_name, o.rows_read, o.rows_quarantined) for o in verdict.offenders
    ] == [("load2", "appointments", 199, 2)]
    assert "pms.appointments in load load2: 2 of 199 rows quarantined (1.01%)" in verdict.message
    (appointments, rooms) = verdict.tables
    assert appointments.blocks and appointments.rows_quarantined == 3
    assert appointments.worst_share == pytest.approx(2 / 199)
    assert not rooms.blocks and rooms.rows_quarantined == 0


def test_raw_record_never_appears_in_the_verdict(tmp_path):
    db = _warehouse(
        tmp_path / "w.duckdb",
        [("load1", "pms/patients/a.csv", "patients", "loaded", 2, 2)],
        [("load1", "pms/patients/a.csv", "patients", "email", "invalid value")] * 2,
    )
    verdict = evaluate(db, 0.01)
    assert verdict.blocking
    assert [(r.table_name, r.column_name, r.reason, r.rows) for r in verdict.reasons] == [
        ("patients", "email", "invalid value", 2)
    ]
    assert "Jane" not in repr(verdict) and "jane@example.com" not in repr(verdict)


def test_refused_file_warns_with_its_reason(tmp_path):
    db = _warehouse(
        tmp_path / "w.duckdb",
        [("load1", "pms/rooms/a.csv", "rooms", "refused", 0, 0, "missing column room_type")],
    )
    verdict = evaluate(db, 0.01)
    assert verdict.status == "warn"
    assert verdict.refused_files == ["pms/rooms/a.csv: missing column room_type"]


def test_clean_loads_pass(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("load1", "pms/rooms/a.csv", "rooms", "loaded", 10, 0)])
    assert evaluate(db, 0.01).status == "pass"


def test_warehouse_without_loads_passes(tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    verdict = evaluate(db, 0.01)
    assert verdict.status == "pass" and verdict.loads == []


def test_missing_warehouse_is_a_clear_error_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="warehouse not found"):
        evaluate(tmp_path / "nope.duckdb", 0.01)
    assert not (tmp_path / "nope.duckdb").exists()


def test_share_comparison_is_exact_at_the_threshold():
    assert not share_exceeds(3, 300, 0.01)  # 0.01 * 300 is 3.0000000000000004 in floats
    assert share_exceeds(4, 300, 0.01)
    assert share_exceeds(1, 0, 0.5)  # rows rejected but none read: everything was bad
    assert not share_exceeds(0, 0, 0.0)
