"""Provider pages: one name per provider on every page (one rule, `_staff_names` in
dashboards/shared_queries.md), and a KPI without a value this week is grey, not on target.

Fixture (dash_serving_fixture): Sam Okafor (prov_2, rn, revenue-generating); here a front-desk
Sam Ortiz (prov_5) joins, so "Sam O." is shared. The Providers page already told them apart
over all staff; the provider page did over revenue-generating staff only and called prov_2
plain "Sam O.", a name that on the Providers page belongs to no one.

prov_2 has no revenue row for the week of 2026-10-26 (a week not worked): the weekly revenue
chart leaves that week a gap instead of drawing a line from Oct 19 to Nov 2.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db

from dashboards.pages import parse_page, tables_read
from dashboards.site import DEFAULT_PAGES_DIR


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("provider-pages")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            """insert into marts.dim_providers
                (provider_id, provider_name, role, home_location_id, is_revenue_generating)
            values ('prov_5', 'Sam Ortiz', 'front_desk', 'loc_b', false)"""
        )
        # prov_1's productive share has no value in the last complete week (no shift hours)
        con.execute(
            """update marts.kpi_by_provider set value = null
            where provider_id = 'prov_1' and kpi = 'provider_productive_share'
                and grain = 'week' and period_start = date '2026-11-09'"""
        )
        con.execute(
            """delete from marts.kpi_by_provider
            where provider_id = 'prov_2' and kpi = 'revenue_per_provider'
                and grain = 'week' and period_start = date '2026-10-26'"""
        )
    finally:
        con.close()
    build_shipped_pages(serving, root, "providers.md", "provider_detail.md")
    return root / "site"


def _card(html: str, title: str) -> str:
    found = re.search(
        rf'<div class="bigvalue status-([a-z_]+)" data-component="BigValue">'
        rf'<div class="bv-title">{re.escape(title)}</div>',
        html,
    )
    assert found, title
    return found.group(1)


def test_a_kpi_without_a_value_is_grey_not_on_target(site):
    html = (site / "provider_detail/prov_1.html").read_text(encoding="utf-8")
    # null against the 80 % floor: neither below nor on target; no value shown
    assert _card(html, "Provider productive share") == "no_target"
    # prov_2 has a value, 0.79 * 1.05 + 3 * 0.0079 = 0.853 >= 0.80: still judged
    other = (site / "provider_detail/prov_2.html").read_text(encoding="utf-8")
    assert _card(other, "Provider productive share") == "on_target"


def _line_chart(html: str, title: str) -> tuple[list[str], int]:
    """The chart titled `title`: its line path's subpaths (`M...`) and its point count."""
    found = re.search(
        rf'<div class="c-title">{re.escape(title)}</div>(<svg.*?</svg>)', html, re.DOTALL
    )
    assert found, title
    svg = found.group(1)
    paths = re.findall(r'<g class="mark-line role-mark"><path d="([^"]*)"', svg)
    return [sub for d in paths for sub in re.findall(r"M[^M]+", d)], svg.count("<circle")


def test_the_weekly_revenue_line_is_not_drawn_across_a_week_without_a_row(site):
    # the trend runs Oct 19 .. Nov 9 (the last complete week); prov_2 misses Oct 26: Oct 19
    # stands alone (a point, no line), then one line Nov 2 - Nov 9
    html = (site / "provider_detail/prov_2.html").read_text(encoding="utf-8")
    runs, points = _line_chart(html, "Revenue per provider (net revenue), weekly")
    assert points == 3 and len(runs) == 1 and runs[0].count("L") == 1
    # prov_1 has every week: one line through its 4 points
    html = (site / "provider_detail/prov_1.html").read_text(encoding="utf-8")
    runs, points = _line_chart(html, "Revenue per provider (net revenue), weekly")
    assert points == 4 and len(runs) == 1 and runs[0].count("L") == 3


def test_a_provider_has_the_same_name_on_both_pages(site):
    detail = (site / "provider_detail/prov_2.html").read_text(encoding="utf-8")
    assert "<h1>Provider Sam O. (prov_2)</h1>" in detail
    listing = (site / "providers.html").read_text(encoding="utf-8")
    assert "Sam O. (prov_2)" in listing and "Sam O. (prov_5)" not in listing  # not a provider
    # Sam O. and Sam O. share their home (Boston Back Bay): told apart by id, as above; the
    # Maria A. pair (prov_1, prov_4) has two homes, so by their home's name, on both pages
    assert "<h1>Provider Maria A. (Austin Downtown)</h1>" in (
        site / "provider_detail/prov_1.html"
    ).read_text(encoding="utf-8")
    assert "Maria A. (Austin Downtown)" in listing


def test_both_pages_take_the_rule_from_the_shared_helper():
    for name in ("providers.md", "provider_detail.md"):
        page = parse_page(DEFAULT_PAGES_DIR / name)
        assert "_staff_names" in page.queries, name
        text = (DEFAULT_PAGES_DIR / name).read_text(encoding="utf-8")
        assert "provider_name" not in text, name  # no rule of its own
    # the shared block's table is still a dependency of the site
    assert "marts.dim_providers" in tables_read(DEFAULT_PAGES_DIR)


def test_a_page_block_of_the_same_name_wins_over_the_shared_one(build_pages):
    report = build_pages(
        {
            "own.md": """
            ```sql _staff_names
            select 'mine' as provider
            ```
            ```sql names
            select provider from ${_staff_names}
            ```
            {% for n in names %}- {{ n.provider }}
            {% endfor %}
            """
        }
    )
    assert report.ok, report.pages_failed
    assert "<li>mine</li>" in (report.site_dir / "own.html").read_text(encoding="utf-8")


def test_the_providers_headline_holds_weekly_kpis_only(shipped_site):
    """retention_12m is measured per first-visit cohort month: a weekly card of it is empty in
    the real marts (the audit saw 3 cards of 4 and no word why); the fixture has weekly rows
    of every KPI, so a card here would be one the real page never fills."""
    html = (shipped_site.site_dir / "providers.html").read_text(encoding="utf-8")
    titles = re.findall(r'<div class="bv-title">([^<]+)</div>', html)
    assert sorted(titles) == [
        "Confirmation response",
        "Provider productive share",
        "Rebooking rate",
    ]
    assert "12-month retention is measured per first-visit cohort, below" in html
    assert "<h2>Retention by first-visit provider</h2>" in html


def test_a_providers_role_is_written_out(site):
    """Sam Okafor is `rn` in the contract's codes: the page says what that is."""
    detail = (site / "provider_detail/prov_2.html").read_text(encoding="utf-8")
    assert "Role: registered nurse." in detail and "Role: rn." not in detail
