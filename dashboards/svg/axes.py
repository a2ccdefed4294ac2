"""Axes: value axes with grid lines, and category/time axes whose labels never overlap.

Overlapping labels are thinned greedily (keep a label only if it clears the last one kept,
by estimated text width), and many categories get slanted labels, so 26 weekly bars or 40
locations stay readable.
"""

import math
from collections.abc import Sequence

from dashboards.svg.colors import DOMAIN, GRID, TEXT
from dashboards.svg.frame import Plot, num
from dashboards.svg.text import esc, text_width, truncate

LABEL_SIZE = 10.0
TITLE_SIZE = 11.0
TICK = 5.0
PAD = 3.0
LABEL_LIMIT = 180.0


def thin(positions: Sequence[float], labels: Sequence[str], angle: float) -> list[int]:
    """Indices of the labels to keep along an axis (positions ascending), greedily."""
    kept: list[int] = []
    last_end = -math.inf
    gap = LABEL_SIZE * 1.25 / math.sin(math.radians(angle)) if angle else 0.0
    for i, (pos, label) in enumerate(zip(positions, labels, strict=True)):
        if angle:
            start, end = pos, pos + gap
        else:
            half = text_width(label, LABEL_SIZE) / 2
            start, end = pos - half, pos + half + 3
        if start >= last_end:
            kept.append(i)
            last_end = end
    return kept


def bottom_axis_height(labels: Sequence[str], angle: float) -> float:
    """Vertical room the bottom axis's tick labels take."""
    if not labels:
        return TICK + PAD
    if not angle:
        return TICK + PAD + LABEL_SIZE + 2
    widest = max(text_width(label, LABEL_SIZE) for label in labels)
    a = math.radians(angle)
    return TICK + PAD + widest * math.sin(a) + LABEL_SIZE * math.cos(a) + 2


def left_axis_width(labels: Sequence[str]) -> float:
    """Horizontal room the left axis's tick labels take."""
    widest = max((text_width(label, LABEL_SIZE) for label in labels), default=0.0)
    return TICK + PAD + widest + 2


def _text(x: float, y: float, label: str, anchor: str, extra: str = "") -> str:
    return (
        f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" font-size="{num(LABEL_SIZE)}" '
        f'fill="{TEXT}"{extra}>{esc(label)}</text>'
    )


def value_axis_left(plot: Plot, positions: Sequence[float], labels: Sequence[str]) -> str:
    """Y value axis: horizontal grid lines across the plot and labels to the left."""
    out = ['<g class="axis role-axis" shape-rendering="crispEdges">']
    for y, label in zip(positions, labels, strict=True):
        out.append(
            f'<line x1="{num(plot.left)}" x2="{num(plot.right)}" y1="{num(y)}" y2="{num(y)}" '
            f'stroke="{GRID}"/>'
        )
        out.append(_text(plot.left - TICK - PAD, y + LABEL_SIZE * 0.35, label, "end"))
    out.append("</g>")
    return "".join(out)


def value_axis_bottom(plot: Plot, positions: Sequence[float], labels: Sequence[str]) -> str:
    """X value axis (horizontal bars): vertical grid lines and labels below, thinned."""
    out = ['<g class="axis role-axis" shape-rendering="crispEdges">']
    for x in positions:
        out.append(
            f'<line x1="{num(x)}" x2="{num(x)}" y1="{num(plot.top)}" y2="{num(plot.bottom)}" '
            f'stroke="{GRID}"/>'
        )
    for i in thin(positions, labels, 0):
        out.append(
            _text(positions[i], plot.bottom + TICK + PAD + LABEL_SIZE * 0.8, labels[i], "middle")
        )
    out.append("</g>")
    return "".join(out)


def category_axis_bottom(
    plot: Plot, positions: Sequence[float], labels: Sequence[str], angle: float
) -> str:
    """X category or time axis: a baseline, ticks and labels (slanted by `angle` degrees)."""
    out = [
        '<g class="axis role-axis" shape-rendering="crispEdges">'
        f'<line x1="{num(plot.left)}" x2="{num(plot.right)}" y1="{num(plot.bottom)}" '
        f'y2="{num(plot.bottom)}" stroke="{DOMAIN}"/>'
    ]
    y_tick = plot.bottom + TICK
    for i in thin(positions, labels, angle):
        x = positions[i]
        out.append(
            f'<line x1="{num(x)}" x2="{num(x)}" y1="{num(plot.bottom)}" y2="{num(y_tick)}" '
            f'stroke="{DOMAIN}"/>'
        )
        y = y_tick + PAD + LABEL_SIZE * 0.8
        if angle:
            rot = f' transform="rotate(-{num(angle)} {num(x)} {num(y_tick + PAD)})"'
            out.append(_text(x, y_tick + PAD + LABEL_SIZE * 0.35, labels[i], "end", rot))
        else:
            out.append(_text(x, y, labels[i], "middle"))
    out.append("</g>")
    return "".join(out)


def category_axis_left(plot: Plot, positions: Sequence[float], labels: Sequence[str]) -> str:
    """Y category axis (horizontal bars, heatmap rows): labels to the left, thinned."""
    out = [
        '<g class="axis role-axis" shape-rendering="crispEdges">'
        f'<line x1="{num(plot.left)}" x2="{num(plot.left)}" y1="{num(plot.top)}" '
        f'y2="{num(plot.bottom)}" stroke="{DOMAIN}"/>'
    ]
    last = -math.inf
    for y, label in zip(positions, labels, strict=True):
        if y - last < LABEL_SIZE * 1.1:
            continue
        last = y
        out.append(_text(plot.left - TICK - PAD, y + LABEL_SIZE * 0.35, label, "end"))
    out.append("</g>")
    return "".join(out)


def category_labels(values: Sequence[str], limit: float = LABEL_LIMIT) -> list[str]:
    """Category labels cut to `limit` px (a very long service name does not eat the plot)."""
    return [truncate(v, limit, LABEL_SIZE) for v in values]


def axis_title_bottom(plot: Plot, y: float, title: str) -> str:
    return (
        f'<text x="{num(plot.left + plot.width / 2)}" y="{num(y)}" text-anchor="middle" '
        f'font-size="{num(TITLE_SIZE)}" font-weight="bold" fill="{TEXT}">{esc(title)}</text>'
    )


def axis_title_left(plot: Plot, x: float, title: str) -> str:
    cy = plot.top + plot.height / 2
    return (
        f'<text x="{num(x)}" y="{num(cy)}" text-anchor="middle" font-size="{num(TITLE_SIZE)}" '
        f'font-weight="bold" fill="{TEXT}" transform="rotate(-90 {num(x)} {num(cy)})">'
        f"{esc(title)}</text>"
    )
