"""Local wall-clock time as int64 seconds (and dates as int64 day numbers).

The simulation thinks in each location's local time: open hours, closures and KPIs are local.
Seconds since 1970-01-01 *local* keep arithmetic vectorised; the writer attaches the location's
UTC offset only when a timestamp is written.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60
#: Null marker for int64 time and date columns (far below any real value).
NA = np.int64(-(2**62))
_EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def to_date(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def weekday(days: np.ndarray | int) -> np.ndarray:
    """ISO weekday 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7 + 1


def month_of(days: np.ndarray) -> np.ndarray:
    """Calendar month 1–12 of day numbers."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12 + 1


def visible(t: np.ndarray, cutoff: int) -> np.ndarray:
    """Which event times have happened by `cutoff` (null times never have)."""
    return (t != NA) & (t < cutoff)
