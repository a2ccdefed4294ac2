"""int_engagement_reactivations built incrementally equals a full refresh when a message
moves to another patient and a visit is cancelled.

The engagement clinic (engagement_fixture.py): patient p1 completed visit a1 on 2026-02-01;
p2 has only a booking. lapsed_days 180, reactivation_window_days 60. Two nights, each row
stamped with a newer load id as the loader writes it:
1. reactivation messages r1 to p1 and r2 to p2, both 2026-09-01 (212 days after a1: r1 is
   lapsed; p2 never completed a visit: r2 is not), and p1's visit a3 completed 2026-09-20
   (19 days after: r1 is reactivated);
2. r2 is corrected to p1 (p2 is left without a message: its old row must go although no new
   row names p2) and a3 is cancelled late: r1 and r2 are lapsed and not reactivated. r1's own
   row did not change; it is reached only through p1's visits.
Both copies then run the same selection, one incrementally, one with --full-refresh.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt
from engagement_fixture import (
    SELECTION,
    _appointment,
    insert_rows,
    message_row,
    table_rows,
    twin_copies,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

LATE = datetime(2026, 11, 6, 6, 0, tzinfo=UTC)
SENT = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
REACTIVATIONS = (
    "select message_id, is_lapsed, is_reactivated"
    " from intermediate.int_engagement_reactivations order by all"
)
COMPARED = (
    "select * exclude (patient_key) from intermediate.int_engagement_reactivations order by all",
    "select * from intermediate.int_engagement_kpi_events order by all",
    "select * from marts.kpi_engagement order by all",
)


def _reactivation(mid: str, patient_id: str, night: int) -> dict:
    stamp = LATE + timedelta(hours=night)  # a correction is a newer version of the row
    row = message_row(
        mid, "outbound", "r@example.com", SENT, purpose="reactivation", updated_at=stamp
    )
    return dict(row, patient_id=patient_id)


def _visit(status: str, night: int) -> dict:
    start = datetime(2026, 9, 20, 15, 0, tzinfo=UTC)
    row = _appointment("a3", "p1", booked=SENT + timedelta(hours=1), start=start, status=status)
    if status == "cancelled":
        row.update(cancelled_at=start - timedelta(days=2), cancellation_reason="patient_request")
    return dict(row, updated_at=LATE + timedelta(hours=night))


def _replace(con: duckdb.DuckDBPyConnection, system: str, table: str, key: str, row: dict) -> None:
    con.execute(f'delete from "raw_{system}"."{table}" where {key} = ?', [row[key]])
    insert_rows(con, system, table, [row])


def _night(db: Path, night: int) -> None:
    con = duckdb.connect(str(db))
    try:
        if night == 1:
            _replace(con, "messaging", "messages", "message_id", _reactivation("r1", "p1", night))
            _replace(con, "messaging", "messages", "message_id", _reactivation("r2", "p2", night))
            _replace(con, "pms", "appointments", "appointment_id", _visit("completed", night))
        else:
            _replace(con, "messaging", "messages", "message_id", _reactivation("r2", "p1", night))
            _replace(con, "pms", "appointments", "appointment_id", _visit("cancelled", night))
    finally:
        con.close()


def _patients(db: Path) -> int:
    return table_rows(
        db, "select count(distinct patient_key) from intermediate.int_engagement_reactivations"
    )[0][0]


def test_reactivations_incremental_equal_full_refresh_when_a_message_moves(
    engagement_built: Path, tmp_path: Path
) -> None:
    incremental, full = twin_copies(engagement_built, tmp_path)
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    compiled = incremental.parent / "target" / "compiled"

    _night(incremental, 1)
    dbt(build, incremental, incremental.parent)
    assert table_rows(incremental, REACTIVATIONS) == [("r1", True, True), ("r2", False, False)]
    assert _patients(incremental) == 2

    _night(incremental, 2)
    dbt(build, incremental, incremental.parent)
    # the narrow path: only the patients whose visits or messages the night rewrote
    text = next(compiled.rglob("int_engagement_reactivations.sql")).read_text()
    assert "dirty_patients" in text and "int_patient_visits__touched" in text
    assert table_rows(incremental, REACTIVATIONS) == [("r1", True, False), ("r2", True, False)]
    assert _patients(incremental) == 1  # p2's row went, and no marker row is left

    for night in (1, 2):
        _night(full, night)
    dbt([*build, "--full-refresh"], full, full.parent)
    for sql in COMPARED:
        assert table_rows(incremental, sql) == table_rows(full, sql), sql
