"""A line on a time axis is never drawn across a missing period (dashboards/svg/series.py).

The audit case: provider PRV0005's weekly net revenue had no row for the week of 2026-08-17,
and the provider page drew one straight line from $1,608 (Aug 10) to $8,668 (Aug 24), as if
the week between had earned about $5,100. A week without a row (or with a null value) is a
gap: the series' path stops at the point before it and moves (`M`) to the point after it.
Charts whose x is not a run of periods (categories, ordinal dates, numbers, daily or
irregular dates) join their points as before.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from dashboards.svg import SeriesChart, draw_series

NS = "{http://www.w3.org/2000/svg}"
#: 26 weekly period starts, Mon 2026-05-11 .. Mon 2026-11-02; index 14 is 2026-08-17
WEEKS = [dt.date(2026, 5, 11) + dt.timedelta(weeks=i) for i in range(26)]
AUG_10, AUG_17, AUG_24 = WEEKS[13], WEEKS[14], WEEKS[15]


def _draw(chart: SeriesChart) -> ET.Element:
    return ET.fromstring(draw_series(chart, "c1", "t"))  # also proves it is well-formed


def _subpaths(root: ET.Element) -> list[list[tuple[float, float]]]:
    """The vertices of each subpath (`M` then `L`s) of the chart's one line path."""
    groups = [g for g in root.iter(f"{NS}g") if "mark-line" in g.get("class", "").split()]
    paths = [p for g in groups for p in g.iter(f"{NS}path")]
    if not paths:
        return []
    (path,) = paths  # one series: one path, however many gaps
    return [
        [tuple(float(n) for n in vertex.split(",")) for vertex in sub.split("L")]
        for sub in re.findall(r"M([^M]+)", path.get("d", ""))
    ]


def _circles(root: ET.Element) -> dict[str, tuple[float, float]]:
    """Each point mark's centre by the x value its hover title names (`w: 2026-08-10`)."""
    out = {}
    for c in root.iter(f"{NS}circle"):
        first = c.find(f"{NS}title").text.splitlines()[0]
        out[first.split(": ", 1)[1]] = (float(c.get("cx")), float(c.get("cy")))
    return out


def _weekly(values: dict[dt.date, float | None]) -> SeriesChart:
    rows = [{"w": w, "v": v} for w, v in values.items()]
    return SeriesChart("line", rows, "w", ("v",), "temporal", y_fmt="usd0")


def _revenue() -> dict[dt.date, float | None]:
    values: dict[dt.date, float | None] = {w: 5000.0 + 100 * i for i, w in enumerate(WEEKS)}
    values[AUG_10], values[AUG_24] = 1608.10, 8667.53
    return values


@pytest.mark.parametrize("missing", ["no row", "a null value"])
def test_a_weekly_line_breaks_at_a_missing_week_instead_of_joining_its_neighbours(missing):
    values = _revenue()
    if missing == "no row":
        del values[AUG_17]
    else:
        values[AUG_17] = None
    root = _draw(_weekly(values))
    runs = _subpaths(root)
    circles = _circles(root)
    assert len(circles) == 25  # every week with a value keeps its point
    # two subpaths: May 11 .. Aug 10 (14 weeks), then Aug 24 .. Nov 2 (11 weeks)
    assert [len(r) for r in runs] == [14, 11]
    assert runs[0][-1] == pytest.approx(circles[AUG_10.isoformat()], abs=0.01)
    assert runs[1][0] == pytest.approx(circles[AUG_24.isoformat()], abs=0.01)


def test_a_week_of_0_is_drawn_down_to_0_in_one_unbroken_line():
    """With the mart's fix the week has a row of $0: 26 points, one subpath, and the
    Aug 17 vertex on the zero line (ticks 0..$10,000 on the 240 px plot 8 px down:
    y = 8 + 240 = 248), the lowest of the line."""
    values = _revenue()
    values[AUG_17] = 0.0
    root = _draw(_weekly(values))
    (run,) = _subpaths(root)
    assert len(run) == 26 and len(_circles(root)) == 26
    assert run[14][1] == pytest.approx(248.0) == max(y for _, y in run)


def test_a_monthly_line_breaks_at_a_missing_month_not_at_a_short_one():
    # Jan (31 days), Feb (28), Mar (31) are one month apart each; April has no row
    months = [dt.date(2026, m, 1) for m in (1, 2, 3, 5, 6)]
    rows = [{"m": m, "v": 10.0 + i} for i, m in enumerate(months)]
    runs = _subpaths(_draw(SeriesChart("line", rows, "m", ("v",), "temporal")))
    assert [len(r) for r in runs] == [3, 2]


def test_each_series_breaks_only_where_it_misses_a_week():
    # location A misses Aug 17, location B has every week: A's path breaks, B's does not
    rows = [{"w": w, "loc": "B", "v": 2.0} for w in WEEKS[10:20]]
    rows += [{"w": w, "loc": "A", "v": 1.0} for w in WEEKS[10:20] if w != AUG_17]
    root = _draw(SeriesChart("line", rows, "w", ("v",), "temporal", series="loc"))
    paths = [p.get("d") for p in root.iter(f"{NS}path")]
    assert sorted(d.count("M") for d in paths) == [1, 2]


def test_charts_whose_x_is_not_a_run_of_periods_still_join_every_point():
    gap = [w for w in WEEKS[:6] if w != WEEKS[3]]
    cases = {
        # dates as categories (xType=ordinal): evenly spaced points, nothing is "missing"
        "ordinal": SeriesChart("line", [{"w": w, "v": 1.0} for w in gap], "w", ("v",), "ordinal"),
        "nominal": SeriesChart(
            "line", [{"x": x, "v": 1.0} for x in ("a", "c", "d")], "x", ("v",), "nominal"
        ),
        "numbers": SeriesChart(
            "line", [{"x": x, "v": 1.0} for x in (1, 2, 4, 8)], "x", ("v",), "quantitative"
        ),
        # weekdays only (a clinic closed at weekends): daily dates infer no step
        "daily": SeriesChart(
            "line",
            [{"d": dt.date(2026, 5, d), "v": 1.0} for d in (7, 8, 11, 12, 13)],
            "d",
            ("v",),
            "temporal",
        ),
        # weekly period starts, but the page asks for every point joined
        "xStep=none": SeriesChart(
            "line", [{"w": w, "v": 1.0} for w in gap], "w", ("v",), "temporal", x_step="none"
        ),
    }
    for name, chart in cases.items():
        runs = _subpaths(_draw(chart))
        assert len(runs) == 1, name


def test_a_stated_weekly_step_breaks_a_series_that_never_has_two_weeks_in_a_row():
    """A provider working every other week: no two x values a week apart, so nothing says
    the x values are weekly and the points are joined, unless the page states it
    (`xStep=week`): then no two points are one step apart and no line is drawn."""
    sparse = {WEEKS[0]: 10.0, WEEKS[2]: 20.0, WEEKS[4]: 30.0}
    (run,) = _subpaths(_draw(_weekly(sparse)))
    assert len(run) == 3
    rows = [{"w": w, "v": v} for w, v in sparse.items()]
    stated = SeriesChart("line", rows, "w", ("v",), "temporal", x_step="week")
    root = _draw(stated)
    assert _subpaths(root) == [] and len(_circles(root)) == 3


def test_an_unknown_x_step_is_the_page_authors_error(build_pages):
    report = build_pages(
        {
            "step.md": """
            ```sql q
            select date '2026-05-11' as w, 1.0 as v
            ```

            <LineChart data={q} x=w y=v xStep=fortnight />
            """
        }
    )
    (failure,) = report.pages_failed
    assert "xStep='fortnight'" in failure.message and "week" in failure.message


def test_a_gap_and_open_weeks_together_keep_both_rules():
    """The missing week breaks the solid path; the last two weeks (window still open) are one
    dashed path from the last final point: three runs, two of them solid subpaths of one path."""
    values = _revenue()
    del values[AUG_17]
    rows = [{"w": w, "v": v, "f": w < WEEKS[-2]} for w, v in values.items()]
    chart = SeriesChart("line", rows, "w", ("v",), "temporal", y_fmt="usd0", final="f")
    root = _draw(chart)
    groups = [g for g in root.iter(f"{NS}g") if "mark-line" in g.get("class", "").split()]
    paths = [p for g in groups for p in g.iter(f"{NS}path")]
    solid = [p for p in paths if not p.get("stroke-dasharray")]
    dashed = [p for p in paths if p.get("stroke-dasharray")]
    assert len(solid) == 1 and len(dashed) == 1
    assert solid[0].get("d").count("M") == 2  # May 11 .. Aug 10, then Aug 24 .. Oct 19
    subs = re.findall(r"M([^M]+)", solid[0].get("d"))
    assert [len(s.split("L")) for s in subs] == [14, 9]
    assert len(dashed[0].get("d").split("L")) == 3  # Oct 19 (final) -> Oct 26 -> Nov 2
