"""Dates on a time axis, always in UTC: a date never shifts a day with the machine's zone.

Positions are days since 0001-01-01 (`date.toordinal`), computed from the value's own
calendar fields (an aware datetime is converted to UTC first), never through local time.
Month names are spelled here rather than by `strftime`, which follows the process locale.
"""

import datetime as dt
from collections.abc import Iterable
from itertools import pairwise

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: The calendar steps a temporal line can expect between consecutive x values.
STEPS = ("day", "week", "month")

#: Candidate tick intervals: days, then months.
_DAY_STEPS = (1, 2, 7, 14)
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)


def to_utc(value: dt.date) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def day_number(value: dt.date) -> float:
    """Days since 0001-01-01, with the time of day as a fraction (UTC)."""
    value = to_utc(value)
    days = float(value.toordinal())
    if isinstance(value, dt.datetime):
        days += (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return days


def date_label(day: float, monthly: bool = False) -> str:
    """`Jan 05 2026` (or `Jan 2026` on a monthly axis) for a day number."""
    d = dt.date.fromordinal(int(day))
    if monthly:
        return f"{MONTHS[d.month - 1]} {d.year}"
    return f"{MONTHS[d.month - 1]} {d.day:02d} {d.year}"


def iso(value: object) -> str:
    """A value as tooltip/axis text: dates as ISO in UTC, whole floats without `.0`."""
    if isinstance(value, dt.date):
        value = to_utc(value)
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _add_months(d: dt.date, months: int) -> dt.date:
    total = d.year * 12 + d.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def time_ticks(lo: float, hi: float, count: int = 6) -> tuple[list[float], bool]:
    """About `count` round ticks within [lo, hi] (day numbers), and whether they are monthly.

    Day and week steps start at the first date (weekly data lands its points on ticks);
    month steps fall on the 1st of a month, multi-year steps on January 1st.
    """
    span = hi - lo
    for days in _DAY_STEPS:
        if span / days <= count:
            first = float(int(lo)) if lo == int(lo) else float(int(lo) + 1)
            n = int((hi - first) // days)
            return [first + i * days for i in range(n + 1)], False
    for months in _MONTH_STEPS:
        if span / (30.44 * months) <= count:
            break
    start = dt.date.fromordinal(int(lo))
    d = start if start.day == 1 and lo == int(lo) else _add_months(start.replace(day=1), 1)
    if months >= 12:
        d = dt.date(d.year + (d.month != 1), 1, 1)
        years = months // 12
        d = dt.date(d.year + (-d.year) % years, 1, 1)
    elif months > 1:  # quarters start in Jan/Apr/Jul/Oct, halves in Jan/Jul, ...
        while (d.month - 1) % months:
            d = _add_months(d, 1)
    ticks: list[float] = []
    while d.toordinal() <= hi:
        ticks.append(float(d.toordinal()))
        d = _add_months(d, months)
    return ticks, True


def inferred_step(values: Iterable[dt.date]) -> str | None:
    """The calendar step of a time axis's x values (dates, or datetimes at midnight UTC).

    `month` when every value is the 1st of a month and two of them are a month apart, `week`
    when every value falls on one weekday and two of them are a week apart (periods' first
    days, as the KPI marts' `period_start`). None otherwise: daily or irregular x values say
    nothing reliable about what is missing (a clinic closed on Sundays has no Sunday rows).
    """
    days = set()
    for value in values:
        value = to_utc(value)
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0):
                return None
            value = value.date()
        days.add(value)
    ordered = sorted(days)
    if len(ordered) < 2:
        return None
    if all(d.day == 1 for d in ordered):
        months = [d.year * 12 + d.month for d in ordered]
        return "month" if min(b - a for a, b in pairwise(months)) == 1 else None
    if len({d.weekday() for d in ordered}) == 1:
        return "week" if min((b - a).days for a, b in pairwise(ordered)) == 7 else None
    return None


def steps_apart(a: dt.date, b: dt.date, step: str) -> float:
    """How many `step`s (day, week, month) `b` lies after `a`; months by calendar month."""
    if step == "month":
        a, b = to_utc(a), to_utc(b)
        return (b.year * 12 + b.month) - (a.year * 12 + a.month)
    days = day_number(b) - day_number(a)
    return days / 7 if step == "week" else days
