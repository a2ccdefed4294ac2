"""The shipped pages build on a serving DB of the published shape, with and without gaps."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from dash_serving_fixture import KPIS, make_serving_db

from dashboards import build_site
from dashboards.site import DEFAULT_PAGES_DIR
from medspa.commands import site as site_command

EXPECTED_PAGES = {
    "index.html",
    "weekly_flash.html",
    "benchmarks.html",  # built always; in the navigation only when benchmarks exist
    "financial.html",
    "rooms.html",
    "providers.html",
    "patients.html",
    "engagement.html",
    "data_quality.html",
    "planner.html",
    "location_detail/loc_a.html",
    "location_detail/loc_b.html",
    "provider_detail/prov_1.html",
    "provider_detail/prov_2.html",
    # no page for prov_4: revenue-generating, but no KPI rows in the weeks the pages show
    # (tests/dashboards/test_provider_menu.py)
}


def test_every_shipped_page_builds(shipped_site):
    assert shipped_site.pages_failed == []
    assert set(shipped_site.pages_built) == EXPECTED_PAGES
    for name in EXPECTED_PAGES:
        assert (shipped_site.site_dir / name).is_file()


def test_one_page_per_location_and_per_revenue_generating_provider(shipped_site):
    # The fixture has two locations and two revenue-generating providers (prov_3 is front desk).
    built = set(shipped_site.pages_built)
    assert {p for p in built if p.startswith("location_detail/")} == {
        "location_detail/loc_a.html",
        "location_detail/loc_b.html",
    }
    assert "provider_detail/prov_3.html" not in built  # front desk: not revenue-generating
    austin = (shipped_site.site_dir / "location_detail/loc_a.html").read_text(encoding="utf-8")
    assert "<h1>Location: Austin Downtown</h1>" in austin


def test_providers_are_shown_as_first_name_and_last_initial(shipped_site):
    html = (shipped_site.site_dir / "providers.html").read_text(encoding="utf-8")
    assert "Sam O." in html and "Okafor" not in html and "Alvarez" not in html
    # Maria Alvarez and Maria Acosta share "Maria A.": the provider id tells them apart, even
    # though Maria Acosta (prov_4), without KPI rows, has no page of her own.
    assert "Maria A. (Austin Downtown)" in html and "prov_4" not in html


def test_flash_covers_the_last_complete_week_chain_and_locations(shipped_site):
    html = (shipped_site.site_dir / "weekly_flash.html").read_text(encoding="utf-8")
    # Fixture weeks run to 2026-11-16 (still open), so the flash reports 2026-11-09..15.
    assert "Week of <strong>2026-11-09</strong> to <strong>2026-11-15</strong>" in html
    # Every KPI chain-wide, one BigValue each.
    assert html.count('data-component="BigValue"') == len(KPIS)
    assert "<h3>Austin Downtown</h3>" in html and "<h3>Boston Back Bay</h3>" in html
    assert "Every source system and table delivered data" in html


def test_flash_email_is_self_contained(shipped_site):
    path = shipped_site.flash_email_path
    assert path is not None and path.name == "weekly-flash-email.html"
    mail = path.read_text(encoding="utf-8")
    assert 'class="bigvalue' in mail and 'style="' in mail
    assert not re.search(r'(src|href)="(?!#)[^"]+"', mail)  # nothing to fetch or follow


def test_no_identity_or_contact_column_reaches_any_page(shipped_site):
    # fct_appointments/fct_leads in the fixture hold pk_/lk_ keys; pages aggregate them away.
    for path in shipped_site.files_written:
        text = path.read_text(encoding="utf-8")
        assert "patient_key" not in text and "lead_key" not in text
        assert not re.search(r"\b(pk|lk)_\d+\b", text), path


def test_site_has_no_network_references(shipped_site):
    allowed = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for path in shipped_site.files_written:
        text = path.read_text(encoding="utf-8")
        assert set(re.findall(r"https?://[^\s\"')<]+", text)) <= allowed, path
        assert "<script" not in text and "@import" not in text and "url(http" not in text


def test_missing_phone_system_is_named_with_the_kpis_it_leaves_out(tmp_path):
    serving = make_serving_db(tmp_path / "serving.duckdb", coverage_gap=True)
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("weekly_flash.md", "data_quality.md", "engagement.md"):
        shutil.copy(DEFAULT_PAGES_DIR / name, pages / name)
    report = build_site(serving, tmp_path / "site", pages_dir=pages)
    assert report.pages_failed == []
    for page in ("weekly_flash.html", "data_quality.html"):
        html = (tmp_path / "site" / page).read_text(encoding="utf-8")
        assert "<code>phone.calls</code>" in html, page
        assert "<strong>missed_call_rate</strong>: needs phone.calls" in html, page
    engagement = (tmp_path / "site" / "engagement.html").read_text(encoding="utf-8")
    assert "No data for Missed inbound calls, weekly" in engagement


def test_site_command_builds_into_data_dir_and_fails_on_broken_page(
    fixture_serving: Path, tmp_path: Path, capsys
):
    parser = argparse.ArgumentParser()
    site_command.add_arguments(parser)
    args = parser.parse_args(["--serving", str(fixture_serving), "--data-dir", str(tmp_path)])
    assert site_command.run(args) == 0
    assert (tmp_path / "site" / "index.html").is_file()
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "ok.md").write_text("# fine\n")
    (pages / "broken.md").write_text("<Chart />\n")
    args = parser.parse_args(
        ["--serving", str(fixture_serving), "--out", str(tmp_path / "s2"), "--pages", str(pages)]
    )
    assert site_command.run(args) == 1
    out = capsys.readouterr().out
    assert "failed: broken.md:1: unknown component <Chart>" in out
    assert (tmp_path / "s2" / "ok.html").is_file()


def test_readme_example_page_builds(tiny_db, tmp_path):
    """The page shown in dashboards/README.md is real: it builds on the tiny fixture."""
    readme = (DEFAULT_PAGES_DIR.parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"````markdown\n(.*?)\n````", readme, flags=re.DOTALL).group(1)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "example.md").write_text(example, encoding="utf-8")
    report = build_site(tiny_db, tmp_path / "site", pages_dir=pages)
    assert report.ok, report.pages_failed
    html = (tmp_path / "site" / "example.html").read_text(encoding="utf-8")
    # Tiny fixture: net revenue 1200 (Austin) + 800 (Boston) in one week.
    assert "Chain revenue over all weeks: <strong>$2,000</strong>" in html
    assert "<li>Austin: $1,200</li>" in html and "<li>Boston" not in html  # 800 < 1000
    assert 'data-component="LineChart"' in html


def test_the_stylesheet_is_inlined_as_written(shipped_site):
    """The page's own CSS is not data: escaped, `"Segoe UI"` became `&#34;Segoe UI&#34;`, which
    broke the whole font-family rule (pages fell back to the browser's serif font)."""
    css = (DEFAULT_PAGES_DIR.parent / "assets" / "style.css").read_text(encoding="utf-8")
    page = (shipped_site.site_dir / "index.html").read_text(encoding="utf-8")
    assert '"Segoe UI"' in css and css.strip() in page
