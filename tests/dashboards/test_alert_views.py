"""Alerts on the pages: monthly ones too, one list item per ongoing alert, how long an alert
has run, and what a move the wrong way moved against.

The audit: only weekly alerts were shown, so 12-month retention and visits in the first year
(monthly, per cohort) and every monthly alert appeared on no page; with trim_blocks the ongoing
alerts ran into one list item; "for 156 weeks" did not say it had never met its target; a
"moved the wrong way" alert did not say against what; a band KPI drifting inside its band was
green with the above-band play.

The alerts here, written by hand (fixture weeks 2026-10-19 .. 2026-11-09 final, months
2026-08 .. 2026-10 final; retention and visits in the first year are final up to the cohort
of 2026-08 only, so that is the newest final cohort):
- week 2026-11-09, Austin, revenue per room hour below target, 4 weeks running: Austin has 4
  weekly scorecard rows up to it, so since records begin;
- week 2026-11-09, Boston, no-show rate up against a recent average of 6.0 %, 2 weeks running;
- week 2026-11-09, Boston, membership share 28.0 % inside its 20-30 % band, drifting up from
  24.0 %, new, with the above-band play;
- week 2026-11-09, chain, gross margin 70.0 % below target, new;
- month 2026-10, chain, net revenue $90,000 against a recent average of $100,000, new;
- cohort 2026-08, Austin, 12-month retention 55.0 % below target, new;
- month 2026-09, Austin, gross margin (an older month: on no page).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import make_serving_db
from dash_serving_fixture import page_html as _read
from dash_serving_fixture import page_text as _text

from dashboards import build_site

ALERTS = [
    # grain, period, location, kpi, value, status, reason, trailing mean, play, new, running
    ("week", "2026-11-09", "loc_a", "revenue_per_room_hour", 700.0, "below", "missed_target",
     None, "Fill schedule gaps", False, 4),
    ("week", "2026-11-09", "loc_b", "no_show_rate", 0.09, "no_target", "moved_wrong_way", 0.06,
     "Deposits", False, 2),
    ("week", "2026-11-09", "loc_b", "membership_revenue_share", 0.28, "on_target",
     "moved_wrong_way", 0.24, "Check that treatment revenue keeps pace", True, 1),
    ("week", "2026-11-09", "_all", "gross_margin", 0.70, "below", "missed_target", None,
     "Check product cost", True, 1),
    ("month", "2026-10-01", "_all", "net_revenue", 90000.0, "no_target", "moved_wrong_way",
     100000.0, "Fill schedule gaps", True, 1),
    ("month", "2026-08-01", "loc_a", "retention_12m", 0.55, "below", "missed_target", None,
     "Review retention by provider", True, 1),
    ("month", "2026-09-01", "loc_a", "gross_margin", 0.70, "below", "missed_target", None,
     "Check product cost", True, 1),
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("alert-views")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            """update marts.kpi_scorecard set is_final = false
            where grain = 'month' and kpi in ('retention_12m', 'visits_first_year')
                and period_start > date '2026-08-01'"""
        )
        con.execute("delete from marts.kpi_alerts")
        con.executemany(
            """insert into marts.kpi_alerts by name
            select $1 as grain, cast($2 as date) as period_start, $3 as location_id,
                $4 as kpi, $5 as value, $6 as status, $7 as alert_reason,
                $8 as trailing_mean, $9 as play, $10 as is_new, $11 as periods_running,
                t.target_low, t.target_high, t.direction
            from marts.kpi_targets as t where t.kpi = $4""",
            ALERTS,
        )
    finally:
        con.close()
    report = build_site(serving, root / "site")
    assert report.pages_failed == []
    return root / "site"


def _between(html: str, start: str, end: str) -> str:
    at = html.index(start)
    return html[at : html.index(end, at)]


def _status_rows(html: str) -> list[tuple[str, list[str]]]:
    """(row class, cells) of each table row with a status class."""
    rows = re.findall(r'<tr class="status-([a-z_]+)">(.*?)</tr>', html)
    return [(cls, re.findall(r"<td[^>]*>([^<]*)</td>", cells)) for cls, cells in rows]


@pytest.mark.parametrize("name", ["weekly_flash.html", "weekly-flash-email.html"])
def test_each_ongoing_alert_is_a_list_item_of_its_own(site, name):
    html = _read(site, name)
    ongoing = _between(html, "Ongoing alerts", "Chain-wide")
    items = re.findall(r"<li[^>]*>(.*?)</li>", ongoing, re.DOTALL)
    assert [_text(i) for i in items] == [
        "Austin Downtown: Revenue per room hour below target since records begin (4 weeks). "
        "Play: Fill schedule gaps",
        "Boston Back Bay: No-show rate moved the wrong way (recent average 6.0%) for 2 weeks. "
        "Play: Deposits",
    ]


def test_new_alerts_show_the_recent_average_and_a_drift_inside_the_band_as_an_alert(site):
    html = _read(site, "weekly_flash.html")
    new = _between(html, "New alerts this week", "Ongoing alerts")
    # location, kpi, value, reason, recent average, play; a missed target red, a move amber
    assert _status_rows(new) == [
        ("below", ["All locations", "Gross margin", "70.0%", "below target", "—",
                   "Check product cost"]),
        ("moved", ["Boston Back Bay", "Membership share", "28.0%",
                   "inside its band, drifting toward the top edge", "24.0%",
                   "Check that treatment revenue keeps pace"]),
    ]  # fmt: skip
    assert "status-on_target" not in new


def test_the_flash_shows_the_last_complete_months_alerts(site):
    html = _read(site, "weekly_flash.html")
    monthly = _between(html, "<h2>Monthly alerts</h2>", "<h2>Among peers</h2>")
    text = _text(monthly)
    assert "The last complete month, October 2026 (2026-10-01 to 2026-10-31)" in text
    assert "the patients who first came in 2026-08" in text
    assert _status_rows(monthly) == [
        ("moved", ["All locations", "Net revenue", "$90,000", "moved the wrong way", "$100,000",
                   "Fill schedule gaps"]),
        ("below", ["Austin Downtown", "Retention (12 months)", "55.0%", "below target", "—",
                   "Review retention by provider"]),
    ]  # fmt: skip
    assert "Ongoing" not in text  # no monthly alert has run before
    assert "2026-09" not in text  # an older month's alert is on no page


def test_the_home_page_counts_weekly_and_monthly_alerts(site):
    text = _text(_read(site, "index.html"))
    assert "with 4 alert(s), 2 of them new." in text
    assert "The last complete month, October 2026: 2 monthly alert(s), 2 of them new" in text


def test_the_patients_page_shows_the_patient_kpis_monthly_alerts(site):
    html = _read(site, "patients.html")
    monthly = _between(html, "<h2>Monthly alerts</h2>", "<h2>Retention by first-visit cohort")
    # the cohort's retention alert; not the chain's net revenue (no patient KPI)
    assert [cells for _, cells in _status_rows(monthly)] == [
        ["Austin Downtown", "Retention (12 months)", "55.0%", "below target", "—",
         "Review retention by provider"],
    ]  # fmt: skip
    assert "(the cohort of 2026-08)" in _text(monthly)


def test_a_location_page_shows_its_weekly_and_monthly_alerts(site):
    austin = _read(site, "location_detail/loc_a.html")
    alerts = _between(austin, "<h2>Alerts and their plays</h2>", "<h2>Trends</h2>")
    # kpi, value, reason, recent average, running, play
    assert [cells for _, cells in _status_rows(alerts)] == [
        ["Revenue per room hour", "$700", "below target", "—", "since records begin (4 weeks)",
         "Fill schedule gaps"],
        # 2026-08 is the first cohort on record: new, and since records begin
        ["Retention (12 months)", "55.0%", "below target", "—", "since records begin (1 cohort)",
         "Review retention by provider"],
    ]  # fmt: skip
    assert (
        "October 2026, the last complete month (cohort KPIs: patients who first came in "
        "2026-08)" in _text(alerts)
    )


def _alerts_by_location(serving: Path) -> dict[str, int]:
    """location_id -> alerts, as the pages read marts.kpi_alerts (the shared `_kpi_alerts`)."""
    from dashboards.pages import parse_page
    from dashboards.queries import run_queries
    from dashboards.sealed import sealed_reader

    page = serving.parent / "p.md"
    page.write_text(
        "```sql a\nselect location_id, count(*) as n from ${_kpi_alerts} group by 1\n```\n",
        encoding="utf-8",
    )
    reader = sealed_reader(serving)
    try:
        return {r["location_id"]: r["n"] for r in run_queries(reader, parse_page(page))["a"]}
    finally:
        reader.close()


def test_a_chain_of_one_location_lists_each_alert_once(tmp_path: Path) -> None:
    """One location: its chain-wide alerts ('_all') repeat its own, so the pages leave them
    out; with two locations, the chain's alerts are news of their own and stay."""
    (tmp_path / "two").mkdir()
    (tmp_path / "one").mkdir()
    two = make_serving_db(tmp_path / "two" / "serving.duckdb")
    both = _alerts_by_location(two)
    assert both.get("_all", 0) > 0 and len(both) == 3
    one = make_serving_db(tmp_path / "one" / "serving.duckdb")
    con = duckdb.connect(str(one))
    try:
        kept = con.execute("select min(location_id) from marts.dim_locations").fetchone()[0]
        con.execute("delete from marts.dim_locations where location_id <> ?", [kept])
        con.execute("delete from marts.kpi_alerts where location_id not in (?, '_all')", [kept])
    finally:
        con.close()
    assert _alerts_by_location(one) == {kept: both[kept]}
