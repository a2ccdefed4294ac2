"""The chart cache between builds: unchanged charts are not redrawn, changed ones are.

Drawing (vl-convert) is most of a large site's build; a nightly build reuses what the
previous one drew. What must hold: the site is byte-identical with or without the cache, a
chart whose data changed is redrawn, and the cache keeps only the latest build's charts.
"""

from pathlib import Path

import duckdb
import vl_convert

from dashboards import build_site, charts

PAGE = (
    "```sql rev\nselect location_id, value from marts.kpi_scorecard "
    "where kpi = 'net_revenue' order by 1\n```\n"
    "<BarChart data={rev} x=location_id y=value />\n"
)
MARGIN = (
    "```sql gm\nselect location_id, value from marts.kpi_scorecard "
    "where kpi = 'gross_margin' order by 1\n```\n"
    "<BarChart data={gm} x=location_id y=value />\n"
)


def _counting_draws(monkeypatch) -> list[int]:
    """Count vl-convert calls; the in-process cache is emptied so only the folder can help."""
    calls: list[int] = []
    real = vl_convert.vegalite_to_svg

    def draw(spec, **kwargs):
        calls.append(1)
        return real(spec, **kwargs)

    monkeypatch.setattr(charts.vl_convert, "vegalite_to_svg", draw)
    charts._svg_cache.clear()
    return calls


def _pages(tmp_path: Path, **pages: str) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for name, text in pages.items():
        (folder / f"{name}.md").write_text(text)
    return folder


def test_an_unchanged_chart_is_read_from_the_cache_and_the_site_is_identical(
    tiny_db, tmp_path, monkeypatch
):
    pages, cache = _pages(tmp_path, p=PAGE), tmp_path / "cache"
    plain = build_site(tiny_db, tmp_path / "plain", pages_dir=pages)
    calls = _counting_draws(monkeypatch)
    first = build_site(tiny_db, tmp_path / "a", pages_dir=pages, chart_cache=cache)
    assert len(calls) == 1 and len(list(cache.glob("*.svg"))) == 1
    charts._svg_cache.clear()  # a new process: only the folder remains
    second = build_site(tiny_db, tmp_path / "b", pages_dir=pages, chart_cache=cache)
    assert len(calls) == 1  # nothing redrawn
    for a, b, c in zip(plain.files_written, first.files_written, second.files_written, strict=True):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes(), a.name


def test_a_chart_whose_data_changed_is_redrawn(tmp_path, monkeypatch):
    db = tmp_path / "serving.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_scorecard (location_id varchar, kpi varchar, value int)"
        )
        con.execute("insert into marts.kpi_scorecard values ('loc_a', 'net_revenue', 1200)")
    pages, cache = _pages(tmp_path, p=PAGE), tmp_path / "cache"
    calls = _counting_draws(monkeypatch)
    before = build_site(db, tmp_path / "site", pages_dir=pages, chart_cache=cache)
    old_html = (before.site_dir / "p.html").read_text()
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.kpi_scorecard set value = 1300")  # the nightly delta
    charts._svg_cache.clear()
    after = build_site(db, tmp_path / "site", pages_dir=pages, chart_cache=cache)
    assert len(calls) == 2
    assert (after.site_dir / "p.html").read_text() != old_html  # the new bar, not the cached one


def test_the_cache_holds_only_the_latest_builds_charts(tiny_db, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    _counting_draws(monkeypatch)
    build_site(
        tiny_db, tmp_path / "site", pages_dir=_pages(tmp_path, p=PAGE, q=MARGIN), chart_cache=cache
    )
    both = set(cache.glob("*.svg"))
    assert len(both) == 2
    build_site(tiny_db, tmp_path / "site", pages_dir=_pages(tmp_path, p=PAGE), chart_cache=cache)
    left = set(cache.glob("*.svg"))
    assert len(left) == 1 and left < both  # the dropped page's chart went with it
