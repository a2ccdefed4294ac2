"""Tiny hand-made warehouses for the quality suites: raw contract tables and mart tables.

Each builder writes one DuckDB file with rows small enough to check by eye; the bad variants
add one crafted defect per rule, so every failure has a known observed value.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from ingestion.raw_schema import ensure_raw_tables

TS = "2026-11-02 10:00:00+00"
#: Values that must never leave the raw layer (PHI and a raw patient id).
PHI_MARKERS = ("Jane", "Doe", "jane@example.com", "4155550134", "1980-05-01", "94110", "PAT-7731")


def insert(con: duckdb.DuckDBPyConnection, relation: str, rows: Iterable[dict[str, Any]]) -> None:
    """Insert dict rows by column name (unnamed contract columns stay null)."""
    for row in rows:
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"insert into {relation} ({cols}) values ({marks})", list(row.values()))


def appointment(appointment_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "appointment_id": appointment_id,
        "patient_id": "PAT-7731",
        "location_id": "L1",
        "provider_id": "PR1",
        "service_id": "S1",
        "booking_channel": "phone",
        "booked_at": "2026-11-01 09:00:00+00",
        "scheduled_start": "2026-11-02 10:00:00+00",
        "scheduled_end": "2026-11-02 11:00:00+00",
        "status": "completed",
        "updated_at": TS,
    }
    return {**row, **overrides}


PATIENT = {
    "patient_id": "PAT-7731",
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@example.com",
    "phone": "+1 (415) 555-0134",
    "date_of_birth": "1980-05-01",
    "sex": "F",
    "postal_code": "94110",
    "home_location_id": "L1",
    "created_at": TS,
    "updated_at": TS,
}
HOURS = {
    "location_id": "L1",
    "weekday": 1,
    "valid_from": "2026-01-01",
    "opens_at": "09:00",
    "closes_at": "17:00",
    "updated_at": TS,
}
REVIEW = {
    "review_id": "R1",
    "location_id": "L1",
    "platform": "google",
    "posted_at": TS,
    "rating": 5,
    "reviewer_name": "J. D.",
    "updated_at": TS,
}
PLAN = {
    "plan_id": "M1",
    "name": "Glow Annual",
    "price": 99.0,
    "billing_period_months": 12,
    "updated_at": TS,
}
CALL = {
    "call_id": "C1",
    "location_id": "L1",
    "direction": "inbound",
    "external_number": "+1 (415) 555-0134",
    "started_at": "2026-11-02 10:00:00+00",
    "ended_at": "2026-11-02 10:05:00+00",
    "outcome": "answered",
    "updated_at": TS,
}
SPEND = {
    "spend_date": "2026-11-02",
    "location_id": "L1",
    "channel": "google",
    "campaign": "fall",
    "amount": 10.0,
    "updated_at": TS,
}
SURVEY = {
    "survey_id": "V1",
    "patient_id": "PAT-7731",
    "appointment_id": "A1",
    "sent_at": TS,
    "nps_score": 9,
    "updated_at": TS,
}

#: The raw suites the fixtures exercise.
RAW_SUITES = (
    "raw_pms__appointments",
    "raw_pms__patients",
    "raw_pms__location_hours",
    "raw_reviews__reviews",
    "raw_pms__membership_plans",
    "raw_phone__calls",
    "raw_crm__marketing_spend",
    "raw_reviews__surveys",
)


def build_good_raw(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con)
        insert(con, "raw_pms.appointments", [appointment("A1"), appointment("A2")])
        insert(con, "raw_pms.patients", [PATIENT])
        insert(con, "raw_pms.location_hours", [HOURS, {**HOURS, "weekday": 2}])
        insert(con, "raw_reviews.reviews", [REVIEW])
        insert(con, "raw_pms.membership_plans", [PLAN])
        insert(con, "raw_phone.calls", [CALL])
        insert(con, "raw_crm.marketing_spend", [SPEND])
        insert(con, "raw_reviews.surveys", [SURVEY])
    return path


def build_bad_raw(path: Path) -> Path:
    """The good rows plus one crafted defect per expectation kind."""
    build_good_raw(path)
    with duckdb.connect(str(path)) as con:
        insert(
            con,
            "raw_pms.appointments",
            [
                appointment("A1"),  # duplicate key
                appointment("A3", booking_channel="fax"),  # unknown enum value
                appointment("A4", patient_id=None),  # required column null
                appointment("A5", scheduled_end="2026-11-02 09:00:00+00"),  # ends before start
                appointment("A6", updated_at="1999-12-31 23:00:00+00"),  # implausible timestamp
            ],
        )
        insert(con, "raw_pms.patients", [PATIENT])  # duplicate patient: PHI row twice
        insert(con, "raw_pms.location_hours", [HOURS])  # duplicate composite key
        insert(con, "raw_reviews.reviews", [{**REVIEW, "review_id": "R2", "rating": 6}])
        insert(
            con, "raw_pms.membership_plans", [{**PLAN, "plan_id": "M2", "billing_period_months": 6}]
        )
        insert(
            con,
            "raw_phone.calls",
            [{**CALL, "call_id": "C2", "ended_at": "2026-11-02 09:59:00+00"}],
        )
        # A table whose extract lost a contract column, and one with a wrongly typed column.
        con.execute("drop table raw_crm.marketing_spend")
        con.execute(
            "create table raw_crm.marketing_spend as select date '2026-11-02' as spend_date, "
            "'L1' as location_id, 'google' as channel, 'fall' as campaign, "
            "timestamptz '2026-11-02 10:00:00+00' as updated_at"
        )
        con.execute("alter table raw_reviews.surveys alter nps_score type varchar")
    return path


def scorecard_row(
    grain: str,
    period_start: str,
    location_id: str,
    kpi: str,
    value: float | None,
    numerator: float | None = None,
    denominator: float | None = None,
) -> dict[str, Any]:
    return {
        "grain": grain,
        "period_start": period_start,
        "location_id": location_id,
        "kpi": kpi,
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "status": "no_target",
        "is_final": True,
    }


W, M = "2026-11-02", "2026-11-01"
#: Every fixture location's zone: the as-of (2026-11-16 07:00 UTC) is 02:00 there, so week W
#: has ended and month M (through November) is still open.
TIMEZONE = "America/New_York"


def _open(row: dict[str, Any]) -> dict[str, Any]:
    """The row of a period still open at the as-of time: not final."""
    return {**row, "is_final": False}


GOOD_SCORECARD = [
    # Paid lines: L1 100.00, L2 20.00 (L1's unpaid 50.00 counts for nothing).
    scorecard_row("week", W, "L1", "net_revenue", 100.0),
    scorecard_row("week", W, "L2", "net_revenue", 20.0),
    scorecard_row("week", W, "_all", "net_revenue", 120.01),  # exactly one cent off: passes
    _open(scorecard_row("month", M, "L1", "net_revenue", 100.0)),
    _open(scorecard_row("month", M, "L2", "net_revenue", 20.0)),
    _open(scorecard_row("month", M, "_all", "net_revenue", 120.0)),
    scorecard_row("week", W, "L1", "no_show_rate", 0.5, 1, 2),
    scorecard_row("week", W, "L2", "no_show_rate", 0.0, 0, 3),
    scorecard_row("week", W, "_all", "no_show_rate", 0.2, 1, 5),
    scorecard_row("week", W, "L2", "contact_rate", None, 0, 0),  # zero denominator: null
    scorecard_row("week", W, "_all", "contact_rate", None, 0, 0),
    scorecard_row("week", W, "L1", "nps", -40.0, -2, 5),  # NPS is not a [0, 1] rate
    scorecard_row("week", W, "_all", "nps", -40.0, -2, 5),
    scorecard_row("week", W, "L1", "gross_margin", 0.8, 80, 100),
    scorecard_row("week", W, "_all", "gross_margin", 0.8, 80, 100),
    scorecard_row("week", W, "L1", "room_utilization", 0.9, 9, 10),
    scorecard_row("week", W, "_all", "room_utilization", 0.9, 9, 10),
    scorecard_row("week", W, "L1", "lead_response_minutes", 42.0),  # minutes: unbounded
    scorecard_row("week", W, "_all", "lead_response_minutes", 42.0),
]
INVOICE_LINES = [
    ("L1", "2026-11-03", W, M, 100.00, True),
    ("L1", "2026-11-04", W, M, 50.00, False),
    ("L2", "2026-11-03", W, M, 20.00, True),
]


def grid_key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row["grain"], row["period_start"], row["location_id"], row["kpi"])


def build_marts(path: Path, scorecard: list[dict[str, Any]], locations: list[str]) -> Path:
    """A `marts` schema with the scorecard's columns and a minimal `fct_invoice_lines`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_locations "
            "(location_id varchar, location_name varchar, timezone varchar)"
        )
        insert(
            con,
            "marts.dim_locations",
            [{"location_id": x, "location_name": x, "timezone": TIMEZONE} for x in locations],
        )
        con.execute(
            "create table marts.fct_invoice_lines (location_id varchar, issued_date date, "
            "week_start date, month_start date, net_amount decimal(18, 2), is_revenue boolean)"
        )
        con.executemany(
            "insert into marts.fct_invoice_lines values (?, ?, ?, ?, ?, ?)", INVOICE_LINES
        )
        con.execute(
            "create table marts.kpi_scorecard (grain varchar, period_start date, "
            "location_id varchar, kpi varchar, value double, numerator double, "
            "denominator double, target_low double, target_high double, status varchar, "
            "is_final boolean, baseline_12m double, change_vs_prior double)"
        )
        insert(con, "marts.kpi_scorecard", scorecard)
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_data_as_of as "
            "select timestamptz '2026-11-16 07:00:00+00' as as_of_at"
        )
        # the cells the scorecard must hold: the good scorecard's own rows
        con.execute(
            "create table intermediate.int_kpi_grid (grain varchar, period_start date, "
            "location_id varchar, kpi varchar, value_kind varchar, is_final boolean)"
        )
        con.executemany(
            "insert into intermediate.int_kpi_grid values (?, ?, ?, ?, 'ratio', true)",
            sorted({grid_key(r) for r in GOOD_SCORECARD}),
        )
    return path


def bad_scorecard() -> list[dict[str, Any]]:
    rows = [dict(r) for r in GOOD_SCORECARD]
    for row in rows:
        if (row["grain"], row["location_id"], row["kpi"]) == ("week", "L1", "no_show_rate"):
            row.update(value=1.5, numerator=3, denominator=2)  # a rate above 1
        if (row["grain"], row["location_id"], row["kpi"]) == ("month", "L2", "net_revenue"):
            row.update(value=20.02)  # two cents off the paid lines
        if (row["location_id"], row["kpi"]) == ("L2", "contact_rate"):
            row.update(value=0.0)  # zero denominator reported as 0
        if (row["location_id"], row["kpi"]) == ("L1", "room_utilization"):
            row.update(value=1.2)  # a share above 1 (warn only)
    rows.append(scorecard_row("week", W, "L1", "gross_margin", 0.8, 80, 100))  # duplicate grain
    rows.append(scorecard_row("week", W, "L1", "completed_visits", 5.0))  # no chain-wide row
    rows.append(scorecard_row("week", "2026-11-23", "_all", "new_leads", 4.0))  # final, future
    return rows
