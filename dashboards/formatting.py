"""Number formats shared by components and page text (`{{ x | fmt('usd') }}`).

Formats are named as in Evidence (`usd`, `usd0`, `pct1`, `num0`, ...) so a page author can
reuse what they know. The scorecard's `unit` column (`usd`, `ratio`, `count`, `minutes`,
`hours`, `score`) maps onto these names, so one loop can format every KPI correctly.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

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


def round_half_up(value: float | Decimal, places: int) -> Decimal:
    """`value` rounded to `places` decimals, a half always away from zero ($588,492.50 ->
    $588,493), as an owner rounds by hand and as a spreadsheet does.

    Python's `format` and `round` round a half to the even neighbour ($588,492), so a total
    read off a page disagreed by a dollar with the same total in the clinic's spreadsheet.
    A float goes through its shortest repr first (2.675 is 2.67499... in binary but is
    written, and meant, as 2.675)."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _scaled(value: float | Decimal, mult: float) -> Decimal:
    """`value * mult` in decimal, so 0.0735 shown as a percentage is 7.35 exactly."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact * Decimal(repr(mult))


def format_for_unit(unit: object) -> str:
    """The format name for a scorecard unit; unknown units get a plain number."""
    return UNIT_FORMATS.get(str(unit or "").lower(), "num2")


def fmt_beside_target(value: object, name: str, low: object, high: object) -> str:
    """`fmt(value, name)`, with up to two more decimals when the value is outside its target
    band but would be shown as the band's edge: visits in the first year of 2.954 against a
    target of 3–4 read "3.0 · below target", a retention of 64.97 % against 65 % "65.0 %",
    $849.60 an hour against $850 "$850" (money gets its cents at once).
    A value inside the band, or one whose rounding already differs from the edge, is shown
    as `fmt` shows it."""
    text = fmt(value, name)
    if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        return text
    spec, prefix, suffix, mult = _FORMATS.get({"count": "num1"}.get(name, name), _FORMATS["num2"])
    crossed = [
        edge
        for edge, below in ((low, True), (high, False))
        if isinstance(edge, int | float | Decimal) and (value < edge if below else value > edge)
    ]
    places = int(spec.rsplit(".", 1)[1].rstrip("f"))
    # money goes straight to cents: "$849.60", never "$849.6"
    finer_places = (2,) if prefix == "$" and places < 2 else range(places + 1, places + 3)
    for finer in finer_places:
        if all(text != _number(edge, spec, prefix, suffix, mult) for edge in crossed):
            break
        spec = f"{spec.rsplit('.', 1)[0]}.{finer}f"
        text = _number(value, spec, prefix, suffix, mult)
    return text


def target_text(low: object, high: object, name: str) -> str:
    """A target band in words: "target ≥ 75.0%", "target 20.0%–30.0%", "target ≤ 5.0%";
    "" without one. One wording for cards and for chart titles, which read the band from the
    targets seed (a title saying $850 after the seed moved to $900 contradicted its card)."""
    if low is not None and high is not None:
        return f"target {fmt(low, name)}–{fmt(high, name)}"
    if low is not None:
        return f"target ≥ {fmt(low, name)}"
    if high is not None:
        return f"target ≤ {fmt(high, name)}"
    return ""


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
    if not isinstance(value, int | float | Decimal):
        return str(value)
    if name == "pctile":  # a percentile rank 0..1 as the ordinal percentile: 0.62 -> 62nd
        return ordinal(int(round_half_up(_scaled(value, 100.0), 0)))
    if name == "auto":
        name = "num0" if float(value).is_integer() else "num2"
    elif name == "count":  # counts are whole; a count-unit average (visits per patient) is not
        name = "num0" if float(value).is_integer() else "num1"
    return _number(value, *_FORMATS.get(name, _FORMATS["num2"]))


def _number(value: float | Decimal, spec: str, prefix: str, suffix: str, mult: float) -> str:
    """One number in a `_FORMATS` entry's format, rounded half up."""
    if not math.isfinite(value):  # nan, inf: as Python writes them
        return f"{prefix}{format(float(value) * mult, spec)}{suffix}"
    places = int(spec.rsplit(".", 1)[1].rstrip("f"))
    number = round_half_up(_scaled(value, mult), places)
    if number == 0:
        number = abs(number)  # -0.004 shown as a percentage is 0.0%, never -0.0%
    sign = "-" if number < 0 and prefix else ""
    body = format(abs(number) if prefix else number, spec)
    return f"{sign}{prefix}{body}{suffix}"


def delta_sign(value: object, name: str = "auto") -> int:
    """-1, 0 or +1: the sign of a change *as `fmt_delta` shows it* in format `name`.

    A change that rounds to zero on the page (-0.4 in `usd0`, -0.0004 in `pct1`) is 0 here:
    colouring it by its raw sign put a red "-$0" or "+0.0 pts" next to a number that did not
    move, so components colour by this and `fmt_delta` signs by it. None and text give 0.
    """
    parts = _delta_parts(value, name)
    return 0 if parts is None else parts[0]


def _delta_parts(value: object, name: str) -> tuple[int, str] | None:
    """(displayed sign, unsigned text) of a change, or None when it is not a number."""
    if not isinstance(value, Decimal | int | float) or isinstance(value, bool):
        return None
    number = float(value)
    if not math.isfinite(number):
        body = fmt(abs(number), name)
    elif name == "rel":  # a relative change: +3.1 %
        body = f"{round_half_up(_scaled(abs(number), 100.0), 1)}%"
    elif name.startswith("pct"):
        body = f"{round_half_up(_scaled(abs(number), 100.0), 1)} pts"
    else:
        body = fmt(abs(number), name)
    shown_zero = math.isfinite(number) and not any(c in "123456789" for c in body)
    sign = 0 if shown_zero or number == 0 or math.isnan(number) else (1 if number > 0 else -1)
    return sign, body


def fmt_delta(value: object, name: str = "auto") -> str:
    """A signed change: `+$120`; ratios in points (`-2.5 pts`); `rel` for relative (`+3.1%`).

    A change that rounds to zero is shown unsigned (`0.0 pts`, `$0`), never as `-0`.
    """
    if value is None:
        return "—"
    parts = _delta_parts(value, name)
    if parts is None:
        return str(value)
    sign, body = parts
    return {1: "+", -1: "-", 0: ""}[sign] + body
