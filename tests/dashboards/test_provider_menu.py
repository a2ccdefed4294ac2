"""Provider pages and the menu list the providers an owner has now, and those who left while
the pages' weeks ran, not everyone who ever earned revenue.

The audit: a provider terminated 2025-09-03 had a page saying "No KPI rows" and a place in the
menu. The rule: one page per revenue-generating provider with KPI rows in the 26 weeks the
pages show (to the last complete week, 2026-11-09 in the fixture: from 2026-05-11); one who
left within them keeps a page that says when.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("provider-menu")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            """insert into marts.dim_providers values
                ('prov_5', 'Ada Gone', 'rn', 'loc_a', true, date '2023-01-09', date '2025-09-03'),
                ('prov_6', 'Ben Parttime', 'rn', 'loc_b', true, date '2023-01-09', null);
            -- prov_5 worked in the summer of 2025, before the pages' weeks
            insert into marts.kpi_by_provider values ('week', date '2025-08-25', '_all',
                'revenue_per_provider', 9000, null, null, true, 'prov_5');
            -- prov_6 worked the week of 2026-10-19 only, not the last complete week
            insert into marts.kpi_by_provider values ('week', date '2026-10-19', '_all',
                'revenue_per_provider', 4000, null, null, true, 'prov_6');
            -- Sam Okafor (prov_2) left on 2026-11-12, within the pages' weeks
            update marts.dim_providers set terminated_on = date '2026-11-12'
            where provider_id = 'prov_2'"""
        )
    finally:
        con.close()
    build_shipped_pages(serving, root, "index.md", "provider_detail.md")
    return root / "site"


def _menu(site: Path) -> list[str]:
    nav = (site / "index.html").read_text(encoding="utf-8")
    nav = nav[nav.index('class="nav"') : nav.index("</nav>")]
    return re.findall(r'href="provider_detail/([^"]+)\.html"', nav)


def test_only_providers_with_kpi_rows_in_the_pages_weeks_get_a_page(site):
    # prov_3: front desk; prov_4: no KPI rows at all; prov_5: left 2025-09-03, rows before
    assert sorted(p.name for p in (site / "provider_detail").iterdir()) == [
        "prov_1.html",
        "prov_2.html",
        "prov_6.html",
    ]
    assert _menu(site) == ["prov_6", "prov_1", "prov_2"]  # Ben P., Maria A., Sam O.


def test_a_provider_who_left_within_the_weeks_shown_says_when(site):
    sam = (site / "provider_detail/prov_2.html").read_text(encoding="utf-8")
    assert "Role: registered nurse. Left on <strong>2026-11-12</strong>" in sam
    maria = (site / "provider_detail/prov_1.html").read_text(encoding="utf-8")
    assert "Left on" not in maria


def test_a_provider_without_rows_in_the_last_week_says_so(site):
    ben = (site / "provider_detail/prov_6.html").read_text(encoding="utf-8")
    assert "No KPI rows for this provider in the last complete week." in ben
    assert "No data for Productive share, weekly" in ben  # he has revenue rows only
