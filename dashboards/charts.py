"""Vega-Lite specs for the chart components, compiled to SVG on the server by vl-convert.

Server-side SVG is what lets the site open from `file://` with no network: no JavaScript
chart library, no CDN, no web fonts (text uses the generic `sans-serif`). vl-convert is told
to allow no external URLs, so a spec can only chart the rows we hand it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vl_convert

from dashboards.queries import as_json_value

PALETTE = ["#2f6f8f", "#d08c3a", "#5b9a68", "#a4506c", "#7a6fb0", "#8c8c8c", "#3f9fb0"]
WIDTH, HEIGHT = 620, 240

#: Evidence-style format names -> d3-format strings for axes.
AXIS_FORMATS = {
    "usd": "$,.0f",
    "usd0": "$,.0f",
    "usd2": "$,.2f",
    "pct": ".0%",
    "pct0": ".0%",
    "pct1": ".1%",
    "num0": ",.0f",
    "count": ",.4~f",
    "num1": ",.1f",
    "num2": ",.2f",
    "min": ",.0f",
}

_CONFIG: dict[str, Any] = {
    "font": "sans-serif",
    "view": {"stroke": None},
    "axis": {"labelColor": "#444", "titleColor": "#444", "gridColor": "#e6e6e6"},
    "range": {"category": PALETTE},
    "legend": {"orient": "bottom"},
}

_svg_cache: dict[str, str] = {}
_pool: ThreadPoolExecutor | None = None
#: Folder of SVGs drawn by earlier builds (`use_disk_cache`), and the keys this build used.
_disk_cache: Path | None = None
_used_keys: set[str] = set()


class PendingSvg:
    """HTML around a chart whose SVG is still being drawn on a worker thread.

    vl-convert spends most of a chart's time outside the GIL, so a page's charts are drawn
    concurrently (about 1.5x faster on 2 cores); `str()` waits for the drawing.
    """

    def __init__(self, head: str, future: Future[str], tail: str) -> None:
        self.head, self.future, self.tail = head, future, tail

    def __str__(self) -> str:
        return f"{self.head}{self.future.result()}{self.tail}"


def _cached_svg(key: str) -> str | None:
    svg = _svg_cache.get(key)
    if svg is None and _disk_cache is not None:
        path = _disk_cache / f"{key}.svg"
        if path.is_file():
            svg = path.read_text(encoding="utf-8")
            _svg_cache[key] = svg
    return svg


def _store_svg(key: str, svg: str) -> None:
    _svg_cache[key] = svg
    if _disk_cache is not None:
        tmp = _disk_cache / f".{key}.{threading.get_ident()}.tmp"
        tmp.write_text(svg, encoding="utf-8")
        os.replace(tmp, _disk_cache / f"{key}.svg")  # a reader never sees half a file


def _draw(text: str, chart_id: str) -> str:
    # The key covers the renderer's version too: a new vl-convert redraws every chart.
    key = hashlib.sha256(f"{vl_convert.__version__}\n{text}".encode()).hexdigest()
    _used_keys.add(key)
    svg = _cached_svg(key)
    if svg is None:
        svg = vl_convert.vegalite_to_svg(json.loads(text), allowed_base_urls=[])
        _store_svg(key, svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', svg)
    return svg.replace("url(#", f"url(#{chart_id}-").replace('href="#', f'href="#{chart_id}-')


@contextmanager
def use_disk_cache(folder: Path | None) -> Iterator[None]:
    """Reuse SVGs drawn by the previous build, kept in `folder`, for the charts whose spec
    (data included) is unchanged.

    Drawing is most of a large site's build (vl-convert measures every label's text), and a
    nightly build redraws mostly the same charts: weekly trends end at the last complete
    week, so they change once a week, not every night. After the build the folder holds
    exactly this build's charts: it never grows past one site's worth.
    """
    global _disk_cache
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    _disk_cache = folder
    _used_keys.clear()
    try:
        yield
        used = {f"{key}.svg" for key in _used_keys}
        for path in folder.iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)
    finally:
        _disk_cache = None


def to_svg(spec: dict[str, Any], chart_id: str, head: str = "", tail: str = "") -> PendingSvg:
    """Start drawing a spec as SVG; ids are prefixed so several charts can share one page."""
    global _pool
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": _CONFIG, **spec}
    text = json.dumps(spec, sort_keys=True, default=str)
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="vl-convert")
    return PendingSvg(head, _pool.submit(_draw, text, chart_id), tail)


def _values(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> list[dict[str, Any]]:
    return [{f: as_json_value(r.get(f)) for f in fields} for r in rows]


def x_encoding(
    field: str, kind: str, title: str | None, sort: bool = True, categories: int = 0
) -> dict[str, Any]:
    """x axis: dates use UTC time units, so a date never shifts a day with the machine's zone.

    Many categories (26 weekly bars) get slanted labels, and overlapping ones are dropped.
    """
    enc: dict[str, Any] = {"field": field, "type": kind, "title": title}
    if kind == "temporal":
        enc["timeUnit"] = "utcyearmonthdate"
        enc["axis"] = {"format": "%b %d %Y", "labelAngle": 0, "tickCount": 6}
    else:
        enc["axis"] = {
            "labelAngle": -40 if categories > 10 else 0,
            "labelLimit": 220,
            "labelOverlap": "greedy",
        }
        if not sort:
            enc["sort"] = None
    return enc


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
) -> dict[str, Any]:
    """Line or bar chart of one or more measures (several `ys` are folded into a series)."""
    fields = [x, *ys] + ([series] if series else [])
    data = _values(rows, fields)
    y_enc: dict[str, Any] = {"type": "quantitative", "title": y_title}
    if y_fmt in AXIS_FORMATS:
        y_enc["axis"] = {"format": AXIS_FORMATS[y_fmt]}
    transform: list[dict[str, Any]] = []
    color_field = series
    if len(ys) > 1:
        transform.append({"fold": list(ys), "as": ["measure", "value"]})
        y_enc["field"] = "value"
        color_field = "measure"
    else:
        y_enc["field"] = ys[0]
    if mark == "bar" and not stacked:
        y_enc["stack"] = None
    mark_def: dict[str, Any] = {"type": mark, "tooltip": True}
    if not (series or len(ys) > 1):
        mark_def["color"] = PALETTE[0]
    if mark == "line":
        mark_def["point"] = True
    n_x = len({d[x] for d in data})
    encoding: dict[str, Any] = {
        "x": x_encoding(x, x_kind, x_title, not keep_order, 0 if horizontal else n_x),
        "y": y_enc,
    }
    if color_field:
        encoding["color"] = {"field": color_field, "type": "nominal", "title": None}
        if keep_order:
            encoding["color"]["sort"] = None
        if mark == "bar" and not stacked:
            encoding["xOffset"] = {"field": color_field, **({"sort": None} if keep_order else {})}
    if horizontal:
        encoding["x"], encoding["y"] = encoding["y"], encoding["x"]
    layers: list[dict[str, Any]] = [
        {"mark": mark_def, "encoding": encoding, "transform": transform}
    ]
    value_axis = "x" if horizontal else "y"
    if ref_band and any(v is not None for v in ref_band):
        low, high = ref_band
        # One datum of its own: inheriting the chart's rows would stack one band per row.
        band: dict[str, Any] = {
            "data": {"values": [{}]},
            "mark": {"type": "rect", "opacity": 0.12, "color": "#5b9a68"},
        }
        band["encoding"] = {value_axis: {"datum": low if low is not None else 0}}
        if high is not None:
            band["encoding"][f"{value_axis}2"] = {"datum": high}
        else:
            band["mark"] = {"type": "rule", "color": "#5b9a68", "strokeDash": [4, 3]}
        layers.insert(0, band)
    if ref_line is not None:
        layers.append(
            {
                "data": {"values": [{}]},
                "mark": {"type": "rule", "color": "#a4506c", "strokeDash": [5, 4], "size": 1.5},
                "encoding": {value_axis: {"datum": ref_line}},
            }
        )
    height = HEIGHT
    if horizontal:  # one readable band per category instead of a fixed height
        height = max(60, 26 * len({d[x] for d in data}))
    return {"width": WIDTH, "height": height, "data": {"values": data}, "layer": layers}


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
) -> dict[str, Any]:
    """Rect heatmap (e.g. cohort × location, weekday × hour).

    `keep_order` keeps the query's row order on both axes (Mon..Sun, not alphabetical).
    """
    data = _values(rows, [x, y, value])
    legend: dict[str, Any] = {"title": None}
    if fmt in AXIS_FORMATS:
        legend["format"] = AXIS_FORMATS[fmt]
    x_count = len({d[x] for d in data}) or 1
    y_count = len({d[y] for d in data}) or 1
    return {
        "width": min(WIDTH, max(200, 26 * x_count)),
        "height": min(520, max(120, 20 * y_count)),
        "data": {"values": data},
        "mark": {"type": "rect", "tooltip": True},
        "encoding": {
            "x": {
                "field": x,
                "type": "ordinal",
                "title": x_title,
                "axis": {"labelAngle": -45 if x_count > 12 else 0},
                **({"sort": None} if keep_order else {}),
            },
            "y": {
                "field": y,
                "type": "ordinal",
                "title": y_title,
                **({"sort": None} if keep_order else {}),
            },
            "color": {
                "field": value,
                "type": "quantitative",
                "scale": {"scheme": "blues"},
                "legend": legend,
            },
        },
    }
