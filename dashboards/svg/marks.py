"""Marks: lines with points, bars/cells, target rules and bands, each with hover text.

Every data mark carries a `<title>` (the browser shows it on hover: a static tooltip, no
JavaScript). Groups keep Vega's class names (`mark-line role-mark`, ...), which the site's
tests and styles already know.
"""

from collections.abc import Sequence

from dashboards.svg.colors import BAND, OPEN_DASH, TARGET, WHITE
from dashboards.svg.frame import Plot, num
from dashboards.svg.text import esc


def _title(tip: str) -> str:
    return f"<title>{esc(tip)}</title>" if tip else ""


def line(
    runs: Sequence[Sequence[tuple[float, float]]],
    color: str,
    width: float = 2.0,
    dashed: bool = False,
) -> str:
    """One series' line: one path, a subpath (`M` then `L`s) through each run of points
    (already in x order) and none across the gap between two runs. A run of one point has
    no line (its point mark shows it); no run of two or more: no path. `dashed`: into open
    values (not final)."""
    path = "".join(
        "M" + "L".join(f"{num(x)},{num(y)}" for x, y in run) for run in runs if len(run) >= 2
    )
    if not path:
        return ""
    dash = f' stroke-dasharray="{OPEN_DASH}"' if dashed else ""
    return f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{num(width)}"{dash}/>'


def point(
    x: float, y: float, color: str, tip: str, radius: float = 3.0, hollow: bool = False
) -> str:
    """A point; `hollow` (an open value, not final): white inside, ringed in the colour."""
    paint = f'fill="{WHITE}" stroke="{color}" stroke-width="1.5"' if hollow else f'fill="{color}"'
    return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(radius)}" {paint}>{_title(tip)}</circle>'


def rect(x: float, y: float, w: float, h: float, color: str, tip: str, hollow: bool = False) -> str:
    """A bar or cell; negative sizes are normalised so the rect is always drawn. A `hollow`
    bar (an open value, not final) is pale with a dashed outline in its colour."""
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    paint = f'fill="{color}"'
    if hollow:
        paint += (
            f' fill-opacity="0.18" stroke="{color}" stroke-width="1.5" '
            f'stroke-dasharray="{OPEN_DASH}"'
        )
    return (
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" '
        f"{paint}>{_title(tip)}</rect>"
    )


def group(kind: str, body: Sequence[str], extra: str = "") -> str:
    """A mark group (`line`, `symbol`, `rect`, `rule`) with Vega's class names."""
    return f'<g class="mark-{kind} role-mark{extra}">{"".join(body)}</g>'


def rule(
    plot: Plot, at: float, horizontal: bool, color: str, dash: str, width: float, tip: str
) -> str:
    """A straight line across the plot at pixel `at` (y if `horizontal`, else x)."""
    if horizontal:
        x1, x2, y1, y2 = plot.left, plot.right, at, at
    else:
        x1, x2, y1, y2 = at, at, plot.top, plot.bottom
    return (
        f'<line x1="{num(x1)}" x2="{num(x2)}" y1="{num(y1)}" y2="{num(y2)}" stroke="{color}" '
        f'stroke-width="{num(width)}" stroke-dasharray="{dash}">{_title(tip)}</line>'
    )


def target_rule(plot: Plot, at: float, horizontal: bool, tip: str) -> str:
    """The dashed target line (`yRef`)."""
    return group("rule", [rule(plot, at, horizontal, TARGET, "5,4", 1.5, tip)], " target-line")


def target_band(plot: Plot, low: float, high: float | None, horizontal: bool, tip: str) -> str:
    """The target band between pixels `low` and `high`; no `high`: a dashed floor line."""
    if high is None:
        return group("rule", [rule(plot, low, horizontal, BAND, "4,3", 1.0, tip)], " target-band")
    if horizontal:
        r = (
            f'<rect x="{num(plot.left)}" y="{num(min(low, high))}" width="{num(plot.width)}" '
            f'height="{num(abs(high - low))}" fill="{BAND}" fill-opacity="0.12">'
        )
    else:
        r = (
            f'<rect x="{num(min(low, high))}" y="{num(plot.top)}" width="{num(abs(high - low))}" '
            f'height="{num(plot.height)}" fill="{BAND}" fill-opacity="0.12">'
        )
    return group("rect", [f"{r}{_title(tip)}</rect>"], " target-band")
