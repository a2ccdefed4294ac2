"""int_lead_kpi_events built incrementally equals a full refresh after nights that reach each
kind of its events: a lead, a spend day, a patient's first visit.

The engagement clinic (engagement_fixture.py): leads ld1 (web_form, 2026-11-02 14:00Z = 09:00
in New York), ld2 and ld3; patient p1 whose only completed visit is a1 (2026-02-01), p2 with a
booking only; no spend. Three nights, each row stamped with a newer load id as the loader
writes it:
1. ld1 is corrected to instagram, created 2026-11-04 16:00Z (its events leave 11-02 for
   11-04); spend arrives: web_form on 11-02 in three campaigns (10.10 + 20.20 + 0.70 = 31.00,
   one of them without a campaign) and instagram on 11-03 (5.05); a new patient p3 completes
   a first visit a3 on 2026-11-03 (a cac denominator);
2. the 11-02 web_form campaign `b` is corrected to 20.30 (the day sums to 31.10), the 11-03
   instagram spend is deleted (its event must go although no new row names it), and p1's only
   completed visit a1 is cancelled late (p1 has no first visit any more: its cac event must go);
3. an ordinary night: a new lead ld4.
Both copies then run the same selection, one incrementally each night, one with --full-refresh.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt
from engagement_fixture import (
    SELECTION,
    _appointment,
    insert_rows,
    lead_row,
    table_rows,
    twin_copies,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

LATE = datetime(2026, 11, 6, 6, 0, tzinfo=UTC)
LD1_CREATED = datetime(2026, 11, 4, 16, tzinfo=UTC)
EVENTS = "intermediate.int_lead_kpi_events"
COMPARED = (
    f"select * from {EVENTS} order by all",
    "select * from marts.kpi_engagement order by all",
    "select * from marts.kpi_by_channel order by all",
)
CAC = (
    f"select event_key, location_id, lead_channel, event_date, numerator, denominator from {EVENTS}"
    " where kpi = 'cac' order by all"
)


def _stamp(night: int) -> datetime:
    return LATE + timedelta(hours=night)  # a correction is a newer version of the row


def _spend(day: int, channel: str, campaign: str | None, amount: str, night: int) -> dict:
    return dict(
        spend_date=date(2026, 11, day),
        location_id="L1",
        channel=channel,
        campaign=campaign,
        amount=Decimal(amount),
        updated_at=_stamp(night),
    )


def _patient_p3(night: int) -> dict:
    return dict(
        patient_id="p3",
        first_name="Anastasia",
        last_name="Secretname",
        email="cy@example.com",
        phone="3035550177",
        date_of_birth=date(1992, 3, 3),
        sex="F",
        postal_code="94110",
        home_location_id="L1",
        acquisition_channel="instagram",
        referred_by_patient_id=None,
        created_at=datetime(2026, 10, 30, 15, tzinfo=UTC),
        updated_at=_stamp(night),
    )


def _visit(aid: str, pid: str, start: datetime, status: str, night: int) -> dict:
    row = _appointment(aid, pid, booked=start - timedelta(days=7), start=start, status=status)
    if status == "cancelled":
        row.update(cancelled_at=start - timedelta(days=2), cancellation_reason="patient_request")
    return dict(row, updated_at=_stamp(night))


def _night(db: Path, night: int) -> None:
    con = duckdb.connect(str(db))
    try:
        if night == 1:
            created = LD1_CREATED
            lead = lead_row("ld1", created, "instagram", "4155550134", None, _stamp(night))
            con.execute("delete from raw_crm.leads where lead_id = 'ld1'")
            insert_rows(con, "crm", "leads", [lead])
            insert_rows(
                con,
                "crm",
                "marketing_spend",
                [
                    _spend(2, "web_form", "a", "10.10", night),
                    _spend(2, "web_form", "b", "20.20", night),
                    _spend(2, "web_form", None, "0.70", night),
                    _spend(3, "instagram", "c", "5.05", night),
                ],
            )
            insert_rows(con, "pms", "patients", [_patient_p3(night)])
            start = datetime(2026, 11, 3, 15, tzinfo=UTC)
            insert_rows(con, "pms", "appointments", [_visit("a3", "p3", start, "completed", night)])
        elif night == 2:
            con.execute(
                "delete from raw_crm.marketing_spend where campaign = 'b' or channel = 'instagram'"
            )
            insert_rows(con, "crm", "marketing_spend", [_spend(2, "web_form", "b", "20.30", night)])
            con.execute("delete from raw_pms.appointments where appointment_id = 'a1'")
            start = datetime(2026, 2, 1, 15, tzinfo=UTC)
            insert_rows(con, "pms", "appointments", [_visit("a1", "p1", start, "cancelled", night)])
        else:
            created = datetime(2026, 11, 5, 16, tzinfo=UTC)
            lead = lead_row("ld4", created, "web_form", None, "new@example.com", _stamp(night))
            insert_rows(con, "crm", "leads", [lead])
    finally:
        con.close()


def _took_narrow_path(db: Path) -> None:
    """The events recomputed only the written leads and patients and the changed spend days."""
    compiled = db.parent / "target" / "compiled"
    text = next(compiled.rglob("int_lead_kpi_events.sql")).read_text()
    assert "changed_spend" in text and "written_keys" in text


def _written(db: Path) -> set[str]:
    return {
        key
        for (key,) in table_rows(
            db,
            "select written_key from dbt_state.written_keys"
            " where model_name = 'int_lead_kpi_events' and written_key is not null",
        )
    }


def _touched(db: Path) -> set[tuple[str, date]]:
    return set(
        table_rows(
            db,
            "select location_id, event_date from dbt_state.int_lead_kpi_events__touched"
            " where not is_marker",
        )
    )


def test_lead_kpi_events_incremental_equal_full_refresh(
    engagement_built: Path, tmp_path: Path
) -> None:
    incremental, full = twin_copies(engagement_built, tmp_path)
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]

    _night(incremental, 1)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
    # ld1 (moved), the two new spend days, p3 (new first visit): nothing else was recomputed
    written = _written(incremental)
    assert "lead|" + _lead_key(incremental) in written
    assert "spend|L1|web_form|2026-11-02" in written and "spend|L1|instagram|2026-11-03" in written
    assert not any(
        key.startswith("lead|") and key != "lead|" + _lead_key(incremental) for key in written
    )
    # both sides of ld1's move are in the touched record
    assert {("L1", date(2026, 11, 2)), ("L1", date(2026, 11, 4))} <= _touched(incremental)
    # one spend event per location x channel x day, summed as decimals: 10.10 + 20.20 + 0.70
    spend = [r for r in table_rows(incremental, CAC) if r[0].startswith("spend|")]
    assert [(r[3], r[4]) for r in spend] == [(date(2026, 11, 3), 5.05), (date(2026, 11, 2), 31.0)]

    _night(incremental, 2)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
    cac = table_rows(incremental, CAC)
    # the deleted instagram day and p1's first visit are gone; 10.10 + 20.30 + 0.70 = 31.10
    assert [r[4] for r in cac if r[0].startswith("spend|")] == [31.1]
    assert [r[1:4] for r in cac if r[0].startswith("patient|")] == [
        ("L1", "instagram", date(2026, 11, 3))
    ]
    assert table_rows(incremental, f"select count(*) from {EVENTS} where kpi is null") == [(0,)]

    _night(incremental, 3)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
    assert {key.split("|")[0] for key in _written(incremental)} == {"lead"}

    for night in (1, 2, 3):
        _night(full, night)
    dbt([*build, "--full-refresh"], full, full.parent)
    for sql in COMPARED:
        assert table_rows(incremental, sql) == table_rows(full, sql), sql


def _lead_key(db: Path) -> str:
    """ld1's pseudonymous key: the only lead created at LD1_CREATED after night 1."""
    sql = "select lead_key from marts.fct_leads where created_at = '{}'"
    rows = table_rows(db, sql.format(LD1_CREATED.isoformat()))
    assert len(rows) == 1
    return rows[0][0]


def test_lead_kpi_events_built_before_event_key_gain_it_and_rebuild_whole(
    engagement_built: Path, tmp_path: Path
) -> None:
    """A table built before the model was incremental (no `event_key`, no build on record):
    the next night adds the column outside the model's transaction, rebuilds every key and
    equals a full refresh; the night after takes the narrow path."""
    incremental, full = twin_copies(engagement_built, tmp_path)
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    con = duckdb.connect(str(incremental))
    try:
        con.execute(f"alter table {EVENTS} drop column event_key")
        con.execute("delete from dbt_state.model_builds where model_name = 'int_lead_kpi_events'")
    finally:
        con.close()
    _night(incremental, 1)
    dbt(build, incremental, incremental.parent)
    compiled = incremental.parent / "target" / "compiled"
    assert "changed_spend" not in next(compiled.rglob("int_lead_kpi_events.sql")).read_text()
    _night(full, 1)
    dbt([*build, "--full-refresh"], full, full.parent)
    for sql in COMPARED:
        assert table_rows(incremental, sql) == table_rows(full, sql), sql
    _night(incremental, 2)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
