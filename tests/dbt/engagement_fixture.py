"""A tiny, hand-checked clinic written straight into the raw layer for the engagement models.

One New York location; two patients; three leads whose contacts are spelled differently in
each silo (`+1 (415) 555-0134` in the PMS, `4155550134` in the CRM and the phone system), a
call placed before a lead existed, an email reply in mixed case. No reviews system and no ad
spend at all (a partial clinic). Every number the tests assert is worked out in the test docstrings.
"""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from ingestion.contract import load_contract
from ingestion.meta import ensure_lineage_columns
from ingestion.raw_schema import ensure_meta_tables, ensure_raw_tables

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt_project"
STAMP = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)

#: PHI written into the raw layer that must never appear downstream of it.
PHI_VALUES = (
    "4155550134",
    "2125550199",
    "6465550101",
    "example.com",
    "Secretname",
    "Anastasia",
    "secret body text",
    "94110",
    "3035550177",
)

#: The models these tests build (and every ancestor, dbt-core's included).
SELECTION = ["+kpi_engagement", "+kpi_by_channel", "+data_coverage", "+kpi_coverage"]


def _utc(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def _rows() -> dict[tuple[str, str], list[dict]]:
    return {
        ("pms", "locations"): [
            dict(
                location_id="L1",
                name="Uptown",
                timezone="America/New_York",
                opened_on=date(2025, 1, 6),
                closed_on=None,
                updated_at=STAMP,
            ),
            dict(
                location_id="L2",
                name="Bayside",
                timezone="America/Los_Angeles",
                opened_on=date(2025, 1, 6),
                closed_on=None,
                updated_at=STAMP,
            ),
        ],
        ("pms", "patients"): [
            dict(
                patient_id="p1",
                first_name="Anastasia",
                last_name="Secretname",
                email=" Ana@Example.COM ",
                phone="+1 (415) 555-0134",
                date_of_birth=date(1990, 5, 5),
                sex="F",
                postal_code="94110",
                home_location_id="L1",
                acquisition_channel="web_form",
                referred_by_patient_id=None,
                created_at=_utc(2026, 1, 5, 15),
                updated_at=STAMP,
            ),
            dict(
                patient_id="p2",
                first_name="Bo",
                last_name="Secretname",
                email="bo@example.com",
                phone="(212) 555-0199",
                date_of_birth=date(1985, 1, 1),
                sex="M",
                postal_code="10001",
                home_location_id="L1",
                acquisition_channel="instagram",
                referred_by_patient_id=None,
                created_at=_utc(2026, 1, 5, 15),
                updated_at=STAMP,
            ),
        ],
        ("pms", "appointments"): [
            _appointment(
                "a1",
                "p1",
                booked=_utc(2026, 1, 20, 15),
                start=_utc(2026, 2, 1, 15),
                status="completed",
            ),
            _appointment(
                "a2",
                "p2",
                booked=_utc(2026, 11, 3, 16),
                start=_utc(2026, 11, 12, 15),
                status="booked",
            ),
        ],
        ("crm", "leads"): [
            lead_row(
                "ld1",
                created=_utc(2026, 11, 2, 14),
                channel="web_form",
                phone="4155550134",
                email=None,
            ),
            lead_row(
                "ld2",
                created=_utc(2026, 11, 3, 14),
                channel="instagram",
                phone=None,
                email="BO@example.com ",
            ),
            lead_row(
                "ld3",
                created=_utc(2026, 11, 4, 14),
                channel="instagram",
                phone="+1 646 555 0101",
                email=None,
            ),
        ],
        ("phone", "calls"): [
            call_row(
                "c1",
                "inbound",
                "+1 (415) 555-0134",
                _utc(2026, 11, 2, 14, 5),
                answered=_utc(2026, 11, 2, 14, 5, 30),
                outcome="answered",
            ),
            call_row(
                "c2",
                "inbound",
                "+16465550101",
                _utc(2026, 11, 4, 14, 10),
                answered=None,
                outcome="missed",
            ),
            call_row(
                "c3",
                "outbound",
                "4155550134",
                _utc(2026, 11, 2, 13),
                answered=_utc(2026, 11, 2, 13, 0, 20),
                outcome="answered",
            ),
            # At the second location, to a number nobody else has (no KPI counts it).
            call_row(
                "c9",
                "outbound",
                "+1 303 555 0177",
                _utc(2026, 11, 4, 18),
                answered=None,
                outcome="busy",
                location_id="L2",
            ),
        ],
        ("messaging", "messages"): [
            message_row(
                "m1",
                "outbound",
                "bo@EXAMPLE.com",
                _utc(2026, 11, 3, 14, 20),
                purpose="lead_followup",
            ),
            message_row("m2", "inbound", "Bo@Example.com", _utc(2026, 11, 3, 14, 25), purpose=None),
        ],
    }


def _appointment(aid: str, pid: str, booked: datetime, start: datetime, status: str) -> dict:
    return dict(
        appointment_id=aid,
        patient_id=pid,
        location_id="L1",
        provider_id="pr1",
        room_id=None,
        service_id="s1",
        device_id=None,
        booking_channel="online",
        booked_at=booked,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        status=status,
        confirmation_requested_at=None,
        confirmation_response=None,
        confirmation_responded_at=None,
        checked_in_at=None,
        checked_out_at=None,
        cancelled_at=None,
        cancellation_reason=None,
        rescheduled_from_appointment_id=None,
        updated_at=STAMP,
    )


def lead_row(
    lid: str,
    created: datetime,
    channel: str,
    phone: str | None,
    email: str | None,
    updated_at: datetime = STAMP,
) -> dict:
    return dict(
        lead_id=lid,
        location_id="L1",
        created_at=created,
        channel=channel,
        campaign=None,
        first_name="Anastasia",
        last_name="Secretname",
        email=email,
        phone=phone,
        interested_category=None,
        patient_id=None,
        status="new",
        updated_at=updated_at,
    )


def call_row(
    cid: str,
    direction: str,
    number: str,
    started: datetime,
    answered: datetime | None,
    outcome: str,
    updated_at: datetime = STAMP,
    location_id: str = "L1",
) -> dict:
    return dict(
        call_id=cid,
        location_id=location_id,
        direction=direction,
        external_number=number,
        started_at=started,
        answered_at=answered,
        ended_at=started + timedelta(minutes=3),
        outcome=outcome,
        answered_by="staff" if answered else None,
        tracking_source=None,
        updated_at=updated_at,
    )


def message_row(
    mid: str,
    direction: str,
    address: str,
    sent: datetime,
    purpose: str | None,
    updated_at: datetime = STAMP,
) -> dict:
    return dict(
        message_id=mid,
        location_id="L1",
        channel="email",
        direction=direction,
        contact_address=address,
        sent_at=sent,
        purpose=purpose,
        appointment_id=None,
        patient_id=None,
        lead_id=None,
        link_clicked_at=None,
        delivery_status="delivered",
        body="secret body text",
        updated_at=updated_at,
    )


#: One load id per `insert_rows` call, increasing, as dlt stamps a load (`_dlt_load_id`).
_LOAD_IDS = itertools.count(1_764_000_000)


def insert_rows(con: duckdb.DuckDBPyConnection, system: str, table: str, rows: list[dict]) -> None:
    """Insert dicts into raw_<system>.<table> by column name (rows replace same-key rows),
    stamped with a new load id like one load of the loader (the incremental models key on it)."""
    load_id = f"{next(_LOAD_IDS)}.0"
    for row in rows:
        row = {**row, "_dlt_load_id": load_id}
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(
            f'INSERT INTO "raw_{system}"."{table}" ({cols}) VALUES ({marks})', list(row.values())
        )


def write_raw(path: Path) -> Path:
    """Create every contract table (most stay empty) and insert the fixture rows."""
    con = duckdb.connect(str(path))
    try:
        ensure_raw_tables(con)
        ensure_meta_tables(con)
        ensure_lineage_columns(con, load_contract())
        for (system, table), rows in _rows().items():
            insert_rows(con, system, table, rows)
    finally:
        con.close()
    return path


def table_rows(db: Path, sql: str) -> list[tuple]:
    """The rows of `sql` on warehouse `db`, opened read-only (tests compare two warehouses)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def twin_copies(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the built warehouse in their own folders: one to build incrementally,
    one to build with --full-refresh, so a test compares the two row for row."""
    copies = (tmp_path / "inc" / "warehouse.duckdb", tmp_path / "full" / "warehouse.duckdb")
    for db in copies:
        db.parent.mkdir()
        shutil.copy(built, db)
    return copies
