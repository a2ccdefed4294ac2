"""The page components: BigValue, LineChart, BarChart, DataTable, Heatmap.

Each takes its attributes as written in the tag (`data={query}` binds a query's rows) and
returns HTML. An author mistake (a column the query does not return, a bad number) raises
ComponentError, which the renderer turns into a PageError at the tag's line. A component
with no rows to show says so in words instead of drawing an empty chart.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dashboards import charts
from dashboards.formatting import KNOWN_FORMATS, fmt, fmt_delta, format_for_unit
from dashboards.queries import QueryResult

_ATTR = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*)"
    r"(?:\s*=\s*(?:\{\s*(?P<ref>[^{}]*?)\s*\}|\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"'=<>`]+)))?"
)


class ComponentError(Exception):
    """An author mistake inside one component tag."""


@dataclass
class Attrs:
    """A tag's attributes; `data` is the bound query result (or None)."""

    values: dict[str, str]
    data: QueryResult | None

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def column(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        """An attribute naming a column of `data`; a wrong name is the author's error."""
        name = self.values.get(key, default)
        if name is None:
            if required:
                raise ComponentError(f"attribute {key}= is required")
            return None
        if self.data is not None and self.data.columns and name not in self.data.columns:
            if key in self.values:
                raise ComponentError(
                    f"{key}={name!r}: query {self.data.name!r} has no such column "
                    f"(columns: {', '.join(self.data.columns)})"
                )
            return None  # a defaulted column the query simply does not have
        return name

    def columns(self, key: str, required: bool = False) -> list[str]:
        raw = self.values.get(key)
        if raw is None:
            if required:
                raise ComponentError(f"attribute {key}= is required")
            return []
        names = [c.strip() for c in raw.split(",") if c.strip()]
        for name in names:
            if self.data is not None and self.data.columns and name not in self.data.columns:
                raise ComponentError(
                    f"{key}: query {self.data.name!r} has no column {name!r} "
                    f"(columns: {', '.join(self.data.columns)})"
                )
        return names

    def number(self, key: str) -> float | None:
        raw = self.values.get(key)
        if raw in (None, ""):
            return None
        try:
            return float(raw)
        except ValueError:
            raise ComponentError(f"{key}={raw!r} is not a number") from None

    def fmt_name(self, key: str) -> str | None:
        name = self.values.get(key)
        if name is not None and name not in KNOWN_FORMATS:
            raise ComponentError(
                f"{key}={name!r}: unknown format ({', '.join(sorted(KNOWN_FORMATS))})"
            )
        return name

    def flag(self, key: str, default: bool = False) -> bool:
        raw = self.values.get(key)
        return default if raw is None else raw.lower() not in ("false", "0", "no")


def parse_attrs(text: str, results: Mapping[str, QueryResult]) -> Attrs:
    """Parse `key=value` pairs; `data={name}` must name one of the page's queries."""
    values: dict[str, str] = {}
    data: QueryResult | None = None
    for m in _ATTR.finditer(text):
        key = m.group("key")
        if m.group("ref") is not None:
            ref = m.group("ref")
            if key != "data":
                values[key] = ref
                continue
            if ref not in results:
                raise ComponentError(f"data={{{ref}}}: no query named {ref!r} on this page")
            data = results[ref]
            continue
        raw = next((m.group(g) for g in ("dq", "sq", "bare") if m.group(g) is not None), "true")
        values[key] = html.unescape(raw)
    return Attrs(values, data)


def _title(text: str | None) -> str:
    return f'<div class="c-title">{html.escape(text)}</div>' if text else ""


def _empty(kind: str, attrs: Attrs) -> str:
    what = attrs.get("title") or (attrs.data.name if attrs.data is not None else kind)
    if attrs.data is not None and attrs.data.missing:
        reason = "the table behind it is not published yet"
    else:
        reason = attrs.get("emptyMessage") or "no rows for this period"
    return f'<p class="empty">No data for {html.escape(what)}: {html.escape(reason)}.</p>'


def _rows(attrs: Attrs) -> list[dict[str, Any]]:
    """Rows of `data`, narrowed by `where="col=value, col2=value2"` when given."""
    if attrs.data is None:
        raise ComponentError("attribute data={query} is required")
    rows = list(attrs.data)
    for cond in filter(None, (c.strip() for c in (attrs.get("where") or "").split(","))):
        if "=" not in cond:
            raise ComponentError(f"where: {cond!r} is not column=value")
        col, want = (s.strip() for s in cond.split("=", 1))
        if attrs.data.columns and col not in attrs.data.columns:
            raise ComponentError(f"where: query {attrs.data.name!r} has no column {col!r}")
        rows = [r for r in rows if str(r.get(col)) == want]
    return rows


def big_value(attrs: Attrs) -> str:
    """A headline number: value, target band, change vs prior period and vs 12-month baseline."""
    rows = _rows(attrs)
    index = int(attrs.number("row") or 0)
    if not rows or index >= len(rows):
        return _empty("BigValue", attrs)
    row = rows[index]
    value_col = attrs.column("value", "value", required=True)
    unit_col = attrs.column("fmtColumn", "unit")
    name = attrs.fmt_name("fmt") or (format_for_unit(row.get(unit_col)) if unit_col else "auto")
    title_col = attrs.column("titleColumn", "label")
    title = attrs.get("title") or (str(row[title_col]) if title_col else value_col)
    status_col = attrs.column("status", "status")
    status = str(row.get(status_col) or "no_target") if status_col else "no_target"
    direction_col = attrs.column("directionColumn", "direction")
    lower_better = "lower" in str(row.get(direction_col) or "") if direction_col else False
    parts = [f'<div class="bv-value">{html.escape(fmt(row.get(value_col), name))}</div>']
    low_col, high_col = (
        attrs.column("targetLow", "target_low"),
        attrs.column("targetHigh", "target_high"),
    )
    low = row.get(low_col) if low_col else None
    high = row.get(high_col) if high_col else None
    if low is not None and high is not None:
        target = f"target {fmt(low, name)}–{fmt(high, name)}"
    elif low is not None:
        target = f"target ≥ {fmt(low, name)}"
    elif high is not None:
        target = f"target ≤ {fmt(high, name)}"
    else:
        target = ""
    if target:
        parts.append(f'<div class="bv-target">{html.escape(target)}</div>')
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
        good = (float(delta) < 0) if lower_better else (float(delta) > 0)
        tone = "flat" if float(delta) == 0 else ("good" if good else "bad")
        comparisons.append(
            f'<span class="delta {tone}">{html.escape(fmt_delta(delta, name))}</span> {label}'
        )
    if comparisons:
        parts.append(f'<div class="bv-cmp">{" · ".join(comparisons)}</div>')
    final_col = attrs.column("finalColumn", "is_final")
    if final_col and row.get(final_col) is False:
        parts.append('<div class="bv-note">provisional: window still open</div>')
    return (
        f'<div class="bigvalue status-{html.escape(status)}" data-component="BigValue">'
        f'<div class="bv-title">{html.escape(title)}</div>{"".join(parts)}</div>'
    )


def _x_kind(rows: list[dict[str, Any]], x: str, override: str | None, mark: str) -> str:
    """Dates are a time axis for lines; bars get one band per date (readable, evenly spaced)."""
    if override:
        return override
    sample = next((r[x] for r in rows if r.get(x) is not None), None)
    if isinstance(sample, dt.date):
        return "temporal" if mark == "line" else "ordinal"
    return "ordinal" if isinstance(sample, int | float) else "nominal"


def _figure(kind: str, attrs: Attrs, spec: dict[str, Any]) -> str:
    # The renderer gives each tag a page-unique `_id`, so SVG ids never collide on a page.
    svg = charts.to_svg(spec, attrs.get("_id") or "c0")
    return (
        f'<figure class="chart" data-component="{kind}">{_title(attrs.get("title"))}{svg}</figure>'
    )


def _series(kind: str, mark: str, attrs: Attrs) -> str:
    rows = _rows(attrs)
    x = attrs.column("x", required=True)
    ys = attrs.columns("y", required=True)
    rows = [r for r in rows if r.get(x) is not None and any(r.get(y) is not None for y in ys)]
    if not rows:
        return _empty(kind, attrs)
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
    )
    return _figure(kind, attrs, spec)


def line_chart(attrs: Attrs) -> str:
    return _series("LineChart", "line", attrs)


def bar_chart(attrs: Attrs) -> str:
    return _series("BarChart", "bar", attrs)


def heatmap(attrs: Attrs) -> str:
    rows = _rows(attrs)
    x, y = attrs.column("x", required=True), attrs.column("y", required=True)
    value = attrs.column("value", required=True)
    rows = [r for r in rows if r.get(value) is not None]
    if not rows:
        return _empty("Heatmap", attrs)
    spec = charts.heatmap(
        rows,
        x=x,
        y=y,
        value=value,
        fmt=attrs.fmt_name("fmt"),
        x_title=attrs.get("xTitle"),
        y_title=attrs.get("yTitle"),
        keep_order=not attrs.flag("sort", True),
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
    rows = _rows(attrs)
    if not rows:
        return _empty("DataTable", attrs)
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
            text = fmt_delta(r.get(c), name) if delta else fmt(r.get(c), name)
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        tone = f' class="status-{html.escape(str(r.get(status_col)))}"' if status_col else ""
        body.append(f"<tr{tone}>{''.join(cells)}</tr>")
    more = f'<p class="note">Showing {limit} of {len(rows)} rows.</p>' if len(rows) > limit else ""
    return (
        f'<div class="datatable" data-component="DataTable">{_title(attrs.get("title"))}'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}</div>"
    )


COMPONENTS: dict[str, Callable[[Attrs], str]] = {
    "BigValue": big_value,
    "LineChart": line_chart,
    "BarChart": bar_chart,
    "DataTable": data_table,
    "Heatmap": heatmap,
}
