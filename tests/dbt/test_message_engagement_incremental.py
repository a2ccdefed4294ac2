"""int_message_post_care_checkins and int_message_review_requests built incrementally equal a
full refresh when a reply, a review and a request move to another contact or patient.

The engagement clinic (engagement_fixture.py): patient p1 (ana@example.com), patient p2
(bo@example.com). post_care_window_hours 72, review_window_days 14. Three nights, each row
stamped with a newer load id as the loader writes it:
1. check-ins k1 to ana and k2 to bo (11-04 10:00Z), ana replies i1 (11-05 10:00Z: 24 h later,
   in the window: k1 answered, k2 not); check-in k3 to bo; review requests q1 to p1 and q2 to
   p2 (11-01 10:00Z) and q3 to p1 (10-01 10:00Z); review v1 by p1 on 11-03 10:00Z (2 days
   after q1, the latest request before it: q1 converted, q2 and q3 not);
2. i1 is corrected to bo (k1 is no longer answered although its own row did not change; k2
   is), k3 turns out undelivered (no longer a check-in: its old row must go), v1 is corrected
   to p2 (q2 converts, q1 no longer; q1's row did not change) and q3 is moved to p2 (sent
   before q2, so q2 stays the latest request before v1); lead ld2's email (bo's) is corrected
   to an address nobody wrote from: the fixture's m1 and m2 (to bo, not rewritten) lose their
   lead only through their contact's identity fingerprint, found on the old side of
   int_contact_identities' touched record; a new patient p3 arrives with lead ld3's phone: ld3
   (not rewritten) gets p3 as its patient through int_lead_patients' narrow path;
3. a new unrelated inbound message from another address, and p2's appointment a2 is corrected
   to p3, booked 11-04 15:00Z (an hour after ld3 was created): ld3 is booked in its window,
   found only through int_patient_visits' touched record (p3's visits).
Both copies then run the same selection, one incrementally each night, one with
--full-refresh after all three.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt
from engagement_fixture import (
    SELECTION,
    _appointment,
    insert_rows,
    lead_row,
    message_row,
    table_rows,
    twin_copies,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

LATE = datetime(2026, 11, 6, 6, 0, tzinfo=UTC)
ANA = "ana@example.com"
BO = "bo@example.com"
CHECKINS = (
    "select message_id, is_answered from intermediate.int_message_post_care_checkins order by all"
)
REQUESTS = (
    "select message_id, is_converted from intermediate.int_message_review_requests order by all"
)
COMPARED = (
    "select * from intermediate.int_message_post_care_checkins order by all",
    "select * from intermediate.int_message_review_requests order by all",
    "select * from intermediate.int_engagement_kpi_events order by all",
    "select * from marts.kpi_engagement order by all",
    "select * from marts.fct_messages order by all",
    "select * from marts.fct_calls order by all",
    "select * from marts.fct_leads order by all",
)


def _utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _message(
    mid: str,
    direction: str,
    address: str,
    sent: datetime,
    night: int,
    purpose: str | None = None,
    patient_id: str | None = None,
    delivery_status: str = "delivered",
) -> dict:
    row = message_row(
        mid, direction, address, sent, purpose=purpose, updated_at=LATE + timedelta(hours=night)
    )
    return dict(row, patient_id=patient_id, delivery_status=delivery_status)


def _review(patient_id: str, night: int) -> dict:
    return dict(
        review_id="v1",
        location_id="L1",
        platform="google",
        posted_at=_utc(11, 3, 10),
        rating=5,
        reviewer_name="Secretname",
        patient_id=patient_id,
        updated_at=LATE + timedelta(hours=night),
    )


def _rows(night: int) -> list[tuple[str, str, str, dict]]:
    """(system, table, key, row) written in `night`."""
    checkin = _utc(11, 4, 10)
    if night == 1:
        messages = [
            _message("k1", "outbound", ANA, checkin, night, "post_care_checkin"),
            _message("k2", "outbound", BO, checkin, night, "post_care_checkin"),
            _message("k3", "outbound", BO, checkin, night, "post_care_checkin"),
            _message("i1", "inbound", ANA, _utc(11, 5, 10), night),
            _message("q1", "outbound", ANA, _utc(11, 1, 10), night, "review_request", "p1"),
            _message("q2", "outbound", BO, _utc(11, 1, 10), night, "review_request", "p2"),
            _message("q3", "outbound", ANA, _utc(10, 1, 10), night, "review_request", "p1"),
        ]
        return [("messaging", "messages", "message_id", row) for row in messages] + [
            ("reviews", "reviews", "review_id", _review("p1", night))
        ]
    if night == 2:
        messages = [
            _message("i1", "inbound", BO, _utc(11, 5, 10), night),
            _message(
                "k3", "outbound", BO, checkin, night, "post_care_checkin", delivery_status="failed"
            ),
            _message("q3", "outbound", BO, _utc(10, 1, 10), night, "review_request", "p2"),
        ]
        ld2 = lead_row(
            "ld2",
            created=datetime(2026, 11, 3, 14, tzinfo=UTC),
            channel="instagram",
            phone=None,
            email="someone.else@example.com",
            updated_at=LATE + timedelta(hours=night),
        )
        return [("messaging", "messages", "message_id", row) for row in messages] + [
            ("reviews", "reviews", "review_id", _review("p2", night)),
            ("crm", "leads", "lead_id", ld2),
            ("pms", "patients", "patient_id", _patient_p3(night)),
        ]
    other = _message("n1", "inbound", "nobody@example.org", _utc(11, 5, 12), night)
    a2 = _appointment("a2", "p3", booked=_utc(11, 4, 15), start=_utc(11, 12, 15), status="booked")
    return [
        ("messaging", "messages", "message_id", other),
        (
            "pms",
            "appointments",
            "appointment_id",
            dict(a2, updated_at=LATE + timedelta(hours=night)),
        ),
    ]


def _patient_p3(night: int) -> dict:
    return dict(
        patient_id="p3",
        first_name="Cy",
        last_name="Secretname",
        email=None,
        phone="+1 646 555 0101",
        date_of_birth=date(1980, 3, 3),
        sex="M",
        postal_code="94110",
        home_location_id="L1",
        acquisition_channel="web_form",
        referred_by_patient_id=None,
        created_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
        updated_at=LATE + timedelta(hours=night),
    )


def _ld3(db: Path) -> tuple:
    """ld3's (has a patient, booked in window): lead keys are pseudonymised, ld3 is the lead
    created on 11-04."""
    return table_rows(
        db,
        "select patient_key is not null, is_booked_in_window from marts.fct_leads"
        " where day(created_at at time zone 'UTC') = 4",
    )[0]


def _night(db: Path, night: int) -> None:
    con = duckdb.connect(str(db))
    try:
        for system, table, key, row in _rows(night):
            con.execute(f'delete from "raw_{system}"."{table}" where {key} = ?', [row[key]])
            insert_rows(con, system, table, [row])
    finally:
        con.close()


def _took_narrow_path(db: Path) -> None:
    compiled = db.parent / "target" / "compiled"
    checkins = next(compiled.rglob("int_message_post_care_checkins.sql")).read_text()
    requests = next(compiled.rglob("int_message_review_requests.sql")).read_text()
    assert "fct_messages__touched" in checkins
    assert "dirty_patients" in requests and "fct_messages__touched" in requests
    for model in ("fct_messages", "fct_calls", "int_lead_patients"):
        text = next(compiled.rglob(f"{model}.sql")).read_text()
        assert "int_contact_identities__touched" in text, model
    leads = next(compiled.rglob("fct_leads.sql")).read_text()
    assert "dirty_leads" in leads and "int_patient_visits__touched" in leads


def _read_newer_loads_by_constant(db: Path) -> bool:
    """Did fct_messages' last build filter the newer loads on its watermark as a constant (the
    filter DuckDB pushes into the scan, macros/incremental.sql)?"""
    compiled = next((db.parent / "target" / "compiled").rglob("fct_messages.sql")).read_text()
    return re.search(r"messages\._dlt_load_id > '[^']+'", compiled) is not None


def test_message_engagement_incremental_equals_full_refresh_when_replies_and_reviews_move(
    engagement_built: Path, tmp_path: Path
) -> None:
    incremental, full = twin_copies(engagement_built, tmp_path)
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    _night(incremental, 1)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
    assert table_rows(incremental, CHECKINS) == [("k1", True), ("k2", False), ("k3", False)]
    assert table_rows(incremental, REQUESTS) == [("q1", True), ("q2", False), ("q3", False)]

    _night(incremental, 2)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
    assert _read_newer_loads_by_constant(incremental)
    # k3's old row went (no marker row left); k1 lost its reply to k2; v1 moved to p2's q2
    assert table_rows(incremental, CHECKINS) == [("k1", False), ("k2", True)]
    assert table_rows(incremental, REQUESTS) == [("q1", False), ("q2", True), ("q3", False)]
    # m1 and m2 (bo's, not rewritten) lost ld2: no message is matched to a lead any more
    assert table_rows(
        incremental, "select count(*) from marts.fct_messages where lead_key is not null"
    ) == [(0,)]
    assert _ld3(incremental) == (True, False)

    _night(incremental, 3)
    dbt(build, incremental, incremental.parent)
    _took_narrow_path(incremental)
    assert _read_newer_loads_by_constant(incremental)
    assert _ld3(incremental) == (True, True)

    for night in (1, 2, 3):
        _night(full, night)
    dbt([*build, "--full-refresh"], full, full.parent)
    for sql in COMPARED:
        assert table_rows(incremental, sql) == table_rows(full, sql), sql


def test_review_requests_built_before_credited_review_id_gain_it_and_rebuild_whole(
    engagement_built: Path, tmp_path: Path
) -> None:
    """A warehouse whose int_message_review_requests was built by the earlier definition (a
    table without `credited_review_id`, no build of the model on record) gets the column added
    before the model's transaction, and that nightly rebuilds every request."""
    incremental, full = twin_copies(engagement_built, tmp_path)
    for db in (incremental, full):
        _night(db, 1)
    con = duckdb.connect(str(incremental))
    try:
        con.execute(
            "alter table intermediate.int_message_review_requests drop column credited_review_id"
        )
        con.execute(
            "delete from dbt_state.model_builds where model_name = 'int_message_review_requests'"
        )
    finally:
        con.close()
    build = ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"]
    dbt(build, incremental, incremental.parent)
    compiled = incremental.parent / "target" / "compiled"
    requests = next(compiled.rglob("int_message_review_requests.sql")).read_text()
    assert "dirty_patients" not in requests  # the whole rebuild
    dbt([*build, "--full-refresh"], full, full.parent)
    sql = "select * from intermediate.int_message_review_requests order by all"
    assert table_rows(incremental, sql) == table_rows(full, sql)
    assert table_rows(incremental, REQUESTS) == [("q1", True), ("q2", False), ("q3", False)]
