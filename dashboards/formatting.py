"""Number formats shared by components and page text (`{{ x | fmt('usd') }}`).

Formats are named as in Evidence (`usd`, `usd0`, `pct1`, `num0`, ...) so a page author can
reuse what they know. The scorecard's `unit` column (`usd`, `ratio`, `count`, `minutes`,
`hours`, `score`) maps onto these names, so one loop can format every KPI correctly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

#: kpi_targets.unit -> format name.
UNIT_FORMATS: dict[str, str] = {
    "usd": "usd0",
    "currency": "usd0",
    "ratio": "pct1",
    "share": "pct1",
    "percent": "pct1",
    "pct": "pct1",
    "rate": "pct1",
    "count": "count",
    "patients": "num0",
    "visits": "num1",
    "minutes": "min",
    "hours": "num1",
    "score": "num0",
    "usd_per_hour": "usd0",
}

#: format name -> (python format spec, prefix, suffix, multiplier)
_FORMATS: dict[str, tuple[str, str, str, float]] = {
    "usd": (",.2f", "$", "", 1.0),
    "usd0": (",.0f", "$", "", 1.0),
    "usd2": (",.2f", "$", "", 1.0),
    "pct": (".0f", "", "%", 100.0),
    "pct0": (".0f", "", "%", 100.0),
    "pct1": (".1f", "", "%", 100.0),
    "num": (",.2f", "", "", 1.0),
    "num0": (",.0f", "", "", 1.0),
    "num1": (",.1f", "", "", 1.0),
    "num2": (",.2f", "", "", 1.0),
    "min": (",.0f", "", " min", 1.0),
}

KNOWN_FORMATS = frozenset(_FORMATS) | {"auto", "count", "date", "text", "pctile"}


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 62nd, 100th."""
    if 11 <= number % 100 <= 13:
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def format_for_unit(unit: object) -> str:
    """The format name for a scorecard unit; unknown units get a plain number."""
    return UNIT_FORMATS.get(str(unit or "").lower(), "num2")


def fmt(value: object, name: str = "auto") -> str:
    """Format one value for display; None (a ratio with a zero denominator) shows as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if name == "text" or isinstance(value, str | bool):
        return str(value)
    if isinstance(value, Decimal):
        value = float(value)
    if not isinstance(value, int | float):
        return str(value)
    if name == "pctile":  # a percentile rank 0..1 as the ordinal percentile: 0.62 -> 62nd
        return ordinal(round(float(value) * 100))
    if name == "auto":
        name = "num0" if float(value).is_integer() else "num2"
    elif name == "count":  # counts are whole; a count-unit average (visits per patient) is not
        name = "num0" if float(value).is_integer() else "num1"
    spec, prefix, suffix, mult = _FORMATS.get(name, _FORMATS["num2"])
    number = value * mult
    sign = "-" if number < 0 and prefix else ""
    body = format(abs(number) if prefix else number, spec)
    return f"{sign}{prefix}{body}{suffix}"


def fmt_delta(value: object, name: str = "auto") -> str:
    """A signed change: `+$120`; ratios in points (`-2.5 pts`); `rel` for relative (`+3.1%`)."""
    if value is None:
        return "—"
    number = float(value) if isinstance(value, Decimal | int | float) else None
    if number is None:
        return str(value)
    if name == "rel":  # a relative change: +3.1 %
        return f"{number * 100:+.1f}%"
    if name.startswith("pct"):
        return f"{number * 100:+.1f} pts"
    text = fmt(abs(number), name)
    return ("+" if number >= 0 else "-") + text
