"""Retention and NPS by provider on the Providers page and each provider's page.

The KPI seed's plays send an owner whose retention is below target to "review retention by
provider", and one whose NPS falls to "review detractor feedback by provider": both pages
must answer that, from the published marts, with the same numbers. The numbers below are
worked by hand in dash_serving_fixture._provider_cohorts_and_nps: retention is pooled over
the 12 newest final cohort months (a month outside them, or not final yet, changes nothing;
pooling is not averaging: prov_2 is 40.0 %, not the 66.7 % mean of its two months), NPS over
the last three complete months. Providers appear by the shared naming rule, never a patient.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db, page_html


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("provider-retention")
    serving = make_serving_db(root / "serving.duckdb")
    build_shipped_pages(serving, root, "providers.md", "provider_detail.md")
    return root / "site"


def _section(page: str, heading: str, end: str | None = None) -> str:
    start = page.index(heading)
    stop = page.index(end, start) if end else len(page)
    return page[start:stop]


def _rows(fragment: str) -> list[tuple[str, list[str]]]:
    """(status class, text cells) of each body row of the fragment's tables."""
    rows = re.findall(r'<tr(?: class="status-([a-z_]+)")?>(.*?)</tr>', fragment)
    cells = [(tone, re.findall(r"<td[^>]*>([^<]*)</td>", row)) for tone, row in rows]
    return [(tone, [html_lib.unescape(c) for c in row]) for tone, row in cells if row]


def _text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_providers_page_pools_the_newest_12_final_cohorts_per_first_visit_provider(site):
    page = page_html(site, "providers.html")
    section = _section(page, "Retention by first-visit provider", "Patient feedback (NPS)")
    assert _rows(section) == [
        ("below", ["Sam O.", "10", "4", "40.0%", "2.90"]),
        ("on_target", ["Maria A. (Austin Downtown)", "120", "84", "70.0%", "3.00"]),
    ]
    text = _text(section)
    assert "12 newest cohorts whose year is over" in text
    assert "first visits from Nov 2025 to Oct 2026" in text
    assert "whoever saw them later. Chain target ≥ 65.0%." in text
    assert "not in the published marts yet" not in page


def test_providers_page_pools_nps_over_the_last_three_complete_months(site):
    page = page_html(site, "providers.html")
    section = _section(page, "Patient feedback (NPS) by provider")
    assert [cells for _, cells in _rows(section)] == [
        ["Sam O.", "10", "-20"],
        ["Maria A. (Austin Downtown)", "20", "20"],
    ]
    assert "last three complete months ( Aug 2026 to Oct 2026 )" in _text(section)


def test_provider_page_shows_its_own_pooled_retention_and_nps(site):
    page = page_html(site, "provider_detail/prov_1.html")
    text = _text(_section(page, "Retention and patient feedback"))
    assert (
        "12-month retention of the patients whose first visit was with Maria A. (Austin Downtown): "
        "70.0% (84 of 120 patients came back within a year; first visits from Nov 2025 to "
        "Oct 2026"
    ) in text
    assert "against the chain's target ≥ 65.0%." in text
    assert "Completed visits in their first year: 3.00 per patient" in text
    assert "Aug 2026 to Oct 2026: 20 from 20 responses" in text
    # the week's single detractor (-100 / 1) is no card of its own: NPS is shown pooled
    assert '<div class="bv-title">nps</div>' not in page
    other = _text(
        _section(
            page_html(site, "provider_detail/prov_2.html"),
            "Retention and patient feedback",
        )
    )
    assert "Sam O.: 40.0% (4 of 10 patients" in other
    assert "Aug 2026 to Oct 2026: -20 from 10 responses" in other


def test_a_provider_without_cohorts_or_responses_says_so(tmp_path: Path):
    """prov_2 with no first-visit cohort and no survey response: its page says so for each,
    rather than showing an empty figure."""
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from marts.kpi_by_cohort_provider where provider_id = 'prov_2'")
        con.execute(
            "delete from marts.kpi_by_provider where provider_id = 'prov_2' and kpi = 'nps'"
        )
    finally:
        con.close()
    build_shipped_pages(serving, tmp_path, "provider_detail.md")
    page = page_html(tmp_path / "site", "provider_detail/prov_2.html")
    text = _text(_section(page, "Retention and patient feedback"))
    assert "No patient whose first visit was with Sam O. has completed a year yet." in text
    assert "No survey response about Sam O.'s visits in the last three complete months." in text
