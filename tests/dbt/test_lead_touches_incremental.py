"""int_lead_touches built incrementally equals a full refresh when touches leave a lead.

The engagement clinic (engagement_fixture.py) has lead ld1 (phone 415-555-0134: calls c1 and
c3), ld2 (email bo@example.com: messages m1 and m2) and ld3 (phone 646-555-0101: call c2).
A late delta, each row stamped with a newer load id as the loader writes it:
- ld2's email is corrected to an address nobody wrote from: m1 and m2 are no longer its
  touches and ld2 is left with none (its old rows must go although no new row names it);
- call c3 is corrected to ld3's number: it leaves ld1 (which keeps c1) and joins ld3.
Both copies then run the same selection, one incrementally, one with --full-refresh.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt
from engagement_fixture import call_row, insert_rows, lead_row, table_rows, twin_copies
from test_engagement_incremental import LATE, _utc

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

SELECTION = ["+fct_leads"]
TOUCHES = "select * from intermediate.int_lead_touches order by all"


def _apply_delta(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from raw_crm.leads where lead_id = 'ld2'")
        ld2 = lead_row(
            "ld2",
            created=_utc(2026, 11, 3, 14),
            channel="instagram",
            phone=None,
            email="someone.else@example.com",
            updated_at=LATE,
        )
        insert_rows(con, "crm", "leads", [ld2])
        con.execute("delete from raw_phone.calls where call_id = 'c3'")
        c3 = call_row(
            "c3",
            "outbound",
            "+1 646 555 0101",
            _utc(2026, 11, 2, 13),
            answered=_utc(2026, 11, 2, 13, 0, 20),
            outcome="answered",
            updated_at=LATE,
        )
        insert_rows(con, "phone", "calls", [c3])
    finally:
        con.close()


# lead keys are pseudonymised: a fixture lead is known by the day it was created
LEAD_BY_CREATED_DAY = {2: "ld1", 3: "ld2", 4: "ld3"}


def _touches_by_lead(db: Path) -> dict[str, set[str]]:
    """Touch ids per fixture lead."""
    rows = table_rows(
        db,
        "select day(leads.created_at at time zone 'UTC'), touches.touch_id"
        " from intermediate.int_lead_touches as touches"
        " inner join staging.stg_crm__leads as leads on touches.lead_key = leads.lead_key",
    )
    by_lead: dict[str, set[str]] = {}
    for created_day, touch_id in rows:
        by_lead.setdefault(LEAD_BY_CREATED_DAY[created_day], set()).add(touch_id)
    return by_lead


def test_lead_touches_incremental_equals_full_refresh_when_touches_move(
    engagement_built: Path, tmp_path: Path
) -> None:
    incremental, full = twin_copies(engagement_built, tmp_path)
    before = _touches_by_lead(incremental)
    assert before["ld1"] == {"c1", "c3"} and before["ld2"] == {"m1", "m2"}
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    for db, extra in ((incremental, []), (full, ["--full-refresh"])):
        _apply_delta(db)
        dbt([*build, *extra], db, db.parent)

    # the incremental run recomputed only the leads the delta touched
    compiled = next((incremental.parent / "target" / "compiled").rglob("int_lead_touches.sql"))
    assert "dirty_leads" in compiled.read_text()
    after = _touches_by_lead(incremental)
    assert "ld2" not in after  # no touch left, and no leftover marker row
    assert after["ld1"] == {"c1"}
    assert "c3" in after["ld3"]
    assert table_rows(incremental, TOUCHES) == table_rows(full, TOUCHES)
    leads = "select * from marts.fct_leads order by all"
    assert table_rows(incremental, leads) == table_rows(full, leads)
