"""How much demand arrives each day: new patients, leads, target days and services.

Demand follows the calendar a med spa feels: Thursday to Saturday are the busiest days,
December and the pre-summer months (April–June) peak, January and August are quiet. A newly
opened location ramps up over its first months. Everything here is a pure function of the
day's random stream and the location, so adding days to the simulation changes nothing before.
"""

from __future__ import annotations

import numpy as np

from demo import catalog
from demo.calendar import Calendar
from demo.config import ChainConfig
from demo.locations import DEVICE_TYPES
from demo.timeutil import month_of, weekday

#: Relative appeal of each ISO weekday (Mon..Sun) as an appointment day.
WEEKDAY_WEIGHT = np.array([0.0, 0.75, 0.85, 0.95, 1.3, 1.35, 1.3, 0.6])
#: Seasonal multiplier per month (index 1..12).
SEASON = np.array([0.0, 0.82, 0.92, 1.0, 1.08, 1.18, 1.15, 0.98, 0.86, 0.97, 1.02, 1.1, 1.28])

SERVICE_DEVICE = np.array(
    [DEVICE_TYPES.index(s.device_type) if s.device_type else -1 for s in catalog.SERVICES]
)
SERVICE_IS_CONSULT = np.array([s.category == "consultation" for s in catalog.SERVICES])
SERVICE_SLOTS = np.array([(s.duration_min + 29) // 30 for s in catalog.SERVICES])
SERVICE_GAP = np.array([s.gap_days for s in catalog.SERVICES], dtype=float) * 0.85


def size_factor(cal: Calendar, loc: np.ndarray) -> np.ndarray:
    """Demand scales with the number of treatment rooms (4 rooms = 1.0)."""
    return np.array([len(cal.loc_treat_rooms[i]) for i in np.atleast_1d(loc)]) / 4.0


def daily_factor(cfg: ChainConfig, loc: int, day: int) -> float:
    """Seasonality times the ramp-up of a location in its first 120 days."""
    opened = cfg.opening_day(loc)
    if day < opened - 14:
        return 0.0
    ramp = min(1.0, 0.25 + 0.75 * max(day - opened + 14, 0) / 134)
    return float(SEASON[month_of(np.array([day]))[0]] * ramp)


def pick_target(rng: np.random.Generator, day: int, mean_lead: float, n: int) -> np.ndarray:
    """A target day after `day`, skewed to busy weekdays (best of three weighted draws)."""
    cand = day + rng.geometric(1 / mean_lead, (n, 3))
    w = WEEKDAY_WEIGHT[weekday(cand)] * rng.random((n, 3))
    return cand[np.arange(n), w.argmax(axis=1)]


def prefer_weekday(rng: np.random.Generator, target: np.ndarray) -> np.ndarray:
    """Nudge a planned day to a neighbour when that weekday is busier (Thu-Sat pull)."""
    cand = target[:, None] + np.array([-1, 0, 1])
    w = WEEKDAY_WEIGHT[weekday(cand)] * rng.random((len(target), 3))
    return cand[np.arange(len(target)), w.argmax(axis=1)]


def pick_service(
    rng: np.random.Generator,
    weights: tuple[int, ...],
    cal: Calendar,
    loc: np.ndarray,
    target: np.ndarray,
) -> np.ndarray:
    """Services by weight, re-drawn without device services the location lacks that day."""
    w = np.asarray(weights, float)
    svc = rng.choice(len(w), size=len(loc), p=w / w.sum())
    dev = SERVICE_DEVICE[svc]
    lacking = (dev >= 0) & (target < cal.dev_from[loc, np.maximum(dev, 0)])
    if lacking.any():
        w2 = np.where(SERVICE_DEVICE >= 0, 0.0, w)
        svc[lacking] = rng.choice(len(w), size=int(lacking.sum()), p=w2 / w2.sum())
    return svc
