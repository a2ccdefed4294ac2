"""fct_calls and fct_messages built incrementally equal a full refresh after late changes.

Delta applied to the built fixture clinic (engagement_fixture.py):
- call c2 is updated late: answered after all (newer updated_at);
- a new lead ld4 with c2's number in yet another format, created 11-04 14:05Z (after ld3, before
  c2), arrives with an updated_at OLDER than everything already loaded: a watermark on
  updated_at would never see it, but c2 must now belong to ld4;
- a new inbound message m3 from that number;
- the location moves to America/Chicago: every local time shifts by one hour.
Both copies then run the same selection, one incrementally, one with --full-refresh.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from engagement_fixture import SELECTION, _call, _lead, _message, dbt, insert_rows

pytestmark = pytest.mark.xdist_group("e2e")

LATE = datetime(2026, 11, 6, 6, 0, tzinfo=timezone.utc)
OLD = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)


def _apply_delta(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from raw_phone.calls where call_id = 'c2'")
        insert_rows(con, "phone", "calls", [_call(
            "c2", "inbound", "+16465550101", datetime(2026, 11, 4, 14, 10, tzinfo=timezone.utc),
            answered=datetime(2026, 11, 4, 14, 10, 20, tzinfo=timezone.utc), outcome="answered",
            updated_at=LATE,
        )])
        insert_rows(con, "crm", "leads", [_lead(
            "ld4", created=datetime(2026, 11, 4, 14, 5, tzinfo=timezone.utc), channel="phone",
            phone="(646) 555-0101", email=None, updated_at=OLD,
        )])
        insert_rows(con, "messaging", "messages", [_message(
            "m3", "inbound", "+1 646-555-0101", datetime(2026, 11, 4, 14, 30, tzinfo=timezone.utc),
            purpose=None, updated_at=LATE,
        )])
        con.execute(
            "update raw_pms.locations set timezone = 'America/Chicago', updated_at = ? "
            "where location_id = 'L1'", [LATE],
        )
    finally:
        con.close()


def _table(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_incremental_facts_equal_full_refresh_after_late_updates(
    engagement_built: Path, tmp_path: Path
):
    incremental, full = tmp_path / "inc" / "warehouse.duckdb", tmp_path / "full" / "warehouse.duckdb"
    for db in (incremental, full):
        db.parent.mkdir()
        shutil.copy(engagement_built, db)
        _apply_delta(db)
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    dbt(build, incremental, incremental.parent)
    dbt([*build, "--full-refresh"], full, full.parent)

    for sql in (
        "select * exclude (identity_fingerprint) from marts.fct_calls order by call_id",
        "select * exclude (identity_fingerprint) from marts.fct_messages order by message_id",
        "select * from marts.kpi_engagement order by all",
    ):
        assert _table(incremental, sql) == _table(full, sql), sql

    # The delta really changed what the incremental run had to rebuild.
    c2 = _table(incremental, "select lead_key, is_missed, hour(started_at_local) "
                             "from marts.fct_calls where call_id = 'c2'")
    ld4 = _table(incremental, "select lead_key from marts.fct_leads where channel = 'phone'")
    assert c2 == [(ld4[0][0], False, 8)]  # 14:10Z = 08:10 in Chicago
