"""Line and bar charts of one or more measures, optionally split into coloured series.

Layout: a fixed plot size (620 x 240, horizontal bars 26 px per category) and margins sized
from the estimated width of the labels around it. The value axis always includes zero and
any target line or band, so a target is never off the chart.

A row whose `final` column is False holds an open value (its KPI's window is still open: a
count so far, not final): its point is hollow and the line into it dashed, its bar pale with a
dashed outline, and the legend says what that means. Charts without open values are drawn as
before, byte for byte.

A line on a time axis is never drawn across a missing period: where a series' next point is
more than one step (day, week or month: `x_step`, else inferred from the x values) after
the last, its path moves to it (a new `M`) instead of joining them. A week with no row, or a
null value, is a gap in the line, not an interpolation between its neighbours.
"""

import contextlib
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dashboards.formatting import fmt, fmt_beside_target
from dashboards.svg import axes, legend, marks
from dashboards.svg.colors import PALETTE, series_color
from dashboards.svg.dates import (
    STEPS,
    date_label,
    day_number,
    inferred_step,
    iso,
    steps_apart,
    time_ticks,
)
from dashboards.svg.frame import SVG_CLOSE, Plot, svg_open
from dashboards.svg.numbers import tick_labels
from dashboards.svg.scales import Band, Linear, nice_ticks, point_scale
from dashboards.svg.text import text_width, tip_line

WIDTH, HEIGHT = 620, 240
OPEN_TIP = legend.OPEN_LABEL  # the hover text of an open value's mark
BAR_ROW = 26
SLANT_OVER = 10  # more categories than this on the x axis: slanted labels
SLANT = 40.0


@dataclass(frozen=True)
class SeriesChart:
    """What a LineChart/BarChart draws (built by `dashboards.charts.series_chart`)."""

    mark: str  # "line" or "bar"
    rows: Sequence[dict[str, Any]]
    x: str
    ys: Sequence[str]
    x_kind: str  # "temporal", "quantitative", "ordinal" or "nominal"
    series: str | None = None
    y_fmt: str | None = None
    y_title: str | None = None
    x_title: str | None = None
    ref_line: float | None = None
    ref_band: tuple[float | None, float | None] | None = None
    stacked: bool = True
    horizontal: bool = False
    keep_order: bool = False
    final: str | None = None  # a column whose False marks the row's values as open
    #: A temporal line's period between consecutive x values ("day", "week", "month"): the
    #: line breaks where a series skips one. None: inferred from the x values (weekly or
    #: monthly period starts); "none": every point joined.
    x_step: str | None = None


def number(value: object) -> float | None:
    """A measure as a float; missing, non-numeric or non-finite values are left out."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def sort_key(value: object) -> tuple[int, float, str]:
    """Category order: numbers numerically, then dates by day, then text."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, dt.date):
        return (1, day_number(value), "")
    return (2, 0.0, "" if value is None else str(value))


def ordered(values: Sequence[object], keep_order: bool) -> list[object]:
    """Distinct values, in first-seen order (`keep_order`) or sorted."""
    distinct = list(dict.fromkeys(values))
    return distinct if keep_order else sorted(distinct, key=sort_key)


def label_of(value: object) -> str:
    return "(blank)" if value is None else iso(value)


@dataclass(frozen=True)
class _Point:
    x: object
    series: object
    value: float
    measure: str
    open: bool = False  # the KPI's window is still open: a count so far, not final


def is_open(row: dict[str, Any], final: str | None) -> bool:
    """Whether a row's value is open: its `final` column is False (None is not known open)."""
    return final is not None and row.get(final) is False


def _points(c: SeriesChart) -> list[_Point]:
    out = []
    for r in c.rows:
        for y in c.ys:
            v = number(r.get(y))
            if v is None or r.get(c.x) is None:
                continue
            s = y if len(c.ys) > 1 else (r.get(c.series) if c.series else None)
            out.append(_Point(r.get(c.x), s, v, y, is_open(r, c.final)))
    return out


def _tip(c: SeriesChart, p: _Point, x_text: str | None = None) -> str:
    """Hover text: the x value, the series and the formatted measure."""
    lines = [tip_line(c.x, label_of(p.x) if x_text is None else x_text)]
    if c.series and len(c.ys) == 1:
        lines.append(tip_line(c.series, label_of(p.series)))
    low, high = _target_edges(c)
    lines.append(tip_line(p.measure, fmt_beside_target(p.value, c.y_fmt or "auto", low, high)))
    if p.open:
        lines.append(OPEN_TIP)
    return "\n".join(lines)


def _target_edges(c: SeriesChart) -> tuple[float | None, float | None]:
    """The (low, high) edges a value is judged against in its hover text: the band's, or the
    target line as both (a point just under a 65 % line must not read "65.0%")."""
    if c.ref_band and any(v is not None for v in c.ref_band):
        return c.ref_band
    return c.ref_line, c.ref_line


def _value_extent(c: SeriesChart, points: list[_Point]) -> tuple[float, float]:
    """The values the value axis must show: zero, every (stacked) value, the targets."""
    values = [0.0]
    if c.mark == "bar" and c.stacked:
        pos: dict[object, float] = {}
        neg: dict[object, float] = {}
        for p in points:
            bucket = pos if p.value >= 0 else neg
            bucket[p.x] = bucket.get(p.x, 0.0) + p.value
        values += list(pos.values()) + list(neg.values())
    else:
        values += [p.value for p in points]
    values += [v for v in (c.ref_line, *(c.ref_band or ())) if v is not None]
    return min(values), max(values)


def _continuous_x(c: SeriesChart) -> bool:
    return c.mark == "line" and not c.horizontal and c.x_kind in ("temporal", "quantitative")


def _x_date(c: SeriesChart, value: object) -> dt.date:
    """A temporal x value as a date (`xType=temporal` also takes ISO text)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"x column {c.x!r} holds a value that is not a date")


def _x_position(c: SeriesChart, value: object) -> float:
    """Where a value sits on a continuous x axis."""
    if c.x_kind == "temporal":
        return day_number(_x_date(c, value))
    v = number(value)
    if v is None:  # the value itself is not shown: it may be anything a query returned
        raise ValueError(f"x column {c.x!r} holds a value that is not a number")
    return v


def _x_step(c: SeriesChart, points: list[_Point]) -> str | None:
    """The step a temporal line expects between its points (None: no gaps, every point
    joined): the chart's `x_step`, else inferred from the distinct x values of every series."""
    if c.x_kind != "temporal" or c.x_step == "none":
        return None
    if c.x_step is not None:
        if c.x_step not in STEPS:
            raise ValueError(f"x_step {c.x_step!r} is not one of {', '.join(STEPS)} or none")
        return c.x_step
    return inferred_step(_x_date(c, p.x) for p in points)


def _value_ticks(c: SeriesChart, lo: float, hi: float) -> list[float]:
    """About one tick per 40 px up a vertical axis, one per 80 px along a horizontal one."""
    return nice_ticks(lo, hi, math.ceil(WIDTH / 80) if c.horizontal else math.ceil(HEIGHT / 40))


def draw_series(c: SeriesChart, chart_id: str, label: str) -> str:
    """The chart as one `<svg>` element (see the module docstring for the layout)."""
    points = _points(c)
    series = ordered([p.series for p in points], c.keep_order or len(c.ys) > 1)
    colored = bool(c.series) or len(c.ys) > 1
    colors = {s: series_color(i) if colored else PALETTE[0] for i, s in enumerate(series)}
    continuous = _continuous_x(c)
    cats = [] if continuous else ordered([p.x for p in points], c.keep_order)
    ticks = _value_ticks(c, *_value_extent(c, points))
    tick_text = tick_labels(ticks, c.y_fmt)

    if continuous:
        xs = [_x_position(c, p.x) for p in points]
        x_lo, x_hi = min(xs, default=0.0), max(xs, default=1.0)
        if x_lo == x_hi:  # one date: a day either side, the point in the middle
            x_lo, x_hi = x_lo - 1, x_hi + 1
        if not xs:  # no plottable value (all missing or not finite): an empty plot
            x_ticks, x_text = [], []
        elif c.x_kind == "temporal":
            x_ticks, monthly = time_ticks(x_lo, x_hi)
            x_text = [date_label(t, monthly) for t in x_ticks]
        else:
            x_ticks = [t for t in nice_ticks(x_lo, x_hi, 8) if x_lo <= t <= x_hi]
            x_text = tick_labels(x_ticks, None)
        angle = 0.0
    else:
        x_text = axes.category_labels([label_of(v) for v in cats])
        angle = SLANT if (len(cats) > SLANT_OVER and not c.horizontal) else 0.0

    # Margins from the labels around the plot.
    title_room = axes.TITLE_SIZE + 6
    bottom_title = c.y_title if c.horizontal else c.x_title
    side_title = c.x_title if c.horizontal else c.y_title
    if c.horizontal:
        plot_h = max(60, BAR_ROW * len(cats))
        left = axes.left_axis_width(x_text)
        below = axes.bottom_axis_height(tick_text, 0)
        right = 6 + text_width(tick_text[-1], axes.LABEL_SIZE) / 2
    else:
        plot_h = HEIGHT
        left = axes.left_axis_width(tick_text)
        below = axes.bottom_axis_height(x_text, angle)
        last = text_width(x_text[-1], axes.LABEL_SIZE) / 2 if x_text and not angle else 0
        right = 6 + last
    left += 4 + (title_room if side_title else 0)
    if angle and x_text:  # a slanted first label reaches left of the plot
        left = max(left, text_width(x_text[0], axes.LABEL_SIZE) * 0.77 - 10)
    plot = Plot(left, 8.0, WIDTH, plot_h)
    y_cursor = plot.bottom + below + (title_room if bottom_title else 0)
    width = left + WIDTH + right
    legend_items = [(label_of(s), colors[s]) for s in series] if colored else []
    open_key = any(p.open for p in points)
    labels = [t for t, _ in legend_items] + ([legend.OPEN_LABEL] if open_key else [])
    _, legend_h = legend.swatch_layout(labels, width - 8)
    height = y_cursor + (legend_h + 8 if labels else 4)

    if c.horizontal:
        value = Linear(ticks[0], ticks[-1], plot.left, plot.right)
    else:
        value = Linear(ticks[0], ticks[-1], plot.bottom, plot.top)
    out = [svg_open(chart_id, width, height, label)]
    tick_pos = [value(t) for t in ticks]
    if c.horizontal:
        out.append(axes.value_axis_bottom(plot, tick_pos, tick_text))
    else:
        out.append(axes.value_axis_left(plot, tick_pos, tick_text))
    out.append(_band(c, plot, value))

    if continuous:
        x_scale = Linear(x_lo, x_hi, plot.left, plot.right)
        out.append(axes.category_axis_bottom(plot, [x_scale(t) for t in x_ticks], x_text, 0))
        xy = {id(p): (x_scale(_x_position(c, p.x)), value(p.value)) for p in points}
        out.append(_lines(c, points, series, colors, xy, _x_step(c, points)))
    elif c.mark == "line":
        scale = point_scale(len(cats), plot.left, plot.width)
        centers = [scale.center(i) for i in range(len(cats))]
        out.append(axes.category_axis_bottom(plot, centers, x_text, angle))
        index = {v: i for i, v in enumerate(cats)}
        xy = {id(p): (centers[index[p.x]], value(p.value)) for p in points}
        out.append(_lines(c, points, series, colors, xy))
    else:
        start, extent = (plot.top, plot.height) if c.horizontal else (plot.left, plot.width)
        band = Band(cats, start, extent)
        centers = [band.center(i) for i in range(len(cats))]
        if c.horizontal:
            out.append(axes.category_axis_left(plot, centers, x_text))
        else:
            out.append(axes.category_axis_bottom(plot, centers, x_text, angle))
        out.append(_bars(c, points, series, colors, band, cats, value))
    if bottom_title:
        out.append(axes.axis_title_bottom(plot, y_cursor - 4, bottom_title))
    if side_title:
        out.append(axes.axis_title_left(plot, axes.TITLE_SIZE, side_title))
    if c.ref_line is not None:  # over the marks
        tip = f"target {fmt(c.ref_line, c.y_fmt or 'auto')}"
        out.append(marks.target_rule(plot, value(c.ref_line), not c.horizontal, tip))
    if labels:
        shape = "circle" if c.mark == "line" else "square"
        out.append(legend.swatch_legend(legend_items, 4, y_cursor + 4, width - 8, shape, open_key))
    out.append(SVG_CLOSE)
    return "".join(out)


def _band(c: SeriesChart, plot: Plot, value: Linear) -> str:
    """The target band (`refLow`/`refHigh`), under the marks."""
    if not c.ref_band or all(v is None for v in c.ref_band):
        return ""
    low, high = c.ref_band
    low = 0.0 if low is None else low
    name = c.y_fmt or "auto"
    if high is None:
        tip = f"target ≥ {fmt(low, name)}"
    else:
        tip = f"target {fmt(low, name)}–{fmt(high, name)}"
    top = None if high is None else value(high)
    return marks.target_band(plot, value(low), top, not c.horizontal, tip)


def _lines(
    c: SeriesChart,
    points: list[_Point],
    series: list[object],
    colors: dict[object, str],
    xy: dict[int, tuple[float, float]],
    step: str | None = None,
) -> str:
    """One path per series through its points in x order, then every point with its tip.

    A segment into or out of an open point is dashed: a series is cut into runs of solid and
    dashed segments, one path each, so a line ends dashed over its still-open weeks. With a
    `step`, a path breaks (a new move-to) between two points more than one step apart: the
    periods between them have no value to draw a line through.
    """
    paths, dots = [], []
    crowded = len(series) > 10  # 40 locations on one chart: thinner lines, smaller points
    width, radius = (1.25, 2.0) if crowded else (2.0, 3.0)
    for s in series:
        mine = sorted((p for p in points if p.series == s), key=lambda p: xy[id(p)][0])
        runs: list[list[tuple[float, float]]] = []  # subpaths of the path being built
        dashed = False
        for i, p in enumerate(mine):
            if i == 0:
                runs.append([xy[id(p)]])
                continue
            a = mine[i - 1]
            if step and _skips(c, a, p, step):
                runs.append([xy[id(p)]])  # a gap: a new subpath of the same path
                continue
            segment_dashed = a.open or p.open
            if segment_dashed != dashed:
                if len(runs[-1]) > 1:  # the run so far ends here, in the old style
                    paths.append(marks.line(runs, colors[s], width, dashed))
                    runs = [runs[-1][-1:]]
                elif len(runs) > 1:  # a point alone after a gap starts the new style
                    paths.append(marks.line(runs[:-1], colors[s], width, dashed))
                    runs = runs[-1:]
                dashed = segment_dashed
            runs[-1].append(xy[id(p)])
        paths.append(marks.line(runs, colors[s], width, dashed))
        for p in mine:
            x, y = xy[id(p)]
            dots.append(marks.point(x, y, colors[s], _tip(c, p), radius, p.open))
    return marks.group("line", paths) + marks.group("symbol", dots)


def _skips(c: SeriesChart, before: _Point, after: _Point, step: str) -> bool:
    """Whether a period is missing between two consecutive points of a series. Half a step
    of slack: a weekly timestamp an hour off across a DST change is still the next week."""
    return steps_apart(_x_date(c, before.x), _x_date(c, after.x), step) > 1.5


def _bars(
    c: SeriesChart,
    points: list[_Point],
    series: list[object],
    colors: dict[object, str],
    band: Band,
    cats: list[object],
    value: Linear,
) -> str:
    """Stacked (series on top of each other, in legend order), grouped or single bars."""
    index = {v: i for i, v in enumerate(cats)}
    order = {s: i for i, s in enumerate(series)}
    grouped = not c.stacked and len(series) > 1
    sub = band.bandwidth / len(series) if grouped else band.bandwidth
    pos: dict[object, float] = {}
    neg: dict[object, float] = {}
    rects = []
    for p in sorted(points, key=lambda p: order[p.series]):
        start = band(index[p.x]) + (sub * order[p.series] if grouped else 0.0)
        base = 0.0
        if c.stacked:
            stack = pos if p.value >= 0 else neg
            base = stack.get(p.x, 0.0)
            stack[p.x] = base + p.value
        v0, v1 = value(base), value(base + p.value)
        tip = _tip(c, p, label_of(p.x))
        if c.horizontal:
            rects.append(marks.rect(v0, start, v1 - v0, sub, colors[p.series], tip, p.open))
        else:
            rects.append(marks.rect(start, v1, sub, v0 - v1, colors[p.series], tip, p.open))
    return marks.group("rect", rects)
