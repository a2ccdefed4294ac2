"""Legends below the plot: colour swatches per series, or a colour ramp for a heatmap."""

from collections.abc import Callable, Sequence

from dashboards.svg.colors import TEXT
from dashboards.svg.frame import num
from dashboards.svg.text import esc, text_width, truncate

SIZE = 10.0
ROW = 16.0
_LIMIT = 160.0


def swatch_layout(labels: Sequence[str], width: float) -> tuple[list[tuple[float, float]], float]:
    """Each item's (x, y) offset, wrapping into rows of `width` px, and the total height."""
    spots: list[tuple[float, float]] = []
    x = y = 0.0
    for label in labels:
        w = 14 + text_width(truncate(label, _LIMIT, SIZE), SIZE) + 14
        if x and x + w > width:
            x, y = 0.0, y + ROW
        spots.append((x, y))
        x += w
    return spots, (y + ROW if labels else 0.0)


def swatch_legend(
    items: Sequence[tuple[str, str]], left: float, top: float, width: float, shape: str
) -> str:
    """Series names with their colours; `shape` is `circle` (lines) or `square` (bars)."""
    spots, _ = swatch_layout([label for label, _ in items], width)
    out = ['<g class="legend role-legend">']
    for (label, color), (dx, dy) in zip(items, spots, strict=True):
        x, y = left + dx, top + dy
        if shape == "circle":
            mark = f'<circle cx="{num(x + 5)}" cy="{num(y + 6)}" r="4.5" fill="{color}"/>'
        else:
            mark = f'<rect x="{num(x)}" y="{num(y + 1)}" width="10" height="10" fill="{color}"/>'
        out.append(
            f'{mark}<text x="{num(x + 14)}" y="{num(y + 10)}" font-size="{num(SIZE)}" '
            f'fill="{TEXT}">{esc(truncate(label, _LIMIT, SIZE))}</text>'
        )
    out.append("</g>")
    return "".join(out)


RAMP_STEPS = 24
RAMP_WIDTH = 168.0


def ramp_legend(color: Callable[[float], str], low: str, high: str, left: float, top: float) -> str:
    """A stepped colour ramp from `low` to `high` (labels at its ends); no gradient ids."""
    step = RAMP_WIDTH / RAMP_STEPS
    out = ['<g class="legend role-legend">']
    for i in range(RAMP_STEPS):
        out.append(
            f'<rect x="{num(left + i * step)}" y="{num(top)}" width="{num(step + 0.3)}" '
            f'height="10" fill="{color(i / (RAMP_STEPS - 1))}"/>'
        )
    y = top + 10 + SIZE + 2
    out.append(
        f'<text x="{num(left)}" y="{num(y)}" font-size="{num(SIZE)}" fill="{TEXT}">'
        f"{esc(low)}</text>"
        f'<text x="{num(left + RAMP_WIDTH)}" y="{num(y)}" text-anchor="end" '
        f'font-size="{num(SIZE)}" fill="{TEXT}">{esc(high)}</text></g>'
    )
    return "".join(out)


RAMP_HEIGHT = 10 + SIZE + 4
