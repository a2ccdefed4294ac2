"""The weekly flash (and its e-mail) lead with what changed: new alerts first, ongoing ones
folded into one line each, cards by family then priority, open windows shown as pending."""

from __future__ import annotations

import re

import duckdb
import pytest
from dash_serving_fixture import make_serving_db

from dashboards import build_site

WEEK = "2026-11-09"  # the fixture's last complete week


@pytest.fixture(scope="module")
def flash(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("flash-alerts")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        # One new alert (chain no-show rate) and one running for 9 weeks (RPH at Austin).
        con.execute("delete from marts.kpi_alerts")
        con.execute(
            """insert into marts.kpi_alerts by name
            select 'week' as grain, date '2026-11-09' as period_start, location_id, kpi,
                value, status, 'missed_target' as alert_reason, 'a play' as play,
                is_new, periods_running
            from (values ('_all', 'no_show_rate', 0.09, 'above', true, 1),
                         ('loc_a', 'revenue_per_room_hour', 700.0, 'below', false, 9))
                t(location_id, kpi, value, status, is_new, periods_running)"""
        )
        # A windowed KPI whose window is still open: 3 of 41 so far, not final.
        con.execute(
            """update marts.kpi_scorecard set is_final = false, numerator = 3, denominator = 41,
                value = 3 / 41
            where kpi = 'booking_conversion_rate' and grain = 'week'
                and period_start = date '2026-11-09' and location_id = '_all'"""
        )
    finally:
        con.close()
    report = build_site(serving, root / "site")
    assert report.pages_failed == []
    page = (root / "site" / "weekly_flash.html").read_text(encoding="utf-8")
    assert report.flash_email_path is not None
    return page, report.flash_email_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("which", [0, 1], ids=["page", "email"])
def test_flash_leads_with_new_alerts_then_folds_ongoing_ones(flash, which):
    html = flash[which]
    new, ongoing, chain = (
        html.index("New alerts this week"),
        html.index("Ongoing alerts"),
        html.index("Chain-wide"),
    )
    assert new < ongoing < chain
    new_section = html[new:ongoing]
    assert "No-show rate" in new_section and "Revenue per room hour" not in new_section
    assert "Austin Downtown: Revenue per room hour below target for 9 weeks" in html[ongoing:chain]


def test_cards_go_by_family_then_priority_not_alphabetically(flash):
    titles = re.findall(r'<div class="bv-title">([^<]+)</div>', flash[0])
    # financial (net revenue first) before rooms before providers before operations ...
    assert titles[0] == "Net revenue"
    assert titles.index("Revenue per room hour") < titles.index("Provider productive share")
    assert titles.index("Provider productive share") < titles.index("No-show rate")
    assert titles.index("No-show rate") < titles.index("New leads")
    assert titles[-1] == "LTV (12 months)"  # the fixture files it under cohorts: the last family
    assert titles != sorted(titles)


def test_windowed_kpi_with_open_window_is_pending_with_running_counts(flash):
    page = flash[0]
    titles = re.findall(r'<div class="bv-title">([^<]+)</div>', page)
    assert "Booking conversion" not in titles  # no card reading 7.3 % as if final
    assert re.search(r"<strong>Booking conversion</strong>: pending, 3 of 41 so far", page)
