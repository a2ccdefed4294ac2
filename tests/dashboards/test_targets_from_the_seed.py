"""Chart target lines and the targets named in titles and text come from the targets seed
(marts.kpi_targets), never from numbers written in the pages: an owner who moves a target in
the seed sees it on the cards, and before this fix not on the charts (RPH $850, productive
share 80 %, gross margin 75 %, the share bands, retention 65 %, visits 3-4 were written in).

Here the fixture's seed moves every one of them; the pages must show the new values.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import make_serving_db
from dash_serving_fixture import page_html as _read

from dashboards import build_site

MOVED = {
    # kpi: (target_low, target_high)
    "revenue_per_room_hour": (900.0, None),
    "provider_productive_share": (0.85, None),
    "gross_margin": (0.70, None),
    "membership_revenue_share": (0.25, 0.35),
    "retail_revenue_share": (0.12, 0.18),
    "retention_12m": (0.70, None),
    "visits_first_year": (2.0, 5.0),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("moved-targets")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        # as a publish after editing the seed: the targets and the scorecard's copy of them
        for table in ("kpi_targets", "kpi_scorecard"):
            con.executemany(
                f"update marts.{table} set target_low = ?, target_high = ? where kpi = ?",
                [(low, high, kpi) for kpi, (low, high) in MOVED.items()],
            )
    finally:
        con.close()
    report = build_site(serving, root / "site")
    assert report.pages_failed == []
    return root / "site"


def _chart(html: str, title: str) -> str:
    """The `<svg>` after the chart title `title` (the title itself must be there)."""
    at = html.index(f'<div class="c-title">{title}</div>')
    return html[at : html.index("</svg>", at)]


def _targets_drawn(svg: str) -> list[str]:
    """The hover texts of the chart's target line or band."""
    marks = re.findall(r'<g class="mark-\w+ role-mark (?:target-line|target-band)">(.*?)</g>', svg)
    return re.findall(r"<title>([^<]*)</title>", "".join(marks))


def test_rooms_charts_draw_and_name_the_seeds_rph_target(site):
    html = _read(site, "rooms.html")
    assert _targets_drawn(_chart(html, "RPH by location, weekly (target ≥ $900)")) == [
        "target $900"
    ]
    assert _targets_drawn(_chart(html, "RPH by room, last complete week")) == ["target $900"]
    assert "$850" not in html


def test_location_page_draws_the_seeds_rph_target(site):
    html = _read(site, "location_detail/loc_a.html")
    svg = _chart(html, "Revenue per room hour, weekly (target ≥ $900)")
    assert _targets_drawn(svg) == ["target $900"]
    assert "$850" not in html


def test_financial_bands_come_from_the_seed(site):
    html = _read(site, "financial.html")
    assert _targets_drawn(_chart(html, "Gross margin (target ≥ 70.0%)")) == ["target ≥ 70.0%"]
    membership = _chart(html, "Membership share (target 25.0%–35.0%)")
    assert _targets_drawn(membership) == ["target 25.0%–35.0%"]
    assert _chart(html, "Retail share (target 12.0%–18.0%)")
    assert "75%" not in html and "20–30%" not in html


def test_provider_pages_draw_the_seeds_productive_share_target(site):
    providers = _read(site, "providers.html")
    svg = _chart(providers, "Productive share by provider (target ≥ 85.0%)")
    assert _targets_drawn(svg) == ["target 85%"]
    detail = _read(site, "provider_detail/prov_1.html")
    assert _targets_drawn(_chart(detail, "Productive share, weekly (target ≥ 85.0%)")) == [
        "target 85%"
    ]


def test_patients_titles_and_band_come_from_the_seed(site):
    html = _read(site, "patients.html")
    assert _chart(html, "Share of each cohort with another visit within 12 months (target ≥ 70.0%)")
    visits = _chart(html, "Completed visits in the first year, per patient (target 2–5)")
    assert _targets_drawn(visits) == ["target 2.0–5.0"]


def test_home_page_table_names_the_seeds_targets(site):
    html = _read(site, "index.html")
    assert "Revenue per room hour against $900" in html
    assert "Productive share against 85.0%" in html


def test_a_kpi_without_a_target_draws_no_target_line(tmp_path):
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        for table in ("kpi_targets", "kpi_scorecard"):
            con.execute(
                f"""update marts.{table} set target_low = null, target_high = null
                where kpi = 'revenue_per_room_hour'"""
            )
    finally:
        con.close()
    report = build_site(serving, tmp_path / "site")
    assert report.pages_failed == []
    html = _read(tmp_path / "site", "rooms.html")
    assert _targets_drawn(_chart(html, "RPH by location, weekly")) == []
    assert "target" not in _chart(html, "RPH by room, last complete week")
