"""The engagement marts built by dbt from a tiny raw layer, numbers worked out by hand.

Fixture (engagement_fixture.py), all in New York, week of Monday 2026-11-02:
- ld1 (web_form, 11-02 14:00Z, phone `4155550134`): an outbound call to that number at 13:00Z
  happened before the lead existed (ignored); the inbound call from `+1 (415) 555-0134` answered
  at 14:05:30Z is the first response -> 5.5 min, and reaches it inside 15 min. Its patient is
  p1 (same number in a third spelling); p1's only booking predates the lead -> not booked.
- ld2 (instagram, 11-03 14:00Z, email `BO@example.com `): outbound email at 14:20Z -> 20 min;
  the reply at 14:25Z is outside the 15-minute window -> not reached. Its patient p2 (same
  email, other case) booked at 11-03 16:00Z -> booked.
- ld3 (instagram, 11-04 14:00Z): only a missed inbound call -> unanswered, not reached.
So: new_leads 3, lead_response_minutes median(5.5, 20) = 12.75, leads_unanswered 1,
contact_rate 1/3, booking_conversion_rate 1/3, missed_call_rate 1/2 (c1 answered, c2 missed;
the outbound c3 does not count).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from engagement_fixture import PHI_VALUES

# Its own group: the engagement dbt builds need not queue behind the nightly runs.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _kpi(db: Path, kpi: str, location_id: str = "L1", grain: str = "week") -> tuple:
    rows = _query(
        db,
        "select value, numerator, denominator from marts.kpi_engagement "
        f"where kpi = '{kpi}' and location_id = '{location_id}' and grain = '{grain}'",
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_call_in_another_number_format_matches_the_lead_and_patient(engagement_built: Path):
    rows = _query(
        engagement_built,
        "select c.call_id, l.channel, c.patient_key is not null "
        "from marts.fct_calls c left join marts.fct_leads l on c.lead_key = l.lead_key "
        "order by c.call_id",
    )
    # c1 (+1 (415) 555-0134) and c3 (4155550134) both belong to ld1 (web_form) and to p1
    # (+1 (415) 555-0134 in the PMS); c2 (+16465550101) to ld3, who is no patient; c9's number
    # belongs to nobody.
    assert rows == [
        ("c1", "web_form", True),
        ("c2", "instagram", False),
        ("c3", "web_form", True),
        ("c9", None, False),
    ]


def test_lead_response_and_reach_follow_the_hand_worked_numbers(engagement_built: Path):
    rows = _query(
        engagement_built,
        "select channel, response_minutes, is_reached_in_window, is_booked_in_window "
        "from marts.fct_leads order by created_at",
    )
    assert rows == [
        ("web_form", 5.5, True, False),
        ("instagram", 20.0, False, True),
        ("instagram", None, False, False),
    ]


def test_engagement_kpis_for_the_week(engagement_built: Path):
    assert _kpi(engagement_built, "new_leads") == (3.0, 3.0, None)
    assert _kpi(engagement_built, "lead_response_minutes") == (12.75, 12.75, None)
    assert _kpi(engagement_built, "leads_unanswered") == (1.0, 1.0, None)
    assert _kpi(engagement_built, "contact_rate") == pytest.approx((1 / 3, 1.0, 3.0))
    assert _kpi(engagement_built, "booking_conversion_rate") == pytest.approx((1 / 3, 1.0, 3.0))
    assert _kpi(engagement_built, "missed_call_rate") == (0.5, 1.0, 2.0)
    assert _kpi(engagement_built, "missed_call_rate", location_id="_all") == (0.5, 1.0, 2.0)


def test_kpi_by_channel_splits_leads_by_channel(engagement_built: Path):
    rows = _query(
        engagement_built,
        "select lead_channel, value from marts.kpi_by_channel where grain = 'week' "
        "and location_id = 'L1' and kpi = 'new_leads' order by lead_channel",
    )
    assert rows == [("instagram", 2.0), ("web_form", 1.0)]


def test_absent_systems_give_no_rows_and_a_reason(engagement_built: Path):
    kpis = {r[0] for r in _query(engagement_built, "select kpi from marts.kpi_engagement")}
    # No reviews system and no marketing spend were ever delivered.
    assert {"nps", "review_conversion_rate", "cac"}.isdisjoint(kpis)
    reasons = dict(
        _query(engagement_built, "select kpi, reason from marts.kpi_coverage where not computable")
    )
    assert reasons["nps"] == "no reviews system: surveys never delivered"
    assert reasons["cac"] == "crm.marketing_spend never delivered"
    coverage = dict(_query(engagement_built, "select table_key, status from marts.data_coverage"))
    assert coverage["phone.calls"] == "present"
    assert coverage["reviews.reviews"] == "absent"
    assert len(coverage) == 22


def test_no_phi_downstream_of_the_raw_layer(engagement_built: Path):
    con = duckdb.connect(str(engagement_built), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('staging', 'intermediate', 'marts') "
            "and data_type = 'VARCHAR'"
        ).fetchall()
        names = {c[2] for c in columns}
        forbidden = {
            "first_name",
            "last_name",
            "email",
            "phone",
            "body",
            "external_number",
            "contact_address",
            "date_of_birth",
            "postal_code",
            "reviewer_name",
            "patient_id",
            "lead_id",
            "referred_by_patient_id",
        }
        assert names.isdisjoint(forbidden), names & forbidden
        leaks = []
        for schema, table, column in columns:
            for value in PHI_VALUES:
                hit = con.execute(
                    f'select count(*) from "{schema}"."{table}" '
                    f'where contains(lower("{column}"), lower(?))',
                    [value],
                ).fetchone()[0]
                if hit:
                    # Name where, never the value itself.
                    leaks.append(f"{schema}.{table}.{column}")
        assert not leaks, leaks
    finally:
        con.close()
