"""Unit tests of the SVG chart renderer (`dashboards.svg`): scales, formats, layout, safety."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dashboards import SiteReport, build_site, charts
from dashboards.svg import SeriesChart, draw_heatmap, draw_series
from dashboards.svg.dates import date_label, day_number, time_ticks
from dashboards.svg.heatmap import HeatmapChart
from dashboards.svg.numbers import tick_labels
from dashboards.svg.scales import nice_ticks

NS = "{http://www.w3.org/2000/svg}"
WEEKS = [dt.date(2026, 5, 11) + dt.timedelta(weeks=i) for i in range(26)]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the SVG is well-formed XML


def _marks(root: ET.Element, kind: str) -> list[ET.Element]:
    """The elements inside the data-mark groups of `kind` (not the target band/line)."""
    out = []
    for g in root.iter(f"{NS}g"):
        classes = g.get("class", "").split()
        if f"mark-{kind}" in classes and not {"target-band", "target-line"} & set(classes):
            out.extend(child for child in g if child.tag != f"{NS}title")
    return out


def test_nice_ticks_are_round_and_cover_the_data():
    # 937 / 6 ticks = 156 a step -> 200 (the 1-2-5 step nearest); 0..1000 covers 937.
    assert nice_ticks(0, 937, 6) == [0, 200, 400, 600, 800, 1000]
    # 0.237 / 6 = 0.0395 -> 0.05; exact decimals, no 0.15000000000000002.
    assert nice_ticks(0, 0.237, 6) == [0, 0.05, 0.1, 0.15, 0.2, 0.25]
    # -30..120: 150 / 6 = 25 -> 20; the domain widens to -40..120.
    assert nice_ticks(-30, 120, 6) == [-40, -20, 0, 20, 40, 60, 80, 100, 120]
    assert nice_ticks(0, 0, 6)[0] == 0 and nice_ticks(0, 0, 6)[-1] == 1  # all zero: 0..1


def test_tick_labels_follow_the_page_formats_and_never_repeat():
    assert tick_labels([0, 0.05, 0.1], "pct0") == ["0%", "5%", "10%"]
    # Half-percent ticks under pct0 would read 0%, 1%, 1%: one more decimal instead.
    assert tick_labels([0, 0.005, 0.01], "pct0") == ["0.0%", "0.5%", "1.0%"]
    assert tick_labels([-1000, 0, 1500], "usd0") == ["\u2212$1,000", "$0", "$1,500"]
    assert tick_labels([0, 0.5, 1], None) == ["0.0", "0.5", "1.0"]
    assert tick_labels([0, 2500, 5000], None) == ["0", "2,500", "5,000"]
    assert tick_labels([0, 1.5, 3], "count") == ["0", "1.5", "3"]


def test_dates_are_utc_and_spelled_without_the_locale():
    assert date_label(day_number(dt.date(2026, 1, 5))) == "Jan 05 2026"
    # 23:30 in New York on Jan 5 is Jan 6 in UTC.
    late = dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert int(day_number(late)) == dt.date(2026, 1, 6).toordinal()
    # 26 weekly points (May 11 .. Nov 2): 175 days is ~5.7 months -> monthly ticks on the 1st.
    ticks, monthly = time_ticks(day_number(WEEKS[0]), day_number(WEEKS[-1]))
    assert monthly
    assert [date_label(t, True) for t in ticks] == [
        "Jun 2026", "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026"
    ]  # fmt: skip


def test_a_chart_does_not_change_with_the_machine_time_zone(monkeypatch: pytest.MonkeyPatch):
    rows = [{"week": w, "value": float(i)} for i, w in enumerate(WEEKS)]
    chart = SeriesChart("line", rows, "week", ("value",), "temporal")
    drawn = []
    for zone in ("UTC", "Pacific/Kiritimati", "America/Adak"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        drawn.append(draw_series(chart, "c1", "t"))
    monkeypatch.delenv("TZ")
    time.tzset()
    assert drawn[0] == drawn[1] == drawn[2]
    assert "week: 2026-05-11" in drawn[0]  # the first point's tooltip: the date itself


def test_hostile_labels_are_escaped_and_the_svg_stays_well_formed():
    evil = '<script>alert("x")</script> & Co'
    rows = [{"loc": evil, "v": 5.0, "s": evil}, {"loc": "B&B", "v": 7.0, "s": "x"}]
    svgs = [
        draw_series(SeriesChart("bar", rows, "loc", ("v",), "nominal", series="s"), "c1", evil),
        draw_series(SeriesChart("line", rows, "loc", ("v",), "nominal", series="s"), "c2", ""),
        draw_heatmap(HeatmapChart(rows, "loc", "s", "v"), "c3", evil),
    ]
    for svg in svgs:
        root = _parse(svg)
        assert "<script" not in svg and "&lt;script&gt;" in svg and "&amp; Co" in svg
        texts = "".join(root.itertext())
        assert evil in texts  # shown as text, exactly as named
        urls = set(re.findall(r"https?://[^\s\"')]+", svg))
        assert urls == {"http://www.w3.org/2000/svg"}


def test_same_input_same_bytes_and_ids_carry_the_chart_prefix():
    rows = [{"x": f"loc_{i}", "v": i * 1.5, "s": "ab"[i % 2]} for i in range(12)]
    chart = SeriesChart("bar", rows, "x", ("v",), "nominal", series="s", ref_line=9.0)
    one, two = draw_series(chart, "c4", "T"), draw_series(chart, "c4", "T")
    assert one == two
    ids = re.findall(r'\bid="([^"]+)"', one)
    assert ids and all(i == "c4" or i.startswith("c4-") for i in ids)
    root = _parse(one)
    assert root.get("role") == "img" and root.get("aria-label") == "T"


def test_every_data_mark_has_a_hover_title_with_its_formatted_value():
    rows = [{"w": w, "v": 0.25 + i / 100} for i, w in enumerate(WEEKS[:3])]
    root = _parse(
        draw_series(SeriesChart("line", rows, "w", ("v",), "temporal", y_fmt="pct1"), "c1", "t")
    )
    points = _marks(root, "symbol")
    assert len(points) == 3
    tips = [p.find(f"{NS}title").text for p in points]
    assert tips[0] == "w: 2026-05-11\nv: 25.0%"


def test_stacked_bar_heights_add_up_to_the_total():
    rows = [{"w": "w1", "s": "a", "v": 30.0}, {"w": "w1", "s": "b", "v": 70.0}]
    root = _parse(
        draw_series(SeriesChart("bar", rows, "w", ("v",), "nominal", series="s"), "c1", "")
    )
    a, b = _marks(root, "rect")
    # Ticks 0..100 (100 / 6 = 16.7 -> step 20) over the 240 px plot: 2.4 px per unit,
    # so a = 30 -> 72 px, b = 70 -> 168 px, stacked to 240 px, b directly on top of a.
    assert float(a.get("height")) == pytest.approx(72, abs=0.01)
    assert float(b.get("height")) == pytest.approx(168, abs=0.01)
    assert float(b.get("y")) + float(b.get("height")) == pytest.approx(float(a.get("y")), abs=0.02)


def test_grouped_bars_sit_side_by_side_from_zero():
    rows = [{"w": "w1", "s": "a", "v": 30.0}, {"w": "w1", "s": "b", "v": 70.0}]
    chart = SeriesChart("bar", rows, "w", ("v",), "nominal", series="s", stacked=False)
    a, b = _marks(_parse(draw_series(chart, "c1", "")), "rect")
    assert float(a.get("y")) + float(a.get("height")) == pytest.approx(
        float(b.get("y")) + float(b.get("height")), abs=0.02
    )  # same baseline
    assert float(b.get("x")) == pytest.approx(float(a.get("x")) + float(a.get("width")), abs=0.02)


def test_target_band_is_drawn_between_its_bounds():
    rows = [{"w": w, "v": 0.25} for w in WEEKS[:4]]
    chart = SeriesChart("line", rows, "w", ("v",), "temporal", y_fmt="pct1", ref_band=(0.2, 0.3))
    root = _parse(draw_series(chart, "c1", ""))
    band = next(g for g in root.iter(f"{NS}g") if "target-band" in g.get("class", ""))
    rect = band.find(f"{NS}rect")
    # Ticks 0..0.3 (0.3 / 6 = 0.05) on a 240 px plot starting 8 px down: 0.3 -> y 8,
    # 0.2 -> 8 + 240 / 3 = 88. The band spans y 8..88.
    assert float(rect.get("y")) == pytest.approx(8)
    assert float(rect.get("height")) == pytest.approx(80)
    assert rect.find(f"{NS}title").text == "target 20.0%–30.0%"


def test_a_point_off_target_never_reads_as_the_target_in_its_hover_text():
    """64.97 % under a 65 % floor reads 64.97%, not 65.0% (it would look on target); a
    value inside the band, or one already shown apart from the edge, keeps one decimal."""
    values = (0.6497, 0.70, 0.6449)
    rows = [{"w": w, "v": v} for w, v in zip(WEEKS, values, strict=False)]
    band = SeriesChart("line", rows, "w", ("v",), "temporal", y_fmt="pct1", ref_band=(0.65, None))
    points = _marks(_parse(draw_series(band, "c1", "")), "symbol")
    tips = [p.find(f"{NS}title").text for p in points]
    assert [t.splitlines()[-1] for t in tips] == ["v: 64.97%", "v: 70.0%", "v: 64.5%"]
    # a target line is an edge from both sides: $850.40 over $850 is not "$850"
    bars = [{"room": f"R{i}", "rph": v} for i, v in enumerate((850.4, 849.6, 900.0))]
    line = SeriesChart("bar", bars, "room", ("rph",), "nominal", y_fmt="usd0", ref_line=850)
    rects = _marks(_parse(draw_series(line, "c1", "")), "rect")
    tips = [r.find(f"{NS}title").text for r in rects]
    assert [t.splitlines()[-1] for t in tips] == ["rph: $850.40", "rph: $849.60", "rph: $900"]


def test_target_line_and_floor_are_inside_the_value_axis():
    rows = [{"room": "R1", "rph": 400.0}, {"room": "R2", "rph": 500.0}]
    chart = SeriesChart("bar", rows, "room", ("rph",), "nominal", horizontal=True, ref_line=850)
    svg = draw_series(chart, "c1", "")
    root = _parse(svg)
    rule = next(g for g in root.iter(f"{NS}g") if "target-line" in g.get("class", ""))
    line = rule.find(f"{NS}line")
    assert line.get("x1") == line.get("x2")  # horizontal bars: a vertical target line
    bars = _marks(root, "rect")
    right_edge = max(float(r.get("x")) + float(r.get("width")) for r in bars)
    assert float(line.get("x1")) > right_edge  # 850 is beyond the longest bar (500)


def test_heatmap_colours_are_ordered_by_value():
    rows = [{"h": h, "d": "Mon", "v": v} for h, v in ((9, 0.5), (10, 0.1), (11, 0.9), (12, 0.3))]
    root = _parse(draw_heatmap(HeatmapChart(rows, "h", "d", "v", fmt="pct0"), "c1", ""))
    cells = _marks(root, "rect")

    def lightness(fill: str) -> int:
        return sum(int(fill[i : i + 2], 16) for i in (1, 3, 5))

    by_value = sorted(cells, key=lambda c: float(c.find(f"{NS}title").text.split(": ")[-1][:-1]))
    shades = [lightness(c.get("fill")) for c in by_value]
    assert shades == sorted(shades, reverse=True) and len(set(shades)) == 4  # darker = more
    assert "10%" in "".join(root.itertext()) and "90%" in "".join(root.itertext())  # legend ends


def test_many_categories_get_slanted_and_thinned_labels():
    rows = [{"loc": f"Glow Aesthetics location number {i:02d}", "v": float(i)} for i in range(40)]
    root = _parse(draw_series(SeriesChart("bar", rows, "loc", ("v",), "nominal"), "c1", ""))
    axis_texts = [t for g in root.iter(f"{NS}g") if "axis" in g.get("class", "") for t in g]
    labels = [t for t in axis_texts if t.tag == f"{NS}text" and "location" in (t.text or "")]
    assert labels and all("rotate(-40" in t.get("transform", "") for t in labels)
    assert 10 <= len(labels) < 40  # slanted labels still need ~16 px each on a 620 px axis
    few = [{"loc": f"L{i}", "v": 1.0} for i in range(3)]
    svg = draw_series(SeriesChart("bar", few, "loc", ("v",), "nominal"), "c1", "")
    assert "rotate(" not in svg


def test_components_label_the_chart_with_its_title():
    chart = charts.series_chart("bar", [{"x": "a", "y": 1}], x="x", ys=["y"], x_kind="nominal")
    html = str(charts.to_svg(chart, "c9", "<figure>", "</figure>", "Revenue & more"))
    assert html.startswith("<figure><svg") and 'aria-label="Revenue &amp; more"' in html


def test_two_builds_of_the_shipped_pages_are_byte_identical_in_any_time_zone(
    fixture_serving, shipped_site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """No chart cache any more: a nightly build is a full build, so equal data must give
    equal files (the drawn SVG holds no clock, locale, zone or random id)."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        again = build_site(fixture_serving, tmp_path / "site")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    first = {p.relative_to(shipped_site.site_dir): p.read_bytes() for p in _files(shipped_site)}
    second = {p.relative_to(again.site_dir): p.read_bytes() for p in _files(again)}
    assert first.keys() == second.keys() and any(b"<svg" in b for b in first.values())
    assert [k for k in first if first[k] != second[k]] == []


def _files(report: SiteReport) -> list[Path]:
    return sorted(p for p in report.site_dir.rglob("*") if p.is_file())


def test_a_chart_cache_left_by_an_earlier_version_is_removed(build_pages, tmp_path: Path):
    old = tmp_path / "site-chart-cache"
    old.mkdir()
    (old / "0123.svg").write_text("<svg/>", encoding="utf-8")
    report = build_pages({"p.md": "Hello."})
    assert report.ok and report.site_dir == tmp_path / "site"
    assert not old.exists()


def test_odd_values_are_left_out_and_a_wrong_x_type_names_the_column_not_the_value():
    from decimal import Decimal

    rows = [
        {"x": "a", "v": float("nan")},
        {"x": "b", "v": float("inf")},
        {"x": "c", "v": Decimal("2.50")},
        {"x": "d", "v": True},
        {"x": "e", "v": "12"},
        {"x": "f", "v": None},
    ]
    root = _parse(draw_series(SeriesChart("bar", rows, "x", ("v",), "nominal"), "c1", ""))
    assert len(_marks(root, "rect")) == 1  # only the Decimal 2.50 is a number to draw
    nothing = [{"x": WEEKS[0], "v": float("nan")}]
    _parse(draw_series(SeriesChart("line", nothing, "x", ("v",), "temporal"), "c1", ""))
    secret = [{"x": "Jane Doe 555-0100", "v": 1.0}]
    with pytest.raises(ValueError, match="'x' holds a value that is not a date") as exc:
        draw_series(SeriesChart("line", secret, "x", ("v",), "temporal"), "c1", "")
    assert "Jane" not in str(exc.value)


def test_a_label_is_cut_to_the_longest_prefix_that_fits_with_its_ellipsis():
    """Worked by hand: an upper-case letter is 0.67 em, the ellipsis 0.53 em; at 10 px a
    120 px label holds 17 `A`s and the ellipsis (17 x 6.7 + 5.3 = 119.2 px; 18 would take
    125.9 px). A 200,000-character name is cut the same way, in one pass over it."""
    from dashboards.svg.text import truncate

    assert truncate("A" * 10, 120) == "A" * 10  # 67 px: fits whole
    assert truncate("A" * 20, 120) == "A" * 17 + "…"
    assert truncate("A" * 200_000, 120) == "A" * 17 + "…"
    assert truncate("AB", 3) == "…"  # not even one letter fits beside the ellipsis


def _open_rows() -> list[dict]:
    """Five weeks; the last two still open (`final` False): counts so far, not final."""
    return [{"w": w, "v": 0.36, "final": i < 3} for i, w in enumerate(WEEKS[:5])]


def test_open_points_are_hollow_on_a_dashed_line_with_a_legend_key():
    from dashboards.svg.colors import WHITE
    from dashboards.svg.legend import OPEN_LABEL

    chart = SeriesChart("line", _open_rows(), "w", ("v",), "temporal", final="final")
    root = _parse(draw_series(chart, "c1", ""))
    paths = _marks(root, "line")
    # one solid path through the three final weeks, one dashed from the last of them on
    assert [(p.get("d").count("L"), p.get("stroke-dasharray")) for p in paths] == [
        (2, None),
        (2, "4,3"),
    ]
    points = _marks(root, "symbol")
    assert [p.get("fill") == WHITE for p in points] == [False, False, False, True, True]
    assert OPEN_LABEL in points[-1].find(f"{NS}title").text
    assert OPEN_LABEL not in points[0].find(f"{NS}title").text
    legend = next(g for g in root.iter(f"{NS}g") if "legend" in g.get("class", ""))
    assert [t.text for t in legend.iter(f"{NS}text")] == [OPEN_LABEL]  # one series: key only


def test_open_bars_are_pale_with_a_dashed_outline():
    chart = SeriesChart("bar", _open_rows(), "w", ("v",), "ordinal", final="final")
    bars = _marks(_parse(draw_series(chart, "c1", "")), "rect")
    assert [b.get("stroke-dasharray") for b in bars] == [None, None, None, "4,3", "4,3"]
    assert [b.get("fill-opacity") for b in bars][-1] == "0.18"


def test_a_chart_with_no_open_value_is_drawn_as_before():
    rows = [{**r, "final": True} for r in _open_rows()]
    for mark, kind in (("line", "temporal"), ("bar", "ordinal")):
        plain = draw_series(SeriesChart(mark, rows, "w", ("v",), kind), "c1", "t")
        marked = draw_series(SeriesChart(mark, rows, "w", ("v",), kind, final="final"), "c1", "t")
        assert plain == marked and "stroke-dasharray" not in plain
    # a missing (None) final flag is not known to be open
    unknown = [{**r, "final": None} for r in _open_rows()]
    chart = SeriesChart("line", unknown, "w", ("v",), "temporal", final="final")
    assert draw_series(chart, "c1", "t") == draw_series(
        SeriesChart("line", unknown, "w", ("v",), "temporal"), "c1", "t"
    )


def test_heatmap_greys_open_cells_and_scales_over_the_final_ones():
    from dashboards.svg.colors import OPEN_CELL, blues
    from dashboards.svg.legend import OPEN_LABEL

    # the newest cohort's 18 % so far must neither colour as a collapse nor stretch the scale
    rows = [
        {"cohort": "2025-08", "loc": "All", "r": 0.70, "final": True},
        {"cohort": "2025-09", "loc": "All", "r": 0.66, "final": True},
        {"cohort": "2026-10", "loc": "All", "r": 0.18, "final": False},
    ]
    chart = HeatmapChart(rows, "cohort", "loc", "r", fmt="pct0", final="final")
    svg = draw_heatmap(chart, "c1", "")
    root = _parse(svg)
    cells = _marks(root, "rect")
    assert [c.get("fill") for c in cells] == [blues(1.0), blues(0.0), OPEN_CELL]
    assert OPEN_LABEL in cells[2].find(f"{NS}title").text
    legend = [
        t.text for g in root.iter(f"{NS}g") if "legend" in g.get("class", "") for t in g if t.text
    ]
    assert legend == ["66%", "70%", OPEN_LABEL]  # the ramp's ends: final values only
    # the key fits inside the drawing
    key = next(g for g in root.iter(f"{NS}g") if "open-key" in g.get("class", ""))
    text = key.find(f"{NS}text")
    from dashboards.svg.text import text_width

    assert float(text.get("x")) + text_width(OPEN_LABEL) <= float(root.get("width"))
    # without open cells: as before, no key
    plain = HeatmapChart(rows[:2], "cohort", "loc", "r", fmt="pct0")
    marked = HeatmapChart(rows[:2], "cohort", "loc", "r", fmt="pct0", final="final")
    assert draw_heatmap(plain, "c1", "") == draw_heatmap(marked, "c1", "")


def test_chart_components_read_open_values_from_is_final_or_final_column(build_pages):
    query = textwrap.dedent(
        """
        ```sql weekly
        select period_start, value, not is_final as final_flag, is_final
        from marts.kpi_scorecard where kpi = 'net_revenue'
        union all
        select date '2026-11-16', 400, true, false
        ```
        """
    )
    report = build_pages(
        {
            "open.md": query
            + '<LineChart data={weekly} x=period_start y=value title="By default" />\n\n'
            + "<BarChart data={weekly} x=period_start y=value finalColumn=final_flag "
            + 'title="Named" />\n',
            "wrong.md": query
            + "<LineChart data={weekly} x=period_start y=value finalColumn=nope />\n",
        }
    )
    assert [(f.page, "finalColumn='nope'" in f.message) for f in report.pages_failed] == [
        ("wrong.md", True)
    ]
    html = (report.site_dir / "open.html").read_text(encoding="utf-8")
    line = html[html.index("By default") : html.index("Named")]
    bars = html[html.index("Named") :]
    # is_final by default: the added week is open; finalColumn=final_flag: the others are
    # one hollow point + the legend key's; the point's hover text and the key's label
    assert line.count('fill="#fff"') == 1 + 1 and line.count("window still open") == 2
    assert bars.count('stroke-dasharray="4,3"') == 2 + 1  # two open bars + the legend key
