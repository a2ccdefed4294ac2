"""A value whose window is still open (`is_final` false) is never shown as final on any page.

The audit of a 3-location chain: every location page led with consultation conversion
"0.0%, -37.4 pts vs 12-mo baseline" (0 of 14 so far); Engagement's booking-conversion line
ended with 4 open weeks (0.30-0.32 against 0.36-0.39 final) and the funnel's booked share
counted leads still in their 30-day window; Patients' retention heatmap coloured 12 of 15
open cohorts on the final scale (the newest at 18 % against >= 65 % read as a collapse).

The rules, as on the weekly flash: in a single-period view (cards, the provider table) an open
value with running counts is listed as "pending, n of d so far", not shown as a value; in a
chart it is drawn hollow (a hollow point on a dashed line, a pale dashed bar, a grey heatmap
cell outside the colour scale) with a legend key, and the page says so in one sentence.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db, table_rows
from dash_serving_fixture import page_html as _read
from dash_serving_fixture import page_text as _text

from dashboards.svg.colors import OPEN_CELL, WHITE
from dashboards.svg.legend import OPEN_LABEL

NS = "{http://www.w3.org/2000/svg}"
PAGES = (
    "location_detail.md",
    "provider_detail.md",
    "index.md",
    "financial.md",
    "rooms.md",
    "providers.md",
    "engagement.md",
    "patients.md",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture chain (last complete week 2026-11-09, month 2026-10) with open windows."""
    root = tmp_path_factory.mktemp("pending-windows")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        # Boston's booking conversion a few days after the week: 0 of 8 so far, 40 points
        # below the week before (a location page card read it as a collapse); its leads of
        # the week are still in their booking window (the funnel's booked is a count so far)
        con.execute(
            """update marts.kpi_scorecard set is_final = false, value = 0.0, numerator = 0,
                denominator = 8, change_vs_prior = -0.4
            where grain = 'week' and period_start = date '2026-11-09'
                and location_id = 'loc_b' and kpi = 'booking_conversion_rate'"""
        )
        # chain-wide: one open KPI among each card page's headline KPIs (index and financial:
        # gross margin; rooms: room utilisation; providers: rebooking), and the last two weeks
        # of booking conversion on the engagement chart
        con.execute(
            """update marts.kpi_scorecard set is_final = false, value = 0.05, numerator = 1,
                denominator = 20
            where grain = 'week' and period_start = date '2026-11-09' and location_id = '_all'
                and kpi in ('gross_margin', 'room_utilization', 'rebooking_rate')"""
        )
        con.execute(
            """update marts.kpi_scorecard set is_final = false
            where grain = 'week' and period_start in (date '2026-11-02', date '2026-11-09')
                and location_id = '_all' and kpi = 'booking_conversion_rate'"""
        )
        # Sam O. (prov_2): rebooking of the week still open, 1 of 20 so far
        con.execute(
            """update marts.kpi_by_provider set is_final = false, value = 0.05, numerator = 1,
                denominator = 20
            where grain = 'week' and period_start = date '2026-11-09'
                and provider_id = 'prov_2' and kpi = 'rebooking_rate'"""
        )
        # the two newest of the three cohorts shown (2026-08 .. 2026-10) are not a year old
        con.execute(
            """update marts.kpi_scorecard set is_final = false, value = value / 4
            where grain = 'month' and period_start >= date '2026-09-01'
                and kpi in ('retention_12m', 'visits_first_year')"""
        )
    finally:
        con.close()
    build_shipped_pages(serving, root, *PAGES)
    return root / "site"


def _cards(html: str) -> list[str]:
    return re.findall(r'<div class="bv-title">([^<]+)</div>', html)


def _chart(html: str, title: str) -> ET.Element:
    """The `<svg>` of the chart titled `title` (parsed: also proves it is well-formed)."""
    head = f'<div class="c-title">{title}</div>'
    start = html.index("<svg", html.index(head))
    return ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])


def _marks(svg: ET.Element, kind: str) -> list[ET.Element]:
    """The data marks of `kind` (not the target band or line)."""
    out = []
    for g in svg.iter(f"{NS}g"):
        classes = g.get("class", "").split()
        if f"mark-{kind}" in classes and not {"target-band", "target-line"} & set(classes):
            out.extend(g)
    return out


def _tip(el: ET.Element) -> str:
    title = el.find(f"{NS}title")
    return "" if title is None else title.text or ""


def test_location_page_lists_an_open_kpi_as_pending_not_as_a_card(site):
    boston = _read(site, "location_detail/loc_b.html")
    assert "Booking conversion" not in _cards(boston)
    assert "-40.0 pts" not in boston  # no comparison of a count so far
    # as the flash: pending with its running counts, and the last closed week for context
    assert re.search(
        r"<strong>Booking conversion</strong>: pending, 0 of 8 leads so far "
        r"\(last closed week, 2026-11-02: 33\.6%\)",
        boston,
    )
    # Austin's booking conversion is final: a card, and nothing pending there
    austin = _read(site, "location_detail/loc_a.html")
    assert "Booking conversion" in _cards(austin) and "pending" not in austin


@pytest.mark.parametrize("slug", ["loc_a", "loc_b"])
def test_location_page_names_its_week(site, slug):
    """The week shown is the chain's last complete week (ended at every location), and the
    page says so: "The last complete week at Boston" named the chain's week as Boston's."""
    text = _text(_read(site, f"location_detail/{slug}.html"))
    name = {"loc_a": "Austin Downtown", "loc_b": "Boston Back Bay"}[slug]
    assert (
        "The chain's last complete week (the newest week that has ended at every location): "
        f"week of 2026-11-09 to 2026-11-15, at {name}" in text
    )
    assert "The last complete week at" not in text


def test_provider_page_lists_an_open_kpi_as_pending_and_names_its_week(site):
    sam = _read(site, "provider_detail/prov_2.html")
    assert "Rebooking rate" not in _cards(sam)
    assert "<strong>Rebooking rate</strong>: pending, 1 of 20 visits so far" in sam
    assert "The last complete week: week of 2026-11-09 to 2026-11-15" in _text(sam)
    # the trend marks the open week instead of plotting 5 % as final
    svg = _chart(sam, "Rebooking rate, weekly")
    points = _marks(svg, "symbol")
    assert [p.get("fill") == WHITE for p in points] == [False, False, False, True]
    assert OPEN_LABEL in _tip(points[-1]) and OPEN_LABEL in "".join(svg.itertext())
    assert "Hollow points on a dashed line are weeks whose window is still open" in sam
    # Maria A. (Austin Downtown) has nothing open: no note, no pending list
    maria = _read(site, "provider_detail/prov_1.html")
    assert "Hollow points" not in maria and "pending" not in maria


@pytest.mark.parametrize(
    ("page", "label", "counts"),
    [
        # the running counts in the KPI's units (dashboards.count_units)
        ("index.html", "Gross margin", "$1 gross profit of $20 net revenue"),
        ("financial.html", "Gross margin", "$1 gross profit of $20 net revenue"),
        ("rooms.html", "Room utilisation", "1 completed hour of 20 open room hours"),
        ("providers.html", "Rebooking rate", "1 of 20 visits"),
    ],
)
def test_card_pages_list_an_open_kpi_as_pending(site, page, label, counts):
    html = _read(site, page)
    assert label not in _cards(html)
    assert f"<strong>{label}</strong>: pending, {counts} so far" in html


def test_providers_table_leaves_an_open_value_blank_and_lists_it(site):
    html = _read(site, "providers.html")
    table = html[html.index("Provider scorecard, last complete week") :]
    rows = {r[0]: r for r in table_rows(table[: table.index("</table>")])}
    # provider, home location, revenue, productive share, rebooking, confirmation response
    assert rows["Sam O."][4] == "—" and rows["Maria A. (Austin Downtown)"][4] != "—"
    assert "<strong>Sam O.</strong>, Rebooking rate: pending, 1 of 20 visits so far" in html


def test_engagement_marks_open_weeks_and_says_how_many(site):
    html = _read(site, "engagement.html")
    svg = _chart(html, "Contact rate (15 min) and booking conversion, weekly")
    hollow = [p for p in _marks(svg, "symbol") if p.get("fill") == WHITE]
    # the two open weeks of booking conversion, nothing of contact rate
    assert len(hollow) == 2
    assert all("label: Booking conversion" in _tip(p) and OPEN_LABEL in _tip(p) for p in hollow)
    dashed = [p for p in _marks(svg, "line") if p.get("stroke-dasharray")]
    assert len(dashed) == 1  # 11-02 .. 11-09 ends the booking-conversion line dashed
    # the sentence counts them per KPI (rebooking: the chain-wide week opened for Providers)
    assert "(the last 2 weeks of booking conversion, 1 week of rebooking rate)." in _text(html)


def test_engagement_funnel_marks_booked_as_a_count_so_far(site):
    html = _read(site, "engagement.html")
    bars = _marks(_chart(html, "Leads: new → responded → booked"), "rect")
    booked = [b for b in bars if "stage: Booked" in _tip(b)]
    assert booked and all(b.get("stroke-dasharray") for b in booked)
    assert not any(b.get("stroke-dasharray") for b in bars if b not in booked)
    table = html[html.index('<div class="datatable"') :]
    head = table[: table.index("</thead>")]
    assert "booked so far" in head and "booked share so far" in head
    assert "leads still in window" in head
    rows = table_rows(table[: table.index("</table>")])
    # Boston has the fixture's odd-numbered leads (lk_1, lk_3, ...): about half of each channel
    assert {r[0]: (r[1], r[5]) for r in rows} == {
        "Google Ads": ("14", "7"),
        "Instagram": ("13", "7"),
        "Referral": ("13", "6"),
    }


def test_patients_greys_open_cohorts_outside_the_scale(site):
    html = _read(site, "patients.html")
    svg = _chart(html, "Share of each cohort with another visit within 12 months (target ≥ 65.0%)")
    cells = {
        _tip(c).split("\n")[0] + " / " + _tip(c).split("\n")[1]: c for c in _marks(svg, "rect")
    }
    grey = sorted(k for k, c in cells.items() if c.get("fill") == OPEN_CELL)
    assert grey == sorted(
        f"cohort: {m} / location: {loc}"
        for m in ("2026-09", "2026-10")
        for loc in ("All locations", "Austin Downtown", "Boston Back Bay")
    )
    assert all(OPEN_LABEL in _tip(cells[k]) for k in grey)
    legend = [t.text for g in svg.iter(f"{NS}g") if "legend" in g.get("class", "") for t in g]
    # the ramp spans the final 2026-08 cohort only (60.0 %, 60.3 %, 60.6 %), not the open
    # cohorts' counts so far (15-16 %); the grey key beside it
    assert [t for t in legend if t] == ["60%", "61%", OPEN_LABEL]
    visits = _marks(
        _chart(html, "Completed visits in the first year, per patient (target 3–4)"), "rect"
    )
    assert [bool(b.get("stroke-dasharray")) for b in visits] == [False, True, True]
    assert "Grey cells and pale dashed bars are the 2 most recent of 3 cohorts" in _text(html)
