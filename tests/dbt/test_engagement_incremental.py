"""fct_calls and fct_messages built incrementally equal a full refresh after late changes.

Each change below reaches exactly one fact row through one path, so a broken path shows:
- call c1 is updated late (answered by the AI receptionist; newer updated_at): its own row;
- a new lead ld4 with c2's number in yet another format, created 11-04 14:05Z (after ld3,
  before c2), arrives with an updated_at OLDER than everything already loaded: c2 itself did not
  change and a watermark on updated_at would never look again, but c2 now belongs to ld4
  (identity fingerprint);
- a new inbound message m3 from that number (new row);
- location L2 moves to America/Denver: its only call c9 shifts local time (time-zone lineage).
Both copies then run the same selection, one incrementally, one with --full-refresh. The new
rows carry newer load ids (as the loader writes them), so the incremental run takes the
watermark path: only calls and messages of newer loads, of contacts whose identities changed
and of locations whose time zone changed are computed (the time-zone change is written without
a new load id on purpose: it is found by comparing with the built rows, not by its load). The
contacts' fingerprints as built come from the facts' state table (macros/incremental.sql).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt
from engagement_fixture import (
    call_row,
    insert_rows,
    lead_row,
    message_row,
    table_rows,
    twin_copies,
)

# Its own group: the engagement dbt builds need not queue behind the nightly runs.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

LATE = datetime(2026, 11, 6, 6, 0, tzinfo=UTC)
OLD = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
SELECTION = ["+fct_calls", "+fct_messages", "fct_leads"]


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _apply_delta(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from raw_phone.calls where call_id = 'c1'")
        c1 = call_row(
            "c1",
            "inbound",
            "+1 (415) 555-0134",
            _utc(2026, 11, 2, 14, 5),
            answered=_utc(2026, 11, 2, 14, 5, 30),
            outcome="answered",
            updated_at=LATE,
        )
        insert_rows(con, "phone", "calls", [{**c1, "answered_by": "ai_receptionist"}])
        insert_rows(
            con,
            "crm",
            "leads",
            [
                lead_row(
                    "ld4",
                    created=_utc(2026, 11, 4, 14, 5),
                    channel="phone",
                    phone="(646) 555-0101",
                    email=None,
                    updated_at=OLD,
                )
            ],
        )
        insert_rows(
            con,
            "messaging",
            "messages",
            [
                message_row(
                    "m3",
                    "inbound",
                    "+1 646-555-0101",
                    _utc(2026, 11, 4, 14, 30),
                    purpose=None,
                    updated_at=LATE,
                )
            ],
        )
        con.execute(
            "update raw_pms.locations set timezone = 'America/Denver', updated_at = ? "
            "where location_id = 'L2'",
            [LATE],
        )
    finally:
        con.close()


def _build_both(incremental: Path, full: Path) -> None:
    """The selection built incrementally on one copy and with --full-refresh on the other."""
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(dbt, build, incremental, incremental.parent),
            pool.submit(dbt, [*build, "--full-refresh"], full, full.parent),
        ]
        for run in runs:
            run.result()


def test_incremental_facts_equal_full_refresh_after_late_updates(
    engagement_built: Path, tmp_path: Path
):
    incremental, full = twin_copies(engagement_built, tmp_path)
    for db in (incremental, full):
        _apply_delta(db)
    _build_both(incremental, full)
    for sql in (
        "select * from marts.fct_calls order by call_id",
        "select * from marts.fct_messages order by message_id",
    ):
        assert table_rows(incremental, sql) == table_rows(full, sql), sql

    # Each change really reached the incremental table.
    calls = {
        r[0]: r[1:]
        for r in table_rows(
            incremental,
            "select call_id, answered_by, lead_key, hour(started_at_local) from marts.fct_calls",
        )
    }
    ld4 = table_rows(incremental, "select lead_key from marts.fct_leads where channel = 'phone'")
    assert calls["c1"][0] == "ai_receptionist"
    assert calls["c2"][1] == ld4[0][0]
    assert calls["c9"][2] == 11  # 18:00Z = 11:00 in Denver (was 10:00 in Los Angeles)
    assert table_rows(incremental, "select count(*) from marts.fct_messages") == [(3,)]
    # the moved contacts came from the built contacts' state table, not a scan of the facts
    for model in ("fct_calls", "fct_messages"):
        compiled = next((incremental.parent / "target" / "compiled").rglob(f"{model}.sql"))
        assert f'dbt_state"."{model}__contacts' in compiled.read_text()
        # and only the contacts int_contact_identities rewrote in this run were compared
        assert "int_contact_identities__touched" in compiled.read_text()
        # the built locations' time zones came from their state too (L2's move was found there)
        assert f'dbt_state"."{model}__locations' in compiled.read_text()
    # the run went through the watermark path and recorded the newest call load it read
    watermark = "select load_id from dbt_state.load_watermarks where model_name = 'fct_calls'"
    newest = "select max(_dlt_load_id) from raw_phone.calls"
    assert table_rows(incremental, watermark) == table_rows(incremental, newest) != [(None,)]


def test_missing_locations_state_falls_back_to_the_built_rows(
    engagement_built: Path, tmp_path: Path
) -> None:
    """Without the state of the built locations' time zones (dropped here, as a warehouse
    built before the state existed has none) the facts read the zones of their built rows:
    L2's move to Denver is still found, and the post-hook writes the state whole again."""
    incremental, full = twin_copies(engagement_built, tmp_path)
    for db in (incremental, full):
        _apply_delta(db)
    con = duckdb.connect(str(incremental))
    try:
        for model in ("fct_calls", "fct_messages"):
            con.execute(f"drop table dbt_state.{model}__locations")
    finally:
        con.close()
    _build_both(incremental, full)
    for model in ("fct_calls", "fct_messages"):
        compiled = next((incremental.parent / "target" / "compiled").rglob(f"{model}.sql"))
        assert f"{model}__locations" not in compiled.read_text()
        sql = f"select * from marts.{model} order by all"
        assert table_rows(incremental, sql) == table_rows(full, sql), model
        # the state is whole again: every (location, zone) pair of the built rows
        pairs = f"select distinct location_id, location_timezone from marts.{model} order by all"
        state = f"select * from dbt_state.{model}__locations order by all"
        assert table_rows(incremental, state) == table_rows(incremental, pairs), model
    hour = "select hour(started_at_local) from marts.fct_calls where call_id = 'c9'"
    assert table_rows(incremental, hour) == [(11,)]  # 18:00Z in Denver (was 10:00 in LA)
