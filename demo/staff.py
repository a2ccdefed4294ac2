"""Providers and their daily roster: one provider per active room and open day, rotating.

Each location has a pool of revenue-generating providers (one or two more than its rooms, so
everyone gets days off) plus a physician, a manager and front-desk staff. Shifts run from
30 minutes before opening to closing. At LOC01 one esthetician leaves mid-way and a new one
is hired; provider PRV0002 is story 2's weak rebooker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import catalog
from demo.calendar import Calendar
from demo.config import ChainConfig
from demo.frames import frame, ids
from demo.rand import Stream, day_rng
from demo.timeutil import DAY, HOUR, NA

ROLES = ("np", "rn", "esthetician", "pa", "rn", "esthetician", "np", "rn")


def _at(day: int, hour: float = 8.0) -> int:
    return int(day * DAY + hour * HOUR)


def add_providers(
    cfg: ChainConfig, cal: Calendar, tables: dict[str, list[dict]], days: np.ndarray
) -> None:
    """Provider rows and the daily room roster (a provider per active room, rotating)."""
    rng = day_rng(cfg.seed, 0, Stream.PEOPLE)
    plocs, hired, term = [], [], []
    for loc in range(cfg.locations):
        opened = cfg.opening_day(loc)
        n_pool = len(cal.loc_treat_rooms[loc]) + 2
        specs = [(ROLES[k % len(ROLES)], True, opened - 30, NA) for k in range(n_pool)]
        if loc == 0:  # one esthetician leaves mid-way and is replaced
            specs[2] = (specs[2][0], True, opened - 30, cfg.at_share(0.6))
            specs.append(("esthetician", True, cfg.at_share(0.58), NA))
        specs += [
            ("physician", False, opened - 60, NA),
            ("manager", False, opened - 60, NA),
            ("front_desk", False, opened - 30, NA),
            ("front_desk", False, opened - 30, NA),
        ]
        for role, revenue, h, t in specs:
            pid = len(tables["providers"])
            first = rng.choice(
                catalog.FIRST_NAMES_F if rng.random() < 0.8 else catalog.FIRST_NAMES_M
            )
            created = _at(max(h, cfg.start_day) - 1)
            tables["providers"].append(
                dict(
                    provider_id=f"PRV{pid + 1:04d}",
                    first_name=str(first),
                    last_name=str(rng.choice(catalog.LAST_NAMES)),
                    role=role,
                    home_location_id=f"LOC{loc + 1:02d}",
                    is_revenue_generating=revenue,
                    hired_on=h,
                    terminated_on=t,
                    updated_at=created,
                    _loc=loc,
                    _created=created,
                    _t_terminated_on=NA if t == NA else _at(t - 14),
                )
            )
            plocs.append(loc if revenue else -1)
            hired.append(h)
            term.append(10**9 if t == NA else t)
    cal.provider_loc = np.array(plocs)
    hired_a, term_a = np.array(hired), np.array(term)
    cal.weak_rebooker = 1  # story 2: the second provider of the first location
    for di, d in enumerate(days):
        rng = day_rng(cfg.seed, int(d), Stream.ROSTER)
        for loc in range(cfg.locations):
            if cal.close_h[loc, di] == 0:
                continue
            pool = np.flatnonzero((cal.provider_loc == loc) & (hired_a <= d) & (term_a > d))
            rooms = np.concatenate([cal.loc_treat_rooms[loc], [cal.loc_consult_room[loc]]])
            rooms = rooms[cal.room_active[rooms, di]]
            pick = rng.permutation(pool)[: len(rooms)]
            cal.roster[rooms[: len(pick)], di] = pick


def shifts(cal: Calendar, start_day: int) -> pd.DataFrame:
    """One shift per rostered provider and day: 30 minutes before opening to closing."""
    room_i, di = np.nonzero(cal.roster >= 0)
    keep = di + cal.day0 >= start_day
    room_i, di = room_i[keep], di[keep]
    loc = cal.room_loc[room_i]
    day = cal.day0 + di
    start = day * DAY + cal.open_h[loc, di] * HOUR - 1800
    end = day * DAY + cal.close_h[loc, di] * HOUR
    order = np.lexsort((cal.roster[room_i, di], day))
    n = len(order)
    return frame(
        dict(
            shift_id=ids("SH", np.arange(1, n + 1), 8),
            provider_id=ids("PRV", cal.roster[room_i, di][order] + 1, 4),
            location_id=ids("LOC", loc[order] + 1, 2),
            shift_start=start[order],
            shift_end=end[order],
            updated_at=(day[order] - 14) * DAY + 10 * HOUR,
            _loc=loc[order],
            _created=(day[order] - 14) * DAY + 10 * HOUR,
        ),
        n,
    )
