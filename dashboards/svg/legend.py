"""Legends below the plot: colour swatches per series, or a colour ramp for a heatmap."""

from collections.abc import Callable, Sequence

from dashboards.svg.colors import OPEN_CELL, OPEN_DASH, OPEN_KEY, TEXT, WHITE
from dashboards.svg.frame import num
from dashboards.svg.text import esc, text_width, truncate

SIZE = 10.0
ROW = 16.0
_LIMIT = 160.0
#: The key to hollow marks and grey cells: values whose KPI window is still open.
OPEN_LABEL = "window still open: so far, not final"


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
    items: Sequence[tuple[str, str]],
    left: float,
    top: float,
    width: float,
    shape: str,
    open_key: bool = False,
) -> str:
    """Series names with their colours; `shape` is `circle` (lines) or `square` (bars).
    `open_key` adds the hollow mark of a value whose window is still open (`OPEN_LABEL`)."""
    labels = [label for label, _ in items] + ([OPEN_LABEL] if open_key else [])
    spots, _ = swatch_layout(labels, width)
    out = ['<g class="legend role-legend">']
    for i, (label, (dx, dy)) in enumerate(zip(labels, spots, strict=True)):
        x, y = left + dx, top + dy
        if i == len(items):  # the open key: a dashed stroke through a hollow mark
            if shape == "circle":
                mark = (
                    f'<line x1="{num(x - 2)}" x2="{num(x + 12)}" y1="{num(y + 6)}" '
                    f'y2="{num(y + 6)}" stroke="{OPEN_KEY}" stroke-width="1.5" '
                    f'stroke-dasharray="{OPEN_DASH}"/>'
                    f'<circle cx="{num(x + 5)}" cy="{num(y + 6)}" r="3.5" fill="{WHITE}" '
                    f'stroke="{OPEN_KEY}" stroke-width="1.5"/>'
                )
            else:
                mark = (
                    f'<rect x="{num(x)}" y="{num(y + 1)}" width="10" height="10" '
                    f'fill="{OPEN_KEY}" fill-opacity="0.18" stroke="{OPEN_KEY}" '
                    f'stroke-width="1.5" stroke-dasharray="{OPEN_DASH}"/>'
                )
        elif shape == "circle":
            color = items[i][1]
            mark = f'<circle cx="{num(x + 5)}" cy="{num(y + 6)}" r="4.5" fill="{color}"/>'
        else:
            color = items[i][1]
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
#: The grey cell's key sits this far right of the ramp's left edge.
OPEN_CELL_KEY_AT = RAMP_WIDTH + 18


def open_cell_key(left: float, top: float) -> str:
    """The key to a heatmap's grey cells (values whose window is still open), beside the ramp."""
    return (
        f'<g class="legend role-legend open-key"><rect x="{num(left)}" y="{num(top)}" '
        f'width="10" height="10" fill="{OPEN_CELL}"/>'
        f'<text x="{num(left + 14)}" y="{num(top + 9)}" font-size="{num(SIZE)}" fill="{TEXT}">'
        f"{esc(OPEN_LABEL)}</text></g>"
    )


def open_cell_key_width() -> float:
    return 14 + text_width(OPEN_LABEL, SIZE)
