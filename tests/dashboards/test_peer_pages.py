"""Peer benchmarks on a tenant's site: the flash's sentence, the benchmarks page, the refresh.

Built on the full-shape fixture (`fixture_serving`: last complete week 2026-11-09) with a
hand-made `peer_benchmarks.duckdb`, so every number on the pages is worked out by hand below.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dashboards import DEFAULT_PAGES_DIR, build_site
from dashboards.formatting import fmt, ordinal
from dashboards.refresh import pages_reading_peers, refresh_peer_pages
from serving import peer_benchmarks

WEEK, EARLIER = dt.date(2026, 11, 9), dt.date(2026, 11, 2)
#: (kpi, grain, period, peers, p25, p50, p75, own value, own percentile rank)
ROWS = [
    ("net_revenue", "week", WEEK, 6, 850.0, 912.0, 1010.0, 950.0, 0.62),
    ("no_show_rate", "week", EARLIER, 5, 0.05, 0.081, 0.1, 0.04, 0.0),
    ("mrr", "week", WEEK, 7, 100.0, 200.0, 300.0, 350.0, 1.0),
    ("gross_margin", "week", WEEK, 5, 0.7, 0.74, 0.78, 0.73, 0.213),
    ("net_revenue", "month", dt.date(2026, 10, 1), 6, 3850.0, 3912.0, 4010.0, 3950.0, 0.4),
]


def _text(path: Path) -> str:
    """Visible text of a page: tags dropped, whitespace collapsed."""
    html_text = path.read_text(encoding="utf-8")
    return " ".join(re.sub(r"<[^>]+>", "", html_text).split())


@pytest.fixture
def peers_file(tmp_path: Path) -> Path:
    path = tmp_path / "peer_benchmarks.duckdb"
    peer_benchmarks.write(path, ROWS)
    return path


def test_ordinal_percentiles():
    assert [ordinal(n) for n in (0, 1, 2, 3, 4, 11, 12, 13, 21, 22, 62, 101, 111)] == [
        *("0th", "1st", "2nd", "3rd", "4th", "11th", "12th", "13th"),
        *("21st", "22nd", "62nd", "101st", "111th"),
    ]
    assert fmt(0.62, "pctile") == "62nd" and fmt(0.213, "pctile") == "21st"


def test_flash_says_where_the_clinic_stands_among_its_peers(fixture_serving, peers_file, tmp_path):
    report = build_site(fixture_serving, tmp_path / "site", peers=peers_file)
    assert report.ok, report.pages_failed
    assert report.pages_unlisted == []
    flash = _text(tmp_path / "site" / "weekly_flash.html")
    # rank 0.62 -> "62nd"; p50 912 in usd0 -> "$912" (the example sentence exactly)
    assert "Net revenue: 62nd percentile of 6 peers (peer median $912)" in flash
    # rank 0 -> "lowest"; 0.081 as pct1 -> "8.1%"; lower is better; an earlier week is named
    assert (
        "No-show rate: lowest of 5 peers (peer median 8.1%), lower is better, week of 2026-11-02"
        in flash
    )
    assert "MRR: highest of 7 peers (peer median $200)" in flash  # rank 1 -> "highest"
    # rank 0.213 -> round(21.3) = 21 -> "21st"; 0.74 as pct1 -> "74.0%"
    assert "Gross margin: 21st percentile of 5 peers (peer median 74.0%)" in flash
    assert "Net revenue: 40th" not in flash  # the month grain is the benchmarks page's, not here
    # the email form carries the same sentence
    email = _text(report.flash_email_path)
    assert "Net revenue: 62nd percentile of 6 peers (peer median $912)" in email


def test_benchmarks_page_lists_quartiles_own_value_rank_and_direction(
    fixture_serving, peers_file, tmp_path
):
    build_site(fixture_serving, tmp_path / "site", peers=peers_file)
    page = (tmp_path / "site" / "benchmarks.html").read_text(encoding="utf-8")
    cells = re.findall(r"<tr>(.*?)</tr>", page)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", c) for c in cells]
    assert [
        "Net revenue",
        "higher",
        "2026-11-09",
        "6",
        "$850",
        "$912",
        "$1,010",
        "$950",
        "62nd",
    ] in rows
    assert [
        "No-show rate",
        "lower",
        "2026-11-02",
        "5",
        "5.0%",
        "8.1%",
        "10.0%",
        "4.0%",
        "0th",
    ] in rows
    assert [
        "Net revenue",
        "higher",
        "2026-10-01",
        "6",
        "$3,850",
        "$3,912",
        "$4,010",
        "$3,950",
        "40th",
    ] in rows
    # listed in every page's navigation and on the home page, because benchmarks exist
    nav_link = re.compile(r'<a href="(\.\./)?benchmarks\.html" class="[^"]*">Peer benchmarks</a>')
    for name in ("index.html", "financial.html", "location_detail/loc_a.html"):
        assert nav_link.search((tmp_path / "site" / name).read_text()), name
    assert "Peer benchmarks" in _text(tmp_path / "site" / "index.html")


def test_without_benchmarks_the_pages_say_why_once_and_hide_the_page(fixture_serving, tmp_path):
    report = build_site(fixture_serving, tmp_path / "site", peers=tmp_path / "absent.duckdb")
    assert report.ok, report.pages_failed
    assert report.pages_unlisted == ["benchmarks.html"]
    flash = _text(tmp_path / "site" / "weekly_flash.html")
    assert flash.count("No peer comparison") == 1
    assert "exists only where one installation serves several clinics" in flash
    assert "percentile of" not in flash
    assert "No peer benchmarks for this site" in _text(tmp_path / "site" / "benchmarks.html")
    for name in ("index.html", "weekly_flash.html", "financial.html"):
        assert "benchmarks.html" not in (tmp_path / "site" / name).read_text()


def test_with_fewer_than_five_peers_the_flash_says_so_once(fixture_serving, tmp_path):
    empty = tmp_path / "peer_benchmarks.duckdb"
    peer_benchmarks.write(empty, [])  # what a tenant receives when fewer than 5 contribute
    build_site(fixture_serving, tmp_path / "site", peers=empty)
    flash = _text(tmp_path / "site" / "weekly_flash.html")
    assert flash.count("No peer comparison this week") == 1
    assert "at least 5 clinics" in flash and "percentile of" not in flash
    assert "benchmarks.html" not in (tmp_path / "site" / "index.html").read_text()
    assert "at least 5 clinics" in _text(tmp_path / "site" / "benchmarks.html")


def test_the_pages_state_the_same_minimum_as_the_benchmarks():
    for name in ("weekly_flash.md", "benchmarks.md"):
        text = (DEFAULT_PAGES_DIR / name).read_text()
        assert f"at least {peer_benchmarks.MIN_PEERS} clinics" in text


def test_refresh_equals_a_full_build_with_the_benchmarks(fixture_serving, peers_file, tmp_path):
    """The nightly order: site built without benchmarks, then the benchmarks step refreshes it.
    Every file must then be what a full build with the benchmarks writes, byte for byte."""
    assert pages_reading_peers() == ["benchmarks", "index", "weekly_flash"]
    full = tmp_path / "full"
    build_site(fixture_serving, full, peers=peers_file)
    site = tmp_path / "site"
    build_site(fixture_serving, site)
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*.html")}
    report = refresh_peer_pages(fixture_serving, site, peers_file)
    assert report.ok, report.pages_failed
    assert sorted(report.pages_built) == ["benchmarks.html", "index.html", "weekly_flash.html"]
    assert report.flash_email_path == site / "weekly-flash-email.html"
    files = sorted(p.relative_to(full) for p in full.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    for rel in files:
        assert (site / rel).read_bytes() == (full / rel).read_bytes(), rel
    assert all(p.exists() for p in before)  # nothing removed; other pages only re-navigated


def test_refresh_needs_a_built_site(fixture_serving, peers_file, tmp_path):
    with pytest.raises(FileNotFoundError, match="no built site"):
        refresh_peer_pages(fixture_serving, tmp_path / "never-built", peers_file)


def test_refresh_keeps_the_home_pages_list_of_failed_pages(fixture_serving, peers_file, tmp_path):
    pages = tmp_path / "pages"
    shutil.copytree(DEFAULT_PAGES_DIR, pages)
    (pages / "broken.md").write_text("```sql q\nselect * from marts.nope\n```\n", encoding="utf-8")
    site = tmp_path / "site"
    assert not build_site(fixture_serving, site, pages_dir=pages).ok
    refresh_peer_pages(fixture_serving, site, peers_file, pages_dir=pages)
    index = _text(site / "index.html")
    assert "Pages that failed to build" in index and "broken.md" in index
    assert "Peer benchmarks" in index


def test_with_benchmarks_attached_pages_stay_sealed(fixture_serving, peers_file, tmp_path):
    """The peers file is attached before the seal: pages read it, but no other file, and
    cannot write to it."""
    pages = tmp_path / "pages"
    pages.mkdir()
    secret = tmp_path / "landing.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    probes = {
        "reads.md": "```sql q\nselect count(*) as n from peers.kpi_benchmarks\n```\n{{ q[0].n }}\n",
        "files.md": f"```sql q\nselect * from read_csv('{secret}')\n```\n",
        "attach.md": f"```sql q\nattach '{tmp_path / 'x.duckdb'}' as x\n```\n",
        "writes.md": "```sql q\ndelete from peers.kpi_benchmarks\n```\n",
    }
    for name, text in probes.items():
        (pages / name).write_text(text, encoding="utf-8")
    report = build_site(fixture_serving, tmp_path / "site", pages_dir=pages, peers=peers_file)
    assert report.pages_built == ["reads.html"]
    assert _text(tmp_path / "site" / "reads.html").startswith("reads · medspa")
    assert f"{len(ROWS)} Data as of" in _text(tmp_path / "site" / "reads.html")
    failed = {f.page: f.message for f in report.pages_failed}
    assert set(failed) == {"files.md", "attach.md", "writes.md"}
    assert "sealed off" in failed["files.md"] and "sealed off" in failed["attach.md"]
    assert not (tmp_path / "x.duckdb").exists()
    assert len(
        duckdb.connect(str(peers_file), read_only=True)
        .execute("select * from kpi_benchmarks")
        .fetchall()
    ) == len(ROWS)
