"""The planner asks only the revenue *added* of more leads, from a month whose conversion is final.

The audit's case: "same as last month $933,874 -> 1,898 leads needed, 533 last month, 1,365
extra", because the whole month's revenue (memberships, retail, returning patients) was divided
by what one new lead is worth; and the month's booking conversion was still open.

Hand-worked on the fixture: 2026-10 is the last complete month, but its chain-wide booking
conversion is made open here, so the plan uses 2026-09, set to revenue $100,000, 400 leads,
conversion 25 %, ltv_12m $2,000: a lead is worth 0.25 x 2,000 = $500. Holding revenue takes the
same 400 leads; +10 % adds $10,000 = 20 leads (420); +25 % adds $25,000 = 50 leads (450).
"""

from __future__ import annotations

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db, table_rows

SEPTEMBER = {
    "net_revenue": 100_000.0,
    "new_leads": 400.0,
    "booking_conversion_rate": 0.25,
    "ltv_12m": 2_000.0,
}


@pytest.fixture(scope="module")
def planner(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("planner")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            """update marts.kpi_scorecard set is_final = false
            where grain = 'month' and period_start = date '2026-10-01'
                and location_id = '_all' and kpi = 'booking_conversion_rate'"""
        )
        for kpi, value in SEPTEMBER.items():
            con.execute(
                """update marts.kpi_scorecard set value = ?
                where grain = 'month' and period_start = date '2026-09-01'
                    and location_id = '_all' and kpi = ?""",
                [value, kpi],
            )
    finally:
        con.close()
    build_shipped_pages(serving, root, "planner.md")
    return (root / "site" / "planner.html").read_text(encoding="utf-8")


def test_the_plan_asks_only_the_added_revenue_of_more_leads(planner: str) -> None:
    labels = ("hold revenue", "+10 %", "+25 %")
    plan = [row for row in table_rows(planner) if row[0] == "All locations" and row[1] in labels]
    assert [row[1:] for row in plan] == [
        ["hold revenue", "$100,000", "400", "400", "0"],
        ["+10 %", "$110,000", "420", "400", "20"],
        ["+25 %", "$125,000", "450", "400", "50"],
    ]


def test_the_inputs_come_from_the_newest_month_whose_conversion_is_final(planner: str) -> None:
    assert "the month starting 2026-09-01, the newest month whose conversion is final" in planner
    (inputs,) = [row for row in table_rows(planner) if row[:2] == ["All locations", "$100,000"]]
    assert inputs[2:] == ["400", "25.0%", "$2,000", "$500"]
