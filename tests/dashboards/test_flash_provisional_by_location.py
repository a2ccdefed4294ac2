"""The weekly flash's "By location" tables (page and email) treat a value whose window is still
open as the chain-wide section does: a KPI with running counts is listed as pending with
them, never as a table row read as final; one without counts is labelled provisional.

The audit's case: San Francisco's consultation conversion was shown "0.0%, -40.0 pts" while
the mart said is_final = false, 0 of 8 so far.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db


@pytest.fixture(scope="module")
def flash(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The flash page and its email on the fixture, with two open values in 2026-11-09 (the
    last complete week): Boston's booking conversion 0 of 8 so far (value 0.0, 40 points
    below the week before) and Austin's net revenue (a level: no counts)."""
    root = tmp_path_factory.mktemp("flash-provisional")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            """update marts.kpi_scorecard set is_final = false, value = 0.0, numerator = 0,
                denominator = 8, change_vs_prior = -0.4, status = 'below'
            where grain = 'week' and period_start = date '2026-11-09'
                and location_id = 'loc_b' and kpi = 'booking_conversion_rate'"""
        )
        con.execute(
            """update marts.kpi_scorecard set is_final = false
            where grain = 'week' and period_start = date '2026-11-09'
                and location_id = 'loc_a' and kpi = 'net_revenue'"""
        )
    finally:
        con.close()
    report = build_shipped_pages(serving, root, "weekly_flash.md")
    assert report.flash_email_path is not None
    return [
        (root / "site" / "weekly_flash.html").read_text(encoding="utf-8"),
        Path(report.flash_email_path).read_text(encoding="utf-8"),
    ]


def _location_section(html: str, name: str) -> str:
    """`### <name>`: up to the next heading (the email's headings carry inline styles)."""
    found = re.search(rf"<h3[^>]*>{re.escape(name)}</h3>", html)
    assert found, name
    return html[found.end() : html.index("<h", found.end())]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("which", [0, 1], ids=["page", "email"])
def test_open_value_with_counts_is_pending_not_a_table_row(flash, which):
    boston = _location_section(flash[which], "Boston Back Bay")
    table, _, after = boston.partition("</table>")
    assert "Booking conversion" not in table  # no row reading 0.0 % as final
    assert "-40.0 pts" not in boston
    assert "Pending at Boston Back Bay" in _text(after)
    assert re.search(
        r"<strong[^>]*>Booking conversion</strong>: pending, 0 of 8 leads so far", after
    )
    # the closed values stay in the table: 22 KPIs in the fixture, one of them pending
    assert table.count("<tr") == 1 + 21


@pytest.mark.parametrize("which", [0, 1], ids=["page", "email"])
def test_open_value_without_counts_is_labelled_provisional(flash, which):
    austin = _location_section(flash[which], "Austin Downtown")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", austin)
    assert "Net revenue (provisional: window still open)" in cells
    assert "Net revenue" not in cells
    assert "pending" not in austin  # Austin's booking conversion is final: a table row
    assert "Booking conversion" in cells


@pytest.mark.parametrize("which", [0, 1], ids=["page", "email"])
def test_location_tables_speak_plainly(flash, which):
    """Headers and the standing in words, not the mart's column names and status codes."""
    austin = _location_section(flash[which], "Austin Downtown")
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", austin)
    assert headers == [
        "kpi name", "value", "target from", "target to", "vs prior week", "baseline 12 months",
        "standing",
    ]  # fmt: skip
    cells = set(re.findall(r"<td[^>]*>([^<]*)</td>", austin))
    assert not cells & {"on_target", "no_target", "below", "above"}
    assert {"no target", "below target"} <= cells
