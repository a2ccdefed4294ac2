"""The shipped pages with location ids a clinic system may well send: a comma in one, and two
that differ only in case. Every page still builds, each location keeps its own page, and the
weekly flash (and its email) shows each location's own scorecard."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb

from dashboards import SiteReport, build_site


def _site_with_location_id(fixture_serving: Path, tmp_path: Path, new_id: str) -> SiteReport:
    """The shipped site on the fixture with `loc_b` renamed to `new_id` in every table."""
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(fixture_serving.read_bytes())
    con = duckdb.connect(str(serving))
    tables = con.execute(
        """select c.table_schema, c.table_name from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.column_name = 'location_id' and t.table_type = 'BASE TABLE'
          and c.table_schema in ('marts', 'ops')"""
    ).fetchall()
    assert len(tables) > 5
    for schema, table in tables:
        con.execute(
            f'update {schema}."{table}" set location_id = ? where location_id = ?',
            [new_id, "loc_b"],
        )
    con.close()
    return build_site(serving, tmp_path / "site")


def _location_section(html: str, name: str) -> str:
    """The weekly flash's `### <name>` section: up to the next heading (the email's headings
    carry inline styles)."""
    found = re.search(rf"<h3[^>]*>{re.escape(name)}</h3>", html)
    assert found, name
    return html[found.end() : html.index("<h", found.end())]


def test_a_comma_in_a_location_id_keeps_the_flash_and_its_email(fixture_serving, tmp_path):
    report = _site_with_location_id(fixture_serving, tmp_path, "LOC,02")
    assert report.ok, report.pages_failed
    assert "weekly_flash.html" in report.pages_built
    assert "location_detail/loc-02.html" in report.pages_built
    assert report.flash_email_path == tmp_path / "site" / "weekly-flash-email.html"
    for path in (tmp_path / "site" / "weekly_flash.html", report.flash_email_path):
        html = path.read_text(encoding="utf-8")
        boston, austin = (
            _location_section(html, name) for name in ("Boston Back Bay", "Austin Downtown")
        )
        assert "no scorecard rows" not in boston
        assert boston.count("<tr") == austin.count("<tr") > 5  # its own KPI rows


def test_location_ids_differing_in_case_get_a_page_each(fixture_serving, tmp_path):
    report = _site_with_location_id(fixture_serving, tmp_path, "LOC_A")  # slug: loc_a
    assert report.ok, report.pages_failed
    # a shared slug is no one's plain name (site.instance_names): each id's own hashed name
    pages = [
        f"location_detail/loc_a.{hashlib.sha256(location_id).hexdigest()[:8]}.html"
        for location_id in (b"loc_a", b"LOC_A")
    ]
    assert {p for p in report.pages_built if p.startswith("location_detail/")} == set(pages)
    titles = [
        re.search(r"<h1>(.*?)</h1>", (tmp_path / "site" / p).read_text(encoding="utf-8"))
        for p in pages
    ]
    assert [t.group(1) if t else None for t in titles] == [
        "Location: Austin Downtown",
        "Location: Boston Back Bay",
    ]
