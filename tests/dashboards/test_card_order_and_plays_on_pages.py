"""Cards in one order on every page, and a red card's play on every page with cards.

The audit: a location page's cards and the flash's by-location tables were alphabetical (net
revenue the 17th card of 30); the chain cards went by family and priority. Red cards outside
the flash's alert tables (home, Financial, Rooms, Providers, provider pages) carried no
recommended action.

Here the fixture's week of 2026-11-09 is made red chain-wide for revenue per room hour ($700,
below $850), gross margin (70.0 %, below 75 %) and membership share (33.0 %, above its 20-30 %
band), and for Maria A.'s productive share (50.0 %, below 80 %).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import make_serving_db, table_rows

from dashboards import build_site

WEEK = "2026-11-09"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("card-plays")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.executemany(
            f"""update marts.kpi_scorecard set value = ?, status = ?
            where grain = 'week' and period_start = date '{WEEK}' and location_id = '_all'
                and kpi = ?""",
            [
                (700.0, "below", "revenue_per_room_hour"),
                (0.70, "below", "gross_margin"),
                (0.33, "above", "membership_revenue_share"),
            ],
        )
        con.execute(
            """update marts.kpi_targets set play = 'Align shifts with demand'
            where kpi = 'provider_productive_share'"""
        )
        con.execute(
            f"""update marts.kpi_by_provider set value = 0.5
            where provider_id = 'prov_1' and kpi = 'provider_productive_share'
                and grain = 'week' and period_start = date '{WEEK}' and location_id = '_all'"""
        )
    finally:
        con.close()
    report = build_site(serving, root / "site")
    assert report.pages_failed == []
    return root / "site"


def _cards(html: str) -> dict[str, str]:
    """Card title -> the card's HTML."""
    cards = re.findall(r'(<div class="bigvalue.*?</div></div>)(?=<div class="bigvalue|\s)', html)
    return {re.search(r'bv-title">([^<]+)<', c).group(1): c for c in cards}


def _play(card: str) -> str | None:
    found = re.search(r'<div class="bv-play">Play: ([^<]+)</div>', card)
    return found.group(1) if found else None


@pytest.mark.parametrize(
    ("page", "title", "play"),
    [
        ("index.html", "Revenue per room hour", "Fill schedule gaps, review pricing and mix"),
        ("index.html", "Gross margin", "Check product cost and discounting"),
        ("financial.html", "Gross margin", "Check product cost and discounting"),
        # above its band: the play for above, not "Promote memberships"
        ("financial.html", "Membership share", "Check that treatment revenue keeps pace"),
        ("rooms.html", "Revenue per room hour", "Fill schedule gaps, review pricing and mix"),
        ("provider_detail/prov_1.html", "Provider productive share", "Align shifts with demand"),
    ],
)
def test_a_red_card_shows_its_play(site, page, title, play):
    card = _cards((site / page).read_text(encoding="utf-8"))[title]
    assert "status-below" in card or "status-above" in card
    assert _play(card) == play


def test_a_card_on_target_shows_no_play(site):
    cards = _cards((site / "index.html").read_text(encoding="utf-8"))
    assert "status-no_target" in cards["Net revenue"] and _play(cards["Net revenue"]) is None
    providers = _cards((site / "providers.html").read_text(encoding="utf-8"))
    assert "status-on_target" in providers["Provider productive share"]
    assert _play(providers["Provider productive share"]) is None


FAMILY_ORDER = [
    # the fixture's seed by family (financial, rooms, providers, operations, engagement,
    # cohorts), then priority
    "Net revenue", "Gross margin", "Membership share", "Retail share", "MRR",
    "Avg revenue per appointment", "Revenue per room hour", "Room utilisation",
    "Provider productive share", "No-show rate", "Completed visits", "New patients",
    "Missed-call rate", "Lead response time", "New leads", "Booking conversion",
    "Confirmation response", "Rebooking rate", "Retention (12 months)", "Visits in first year",
    "CAC", "LTV (12 months)",
]  # fmt: skip


def test_location_cards_go_by_family_then_priority(site):
    html = (site / "location_detail/loc_a.html").read_text(encoding="utf-8")
    assert list(_cards(html)) == FAMILY_ORDER


def test_flash_location_tables_go_by_family_then_priority(site):
    html = (site / "weekly_flash.html").read_text(encoding="utf-8")
    austin = html[html.index("<h3>Austin Downtown</h3>") : html.index("<h3>Boston Back Bay</h3>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", austin)
    names = [table_rows(f"<tr>{r}</tr>")[0][0] for r in rows if "<td" in r]
    assert names == FAMILY_ORDER
