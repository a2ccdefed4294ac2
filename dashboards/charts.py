"""Chart descriptions for the chart components, drawn to inline SVG on the server.

Server-side SVG is what lets the site open from `file://` with no network: no JavaScript
chart library, no CDN, no web fonts (text uses the generic `sans-serif`). The drawing is
`dashboards.svg`, a small Python renderer for exactly the charts the pages use (lines with
points, stacked/grouped/horizontal bars, target lines and bands, heatmaps): about a
millisecond per chart, so there is no cache of drawn charts between builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboards.svg import HeatmapChart, SeriesChart, draw_heatmap, draw_series
from dashboards.svg.colors import PALETTE
from dashboards.svg.numbers import AXIS_FORMATS
from dashboards.svg.series import HEIGHT, WIDTH

__all__ = [
    "AXIS_FORMATS",
    "HEIGHT",
    "PALETTE",
    "WIDTH",
    "PendingSvg",
    "heatmap",
    "series_chart",
    "to_svg",
]

Chart = SeriesChart | HeatmapChart


class PendingSvg:
    """HTML around a chart that is drawn when the page body is joined (`str()`).

    Drawing late keeps a failure to draw one chart a failure of that page (instance) only:
    the site build catches it while joining the bodies, as for any other page error.
    """

    def __init__(self, head: str, chart: Chart, chart_id: str, label: str, tail: str) -> None:
        self.head, self.chart, self.chart_id, self.label, self.tail = (
            head,
            chart,
            chart_id,
            label,
            tail,
        )

    def __str__(self) -> str:
        return f"{self.head}{_draw(self.chart, self.chart_id, self.label)}{self.tail}"


def _draw(chart: Chart, chart_id: str, label: str) -> str:
    if isinstance(chart, HeatmapChart):
        return draw_heatmap(chart, chart_id, label)
    return draw_series(chart, chart_id, label)


def to_svg(
    chart: Chart, chart_id: str, head: str = "", tail: str = "", label: str = ""
) -> PendingSvg:
    """The chart as SVG between `head` and `tail`; `chart_id` (unique on the page) prefixes
    the SVG's ids, and `label` is its accessible name (the chart's title)."""
    return PendingSvg(head, chart, chart_id, label or _default_label(chart), tail)


def _default_label(chart: Chart) -> str:
    if isinstance(chart, HeatmapChart):
        return f"Heatmap of {chart.value} by {chart.x} and {chart.y}"
    kind = "Line chart" if chart.mark == "line" else "Bar chart"
    return f"{kind} of {', '.join(chart.ys)} by {chart.x}"


def series_chart(
    mark: str,
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    ys: Sequence[str],
    x_kind: str,
    series: str | None = None,
    y_fmt: str | None = None,
    y_title: str | None = None,
    x_title: str | None = None,
    ref_line: float | None = None,
    ref_band: tuple[float | None, float | None] | None = None,
    stacked: bool = True,
    horizontal: bool = False,
    keep_order: bool = False,
    final: str | None = None,
    x_step: str | None = None,
) -> SeriesChart:
    """Line or bar chart of one or more measures (several `ys` become coloured series).

    Dates on a line chart are a time axis (UTC); on a bar chart one band per date.
    `keep_order` keeps the query's order of categories and series instead of sorting.
    `final` names a column whose False marks a row's values as open (drawn hollow).
    `x_step` ("day", "week", "month", "none"; default: inferred) is the period between a
    time axis's consecutive x values: a line breaks where a series skips a period.
    """
    return SeriesChart(
        mark=mark,
        rows=list(rows),
        x=x,
        ys=tuple(ys),
        x_kind=x_kind,
        series=series,
        y_fmt=y_fmt,
        y_title=y_title,
        x_title=x_title,
        ref_line=ref_line,
        ref_band=ref_band,
        stacked=stacked,
        horizontal=horizontal,
        keep_order=keep_order,
        final=final,
        x_step=x_step,
    )


def heatmap(
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    y: str,
    value: str,
    fmt: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    keep_order: bool = False,
    final: str | None = None,
    keep_y_order: bool | None = None,
) -> HeatmapChart:
    """Rect heatmap (e.g. cohort × location, weekday × hour).

    `keep_order` keeps the query's row order on both axes (Mon..Sun, not alphabetical);
    `keep_y_order`, when given, on the y axis instead.
    `final` names a column whose False marks a row's value as open (a grey cell).
    """
    return HeatmapChart(
        list(rows), x, y, value, fmt, x_title, y_title, keep_order, final, keep_y_order
    )
