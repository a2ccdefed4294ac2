"""Labels an owner reads: codes as words, no sort prefixes, hover texts in words, bars that
stay apart when cut to fit, the seed's KPI labels, and no developer wording.

The audit found a revenue segment called `none` (memberships, retail and gift cards have no
service category), raw codes (gift_card, membership_fee, walk_in), "1 Mon" and "1: under
5 min" on axes, hover texts "period_start:" and "value:", every device bar of a location cut to
the same "RF microneedling system (Glow Aesth…", "Lifetime value, trailing 12 months" where the
seed says "12-month patient value", and "the dbt model named in the scorecard's `model` column".
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import make_serving_db
from dash_serving_fixture import page_html as _read

from dashboards import build_site
from dashboards.pages import parse_page
from dashboards.queries import run_queries
from dashboards.sealed import sealed_reader


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("owner-labels")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        # revenue without a service: the mart's category 'none'; a walk-in lead channel
        con.execute(
            """insert into marts.kpi_by_service_category by name
            select grain, period_start, location_id, 'none' as service_category, kpi,
                value / 3 as value, is_final
            from marts.kpi_by_service_category where service_category = 'laser'"""
        )
        con.execute("update marts.fct_leads set channel = 'walk_in' where channel = 'referral'")
    finally:
        con.close()
    report = build_site(serving, root / "site")
    assert report.pages_failed == []
    return root / "site"


def _svg_texts(html: str, title: str) -> list[str]:
    """Axis and legend texts of the chart titled `title`."""
    at = html.index(f'<div class="c-title">{title}</div>')
    return re.findall(r"<text[^>]*>([^<]*)</text>", html[at : html.index("</svg>", at)])


def test_revenue_segments_and_line_types_read_as_words(site):
    html = _read(site, "financial.html")
    categories = _svg_texts(
        html,
        "Net revenue by service category, weekly (memberships, retail and gift cards have no "
        "service)",
    )
    assert "Memberships, retail and gift cards" in categories and "none" not in categories
    assert {"Neurotoxin", "Filler", "Laser"} <= set(categories)
    line_types = _svg_texts(html, "Net revenue by line type, weekly")
    assert {"Services", "Retail products", "Membership fees"} <= set(line_types)
    assert not {"membership_fee", "retail_product", "service"} & set(line_types)


def test_channels_and_response_times_read_as_words_without_sort_prefixes(site):
    html = _read(site, "engagement.html")
    funnel = _svg_texts(html, "Leads: new → responded → booked")
    assert {"Google Ads", "Instagram", "Walk-in", "New leads", "Responded", "Booked"} <= set(funnel)
    assert "walk_in" not in html and "google_ads" not in html
    buckets = _svg_texts(html, "Time to first response (answered leads)")
    # in their own order, without the "1: " that sorted them (the fixture's leads are all
    # answered within 95 minutes)
    assert [b for b in buckets if b.endswith(("min", " h"))] == [
        "under 5 min",
        "5–15 min",
        "15–60 min",
        "1–4 h",
    ]
    assert not re.search(r"\b\d: (under|over|\d)", html)


def test_new_and_returning_read_as_words(site):
    html = _read(site, "patients.html")
    assert {"New patients", "Returning patients"} <= set(
        _svg_texts(html, "Average revenue per appointment, new vs returning, October 2026")
    )


def test_hover_texts_name_what_they_show(site):
    for path in site.rglob("*.html"):
        tips = re.findall(r"<title>([^<]*)</title>", path.read_text(encoding="utf-8"))
        assert not [t for t in tips if "period_start:" in t or "value:" in t], path
    html = _read(site, "location_detail/loc_a.html")
    at = html.index('<div class="c-title">Net revenue, weekly</div>')
    first = re.search(r"<circle[^>]*><title>([^<]*)</title>", html[at:]).group(1)
    # the fixture's first week: Austin's net revenue 42,000 + 7
    assert first == "period starting: 2026-10-19\n$42,007"


def test_chart_titles_use_the_seeds_labels(site):
    html = _read(site, "patients.html")
    assert '<div class="c-title">LTV (12 months), at each month&#x27;s end</div>' in html
    assert "Lifetime value, trailing 12 months" not in html


def test_every_page_says_how_current_its_data_is(site):
    """A location's or a provider's page said nothing of the data's age: a manager reading
    only their own page could not tell Monday's data from last month's. Every page's footer
    gives the as-of time the home page gives (the fixture's 2026-11-17 07:40:12 UTC)."""
    pages = [p for p in site.rglob("*.html") if "email" not in p.name]
    assert len(pages) > 10
    for path in pages:
        footer = path.read_text(encoding="utf-8").split('<div class="footer">')[1]
        assert footer.startswith("Data as of 2026-11-17 07:40 UTC"), path


def test_no_developer_wording_on_any_page(site):
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for words in ("dbt model", "`model` column", "plan query", "Edit the targets"):
            assert words not in text, (path, words)


def _locations(tmp_path: Path, names: list[str], column: str = "location_short") -> dict[str, str]:
    """location_name -> `column` (location_short, label_prefix) from the shared `_locations`
    helper."""
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from marts.dim_locations")
        con.executemany(
            "insert into marts.dim_locations values (?, ?, 'UTC')",
            [(f"loc_{i}", name) for i, name in enumerate(names)],
        )
    finally:
        con.close()
    page = tmp_path / "p.md"
    page.write_text("```sql names\nselect * from ${_locations}\n```\n", encoding="utf-8")
    reader = sealed_reader(serving)
    try:
        rows = run_queries(reader, parse_page(page))["names"]
    finally:
        reader.close()
    return {r["location_name"]: r[column] for r in rows}


def test_bar_labels_name_the_location_only_in_a_chain_of_several(tmp_path):
    """A chain of one location: every room bar read "Glow Aesthetics San Fr…" cut to fit."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    assert _locations(tmp_path / "one", ["Glow Aesthetics San Francisco"], "label_prefix") == {
        "Glow Aesthetics San Francisco": ""
    }
    two = ["Glow Aesthetics San Francisco", "Glow Aesthetics Scottsdale"]
    assert _locations(tmp_path / "two", two, "label_prefix") == {
        "Glow Aesthetics San Francisco": "San Francisco · ",
        "Glow Aesthetics Scottsdale": "Scottsdale · ",
    }


def test_short_location_names_leave_out_the_words_every_name_shares(tmp_path):
    assert _locations(
        tmp_path, ["Glow Aesthetics San Francisco", "Glow Aesthetics Scottsdale"]
    ) == {
        "Glow Aesthetics San Francisco": "San Francisco",
        "Glow Aesthetics Scottsdale": "Scottsdale",
    }


@pytest.mark.parametrize(
    "names",
    [
        ["Glow Aesthetics"],  # one location: nothing shared with another
        ["Austin Downtown", "Boston Back Bay"],  # no shared first word
        ["Glow", "Glow Aesthetics Boston"],  # "Glow " is not a prefix of "Glow"
    ],
)
def test_short_location_names_keep_a_name_nothing_is_shared_with(tmp_path, names):
    assert _locations(tmp_path, names) == {n: n for n in names}


def test_device_and_room_bars_differ_when_cut_to_fit(site):
    html = _read(site, "rooms.html")
    devices = _svg_texts(html, "Device utilisation, last complete week")
    assert {"Austin Downtown · GentleMax", "Boston Back Bay · CoolSculpt"} <= set(devices)
    rooms = [t for t in _svg_texts(html, "RPH by room, last complete week") if " · " in t]
    # the fixture's kpi_by_room puts its rooms at alternate locations
    assert sorted(rooms) == [
        "Austin Downtown · Laser room",
        "Austin Downtown · Suite 1",
        "Boston Back Bay · Suite 2",
    ]
    assert "1 Mon" not in html and "Mon" in _svg_texts(
        html,
        "Treatment-room occupancy by weekday and hour, last 4 complete weeks (completed hours / "
        "open room-hours)",
    )
