"""Axis tick labels for the page format names (`usd0`, `pct1`, `num0`, ...).

Tooltips use the page formats themselves (`dashboards.formatting.fmt`); axis labels differ
only in precision: ticks a tenth of a percent apart get a decimal even under `pct0`, so two
ticks never read the same.
"""

import itertools
import math
from collections.abc import Sequence

#: format name -> (prefix, suffix, multiplier, decimals, trim trailing zeros)
AXIS_FORMATS: dict[str, tuple[str, str, float, int, bool]] = {
    "usd": ("$", "", 1.0, 0, False),
    "usd0": ("$", "", 1.0, 0, False),
    "usd2": ("$", "", 1.0, 2, False),
    "pct": ("", "%", 100.0, 0, False),
    "pct0": ("", "%", 100.0, 0, False),
    "pct1": ("", "%", 100.0, 1, False),
    "num0": ("", "", 1.0, 0, False),
    "count": ("", "", 1.0, 4, True),
    "num1": ("", "", 1.0, 1, False),
    "num2": ("", "", 1.0, 2, False),
    "min": ("", "", 1.0, 0, False),
}

MINUS = "\u2212"  # a typographic minus, as d3 prints negative axis labels


def format_number(
    value: float, decimals: int, prefix: str = "", suffix: str = "", trim: bool = False
) -> str:
    """`value` with thousands separators and a fixed number of decimals (`−$1,234.5`)."""
    text = f"{abs(value):,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    negative = value < 0 and any(c not in "0.," for c in text)
    return f"{MINUS if negative else ''}{prefix}{text}{suffix}"


def _step_decimals(step: float) -> int:
    """Decimals needed to tell ticks `step` apart (d3's precisionFixed)."""
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0


def tick_labels(ticks: Sequence[float], fmt_name: str | None) -> list[str]:
    """Labels for `ticks` in `fmt_name` (unknown or none: plain grouped numbers)."""
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=0.0)
    if fmt_name in AXIS_FORMATS:
        prefix, suffix, mult, decimals, trim = AXIS_FORMATS[fmt_name]
    else:
        prefix, suffix, mult, decimals, trim = "", "", 1.0, _step_decimals(step), False
    for extra in range(4):
        labels = [format_number(t * mult, decimals + extra, prefix, suffix, trim) for t in ticks]
        if len(set(labels)) == len(labels):
            return labels
    return labels


def value_label(value: float, fmt_name: str | None) -> str:
    """One value in an axis format (heatmap legend ends)."""
    return tick_labels([value], fmt_name)[0]
