"""The `<svg>` element around a chart: size, accessibility and the chart's id prefix."""

from dataclasses import dataclass

from dashboards.svg.text import esc


@dataclass(frozen=True)
class Plot:
    """The plot area (inside the axes) in px from the SVG's top-left corner."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


def num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros (stable, compact)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def svg_open(chart_id: str, width: float, height: float, label: str) -> str:
    """Opening tag + an accessible name. `chart_id` (unique on the page) prefixes every id.

    `role="img"` with `aria-labelledby` gives screen readers one name for the chart; the
    per-mark `<title>`s are hover text for sighted users.
    """
    w, h = num(width), num(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{esc(chart_id)}" class="marks" '
        f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-labelledby="{esc(chart_id)}-title" aria-label="{esc(label)}" '
        f'font-family="sans-serif">'
        f'<title id="{esc(chart_id)}-title">{esc(label)}</title>'
    )


SVG_CLOSE = "</svg>"
