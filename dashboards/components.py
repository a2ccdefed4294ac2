"""The page components: BigValue, LineChart, BarChart, DataTable, Heatmap.

Each takes its parsed attributes (`data={query}` binds a query's rows) and returns HTML. A
component with no rows to show says so in words instead of drawing an empty chart.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

from dashboards import charts
from dashboards.attrs import Attrs, ComponentError, empty_notice, selected_rows, title_html
from dashboards.bidi import isolate_html
from dashboards.count_units import fmt_basis, fmt_counts
from dashboards.formatting import (
    KNOWN_FORMATS,
    delta_sign,
    fmt,
    fmt_beside_target,
    fmt_delta,
    format_for_unit,
    target_text,
)


def big_value(attrs: Attrs) -> str:
    """A headline number: value, target band, change vs prior period and vs 12-month baseline."""
    rows = selected_rows(attrs)
    index = int(attrs.number("row") or 0)
    if not rows or index >= len(rows):
        return empty_notice("BigValue", attrs)
    row = rows[index]
    value_col = attrs.column("value", "value", required=True)
    unit_col = attrs.column("fmtColumn", "unit")
    name = attrs.fmt_name("fmt") or (format_for_unit(row.get(unit_col)) if unit_col else "auto")
    title_col = attrs.column("titleColumn", "label")
    title = attrs.get("title") or (str(row[title_col]) if title_col else value_col)
    status_col = attrs.column("status", "status")
    status = str(row.get(status_col) or "no_target") if status_col else "no_target"
    direction_col = attrs.column("directionColumn", "direction")
    direction = str(row.get(direction_col) or "") if direction_col else ""
    lower_better = "lower" in direction
    low_col, high_col = (
        attrs.column("targetLow", "target_low"),
        attrs.column("targetHigh", "target_high"),
    )
    low = row.get(low_col) if low_col else None
    high = row.get(high_col) if high_col else None
    shown = fmt_beside_target(row.get(value_col), name, low, high)
    parts = [f'<div class="bv-value">{html.escape(shown)}</div>']
    target = target_text(low, high, name)
    if target:
        parts.append(f'<div class="bv-target">{html.escape(target)}</div>')
    final_col = attrs.column("finalColumn", "is_final")
    # A value whose window is still open (conversions within 90 days, a reactivation within
    # 60) is not yet comparable with closed periods: its changes are shown, not judged.
    provisional = bool(final_col) and row.get(final_col) is False
    comparisons = []
    for key, default, label in (("prior", "change_vs_prior", "vs prior"), ("baseline", None, "")):
        if key == "prior":
            col = attrs.column(key, default)
            delta = row.get(col) if col else None
        else:
            col = attrs.column("baseline", "baseline_12m")
            base, current = (row.get(col) if col else None), row.get(value_col)
            delta = None if base is None or current is None else float(current) - float(base)
            label = "vs 12-mo baseline"
        if delta is None:
            continue
        # Judged by the change as shown, not the raw one: -0.4 shown as "$0" did not move.
        sign = delta_sign(delta, name)
        good = (sign < 0) if lower_better else (sign > 0)
        # A band KPI (membership share 20–30 %) has no good direction of its own: inside its
        # band neither way is news; outside it, back towards the band is good, away is bad.
        if direction == "band":
            good = (sign < 0) if status == "above" else (sign > 0)
        band_neutral = direction == "band" and status not in ("above", "below")
        neutral = sign == 0 or band_neutral or provisional
        tone = "flat" if neutral else ("good" if good else "bad")
        comparisons.append(
            f'<span class="delta {tone}">{html.escape(fmt_delta(delta, name))}</span> {label}'
        )
    if comparisons:
        parts.append(f'<div class="bv-cmp">{" · ".join(comparisons)}</div>')
    parts.extend(_counts(attrs, row, name))
    if not provisional:
        parts.extend(_play(attrs, row, status))
    if provisional:
        parts.append('<div class="bv-note">provisional: window still open</div>')
        parts.extend(_last_closed(attrs, row, name))
    return (
        f'<div class="bigvalue status-{html.escape(status)}" data-component="BigValue">'
        f'<div class="bv-title">{html.escape(title)}</div>{"".join(parts)}</div>'
    )


def _counts(attrs: Attrs, row: dict[str, Any], name: str) -> list[str]:
    """A rate's counts under it ("6 of 6"): 100 % of 6 and 100 % of 600 are different news,
    and an owner cannot tell them apart from the percentage. Only for rates (a `pct` format):
    a level's or a median's numerator and denominator are sums, not counts of the same thing.
    With their units (`count_units`, by the row's `kpi`): "$414,106 of $507,020"."""
    num_col = attrs.column("numerator", "numerator")
    den_col = attrs.column("denominator", "denominator")
    kpi_col = attrs.column("kpiColumn", "kpi")
    num = row.get(num_col) if num_col else None
    den = row.get(den_col) if den_col else None
    kpi = row.get(kpi_col) if kpi_col else None
    if not name.startswith("pct"):
        basis = fmt_basis(den, kpi)  # a score's count of answers (NPS)
        return [f'<div class="bv-n">{html.escape(basis)}</div>'] if basis else []
    if num is None or den is None:
        return []
    counts = fmt_counts(num, den, kpi)
    return [f'<div class="bv-n">{html.escape(counts)}</div>']


def _play(attrs: Attrs, row: dict[str, Any], status: str) -> list[str]:
    """A red card's recommended action, from the targets seed (`play`, default column `play`;
    `playAbove`, default `play_above`, for a value above its band: a membership share over
    30 % is not answered by promoting memberships). Outside the flash's alert tables a red
    card said something was wrong and nothing about what to do."""
    if status not in ("below", "above"):
        return []
    play_col = attrs.column("play", "play")
    above_col = attrs.column("playAbove", "play_above")
    play = row.get(above_col) if above_col and status == "above" else None
    play = play or (row.get(play_col) if play_col else None)
    if not play:
        return []
    return [f'<div class="bv-play">Play: {html.escape(str(play))}</div>']


def _last_closed(attrs: Attrs, row: dict[str, Any], name: str) -> list[str]:
    """For a provisional value: the latest period whose window has closed, when the query
    gives it (`lastFinal`, default `last_final_value`; `lastFinalPeriod`, default
    `last_final_period`). An open window's early count (a 90-day conversion a week after the
    consultations) reads as a collapse; the last closed period is the number to act on."""
    value_col = attrs.column("lastFinal", "last_final_value")
    period_col = attrs.column("lastFinalPeriod", "last_final_period")
    if not value_col or row.get(value_col) is None:
        return []
    period = row.get(period_col) if period_col else None
    grain = {"week": "week", "month": "month"}.get(str(row.get("grain")), "period")
    when = f" ({grain} of {period.isoformat()})" if isinstance(period, dt.date) else ""
    text = f"last closed: {fmt(row[value_col], name)}{when}"
    return [f'<div class="bv-note">{html.escape(text)}</div>']


def _x_kind(rows: list[dict[str, Any]], x: str, override: str | None, mark: str) -> str:
    """Dates are a time axis for lines; bars get one band per date (readable, evenly spaced)."""
    if override:
        return override
    sample = next((r[x] for r in rows if r.get(x) is not None), None)
    if isinstance(sample, dt.date):
        return "temporal" if mark == "line" else "ordinal"
    return "ordinal" if isinstance(sample, int | float) else "nominal"


#: `xStep` values: a time axis's period between consecutive x values, or `none` (never break).
X_STEPS = ("day", "week", "month", "none")


def _x_step(attrs: Attrs) -> str | None:
    """`xStep=week`: a line on a time axis breaks where a series has no row for a week (the
    default infers weekly or monthly period starts from the x values; `none` joins them)."""
    step = attrs.get("xStep")
    if step is not None and step not in X_STEPS:
        raise ComponentError(f"xStep={step!r}: not one of {', '.join(X_STEPS)}")
    return step


def _figure(kind: str, attrs: Attrs, chart: charts.Chart) -> charts.PendingSvg:
    # The renderer gives each tag a page-unique `_id`, so SVG ids never collide on a page.
    head = f'<figure class="chart" data-component="{kind}">{title_html(attrs.get("title"))}'
    label = attrs.get("title") or ""
    return charts.to_svg(chart, attrs.get("_id") or "c0", head, "</figure>", label)


def _series(kind: str, mark: str, attrs: Attrs) -> str | charts.PendingSvg:
    rows = selected_rows(attrs)
    x = attrs.column("x", required=True)
    ys = attrs.columns("y", required=True)
    rows = [r for r in rows if r.get(x) is not None and any(r.get(y) is not None for y in ys)]
    if not rows:
        return empty_notice(kind, attrs)
    low, high = attrs.number("refLow"), attrs.number("refHigh")
    spec = charts.series_chart(
        mark,
        rows,
        x=x,
        ys=ys,
        x_kind=_x_kind(rows, x, attrs.get("xType"), mark),
        series=attrs.column("series"),
        y_fmt=attrs.fmt_name("yFmt"),
        y_title=attrs.get("yTitle"),
        x_title=attrs.get("xTitle"),
        ref_line=attrs.number("yRef"),
        ref_band=(low, high) if low is not None or high is not None else None,
        stacked=attrs.flag("stacked", True),
        horizontal=attrs.flag("horizontal"),
        keep_order=not attrs.flag("sort", True),
        final=attrs.column("finalColumn", "is_final"),
        x_step=_x_step(attrs),
    )
    return _figure(kind, attrs, spec)


def line_chart(attrs: Attrs) -> str | charts.PendingSvg:
    return _series("LineChart", "line", attrs)


def bar_chart(attrs: Attrs) -> str | charts.PendingSvg:
    return _series("BarChart", "bar", attrs)


def heatmap(attrs: Attrs) -> str | charts.PendingSvg:
    rows = selected_rows(attrs)
    x, y = attrs.column("x", required=True), attrs.column("y", required=True)
    value = attrs.column("value", required=True)
    rows = [r for r in rows if r.get(value) is not None]
    if not rows:
        return empty_notice("Heatmap", attrs)
    spec = charts.heatmap(
        rows,
        x=x,
        y=y,
        value=value,
        fmt=attrs.fmt_name("fmt"),
        x_title=attrs.get("xTitle"),
        y_title=attrs.get("yTitle"),
        keep_order=not attrs.flag("sort", True),
        final=attrs.column("finalColumn", "is_final"),
        # `sortY=false`: weekdays in the query's order while the hours stay sorted
        keep_y_order=None if attrs.get("sortY") is None else not attrs.flag("sortY", True),
    )
    return _figure("Heatmap", attrs, spec)


def _column_formats(attrs: Attrs) -> dict[str, str]:
    """`fmt="revenue:usd0, share:pct1, value:@unit, change:delta@unit"`.

    `@col` takes the format from the row's unit column; a `delta` prefix shows a signed change.
    """
    formats: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in (attrs.get("fmt") or "").split(","))):
        col, _, full = item.partition(":")
        col, full = col.strip(), full.strip()
        if attrs.data is not None and attrs.data.columns and col not in attrs.data.columns:
            raise ComponentError(f"fmt: query {attrs.data.name!r} has no column {col!r}")
        name = full.removeprefix("delta") or "auto"
        if name.startswith("@"):
            if attrs.data is not None and name[1:] not in attrs.data.columns:
                raise ComponentError(f"fmt: no unit column {name[1:]!r}")
        elif name not in KNOWN_FORMATS:
            raise ComponentError(f"fmt: unknown format {name!r} for column {col!r}")
        formats[col] = full
    return formats


def data_table(attrs: Attrs) -> str:
    """A plain table; `columns=` picks and orders columns, `rows=` limits (default 50)."""
    rows = selected_rows(attrs)
    if not rows:
        return empty_notice("DataTable", attrs)
    assert attrs.data is not None
    cols = attrs.columns("columns") or list(attrs.data.columns)
    formats = _column_formats(attrs)
    limit = int(attrs.number("rows") or 50)
    status_col = attrs.column("statusColumn")
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in cols)
    body = []
    for r in rows[:limit]:
        cells = []
        for c in cols:
            name = formats.get(c, "auto")
            delta = name.startswith("delta")
            name = name.removeprefix("delta") or "auto"
            if name.startswith("@"):
                name = format_for_unit(r.get(name[1:]))
            cls = ' class="num"' if isinstance(r.get(c), int | float) else ""
            if delta:
                text = fmt_delta(r.get(c), name)
            elif c == "value":  # a KPI value off target never reads as the target's edge
                low, high = (
                    r.get("target_low", r.get("target_from")),
                    r.get("target_high", r.get("target_to")),
                )
                text = fmt_beside_target(r.get(c), name, low, high)
            else:
                text = fmt(r.get(c), name)
            # a value's direction controls stay inside its cell's text (`dashboards.bidi`)
            cells.append(f"<td{cls}>{isolate_html(html.escape(text))}</td>")
        tone = f' class="status-{html.escape(str(r.get(status_col)))}"' if status_col else ""
        body.append(f"<tr{tone}>{''.join(cells)}</tr>")
    more = f'<p class="note">Showing {limit} of {len(rows)} rows.</p>' if len(rows) > limit else ""
    return (
        f'<div class="datatable" data-component="DataTable">{title_html(attrs.get("title"))}'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}</div>"
    )


#: Tag name -> renderer; charts return PendingSvg (drawn concurrently), the rest plain HTML.
COMPONENTS: dict[str, Callable[[Attrs], str | charts.PendingSvg]] = {
    "BigValue": big_value,
    "LineChart": line_chart,
    "BarChart": bar_chart,
    "DataTable": data_table,
    "Heatmap": heatmap,
}
