"""Locations, their open hours, closures, rooms, devices, providers and daily rosters.

These are the capacity the scheduler fills: an appointment needs an open hour, an active room
with the right device and the provider rostered in that room. Story lines live here too:
location 1 buys its laser mid-way (5), gets a new treatment room and retires another, and
changes its Saturday hours; with several locations the last one opens mid-way (4).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from demo import catalog
from demo.calendar import Calendar
from demo.config import ChainConfig
from demo.staff import add_providers, shifts
from demo.timeutil import DAY, HOUR, NA, day_number, to_date, weekday

DEVICE_TYPES = ("laser", "ipl", "body_contouring", "rf_microneedling")
#: weekday -> (open hour, close hour) for the three location templates; Sunday closed.
HOURS_TEMPLATES = (
    {1: (9, 19), 2: (9, 19), 3: (9, 19), 4: (9, 20), 5: (9, 19), 6: (9, 17)},
    {2: (10, 20), 3: (10, 20), 4: (10, 20), 5: (10, 19), 6: (9, 17)},
    {1: (9, 18), 2: (9, 18), 3: (9, 18), 4: (9, 19), 5: (9, 19), 6: (10, 16), 7: (11, 16)},
)
#: The scheduler starts this many days before the start date so the books are not empty.
WARM_UP_DAYS = 60


def _holidays(year: int) -> list[tuple[dt.date, str]]:
    def nth(month: int, wd: int, n: int) -> dt.date:
        d = dt.date(year, month, 1)
        d += dt.timedelta(days=(wd - d.isoweekday()) % 7)
        return d + dt.timedelta(weeks=n - 1)

    may_last = nth(5, 1, 4)
    if (may_last + dt.timedelta(weeks=1)).month == 5:
        may_last += dt.timedelta(weeks=1)
    return [
        (dt.date(year, 1, 1), "New Year's Day"),
        (may_last, "Memorial Day"),
        (dt.date(year, 7, 4), "Independence Day"),
        (nth(9, 1, 1), "Labor Day"),
        (nth(11, 4, 4), "Thanksgiving"),
        (dt.date(year, 12, 25), "Christmas Day"),
    ]


def _at(day: int, hour: float = 8.0) -> int:
    return int(day * DAY + hour * HOUR)


def build_calendar(cfg: ChainConfig, last_day: int) -> Calendar:
    """Capacity from (about a year before) the start to `last_day` plus booking lead room."""
    day0 = cfg.start_day - WARM_UP_DAYS
    n_days = last_day - day0 + 1
    days = np.arange(day0, day0 + n_days)
    n_loc = cfg.locations
    tables: dict[str, list[dict]] = {
        k: []
        for k in (
            "locations",
            "location_hours",
            "location_closures",
            "rooms",
            "devices",
            "providers",
        )
    }
    open_h = np.zeros((n_loc, n_days), np.int64)
    close_h = np.zeros((n_loc, n_days), np.int64)
    wd = weekday(days)
    years = range(to_date(day0).year, to_date(day0 + n_days).year + 1)
    holidays = [(day_number(d), r) for y in years for d, r in _holidays(y)]
    room_rows: list[tuple[int, int, str, int, int, int, int]] = []  # loc, kind, name, from, to...
    for loc in range(n_loc):
        opened = cfg.opening_day(loc)
        setup = _at(min(opened, cfg.start_day) - 30)
        tables["locations"].append(
            dict(
                location_id=f"LOC{loc + 1:02d}",
                name=f"Glow Aesthetics {catalog.CITIES[loc % 20]}"
                + (f" {loc // 20 + 1}" if loc >= 20 else ""),
                timezone=catalog.TIMEZONES[loc % len(catalog.TIMEZONES)],
                opened_on=opened,
                closed_on=NA,
                updated_at=setup,
                _loc=loc,
                _created=setup,
            )
        )
        template = HOURS_TEMPLATES[loc % 3]
        for w, (oh, ch) in template.items():
            versions = [(opened, NA, oh, ch)]
            if loc == 0 and w == 6:  # hours change: Saturday runs an hour later from mid-way
                versions = [
                    (opened, cfg.hours_change_day - 1, oh, ch),
                    (cfg.hours_change_day, NA, oh, ch + 1),
                ]
            for vf, vt, o, c in versions:
                created = setup if vf == opened else _at(vf - 21)
                row = dict(
                    location_id=f"LOC{loc + 1:02d}",
                    weekday=w,
                    valid_from=vf,
                    opens_at=f"{o:02d}:00",
                    closes_at=f"{c:02d}:00",
                    valid_to=vt,
                    updated_at=created,
                    _loc=loc,
                    _created=created,
                    _t_valid_to=NA if vt == NA else _at(vt - 20),
                )
                tables["location_hours"].append(row)
                sel = (wd == w) & (days >= vf) & ((vt == NA) | (days <= vt))
                open_h[loc, sel], close_h[loc, sel] = o, c
        open_h[loc, days < opened] = 0
        close_h[loc, days < opened] = 0
        closures = [(d, r) for d, r in holidays if d >= opened]
        if loc == 0:
            # A training day never falls on a holiday: one closure per (location, date) key.
            training = cfg.at_share(0.62)
            while any(d == training for d, _ in closures):
                training += 1
            closures.append((training, "Staff training day"))
        for d, reason in closures:
            tables["location_closures"].append(
                dict(
                    location_id=f"LOC{loc + 1:02d}",
                    closed_on=d,
                    reason=reason,
                    updated_at=_at(d - 30),
                    _loc=loc,
                    _created=_at(d - 30),
                )
            )
            if day0 <= d < day0 + n_days:
                open_h[loc, d - day0] = close_h[loc, d - day0] = 0
        n_tr = 3 + loc % 3
        for r in range(n_tr):
            retire = cfg.room_retire_day if (loc == 0 and r == 2) else NA
            room_rows.append((loc, 0, f"Treatment {r + 1}", opened, retire))
        if loc == 0:
            room_rows.append((loc, 0, f"Treatment {n_tr + 1}", cfg.room_open_day, NA))
        room_rows.append((loc, 1, "Consult room", opened, NA))
        room_rows.append((loc, 2, "Retail lounge", opened, NA))
    n_rooms = len(room_rows)
    room_loc = np.array([r[0] for r in room_rows])
    room_kind = np.array([r[1] for r in room_rows])
    room_active = np.zeros((n_rooms, n_days), bool)
    for i, (loc, kind, name, af, at) in enumerate(room_rows):
        room_active[i] = (days >= af) & ((at == NA) | (days <= at))
        created = _at(min(af, cfg.start_day) - 30) if af <= cfg.start_day else _at(af - 30)
        tables["rooms"].append(
            dict(
                room_id=f"RM{loc + 1:02d}{i:03d}",
                location_id=f"LOC{loc + 1:02d}",
                name=name,
                room_type=("treatment", "consult", "other")[kind],
                active_from=af,
                active_to=at,
                updated_at=created,
                _loc=loc,
                _created=created,
                _t_active_to=NA if at == NA else _at(at - 14),
            )
        )
    loc_treat = [np.flatnonzero((room_loc == loc) & (room_kind == 0)) for loc in range(n_loc)]
    consult = np.array(
        [np.flatnonzero((room_loc == loc) & (room_kind == 1))[0] for loc in range(n_loc)]
    )
    dev_room = np.full((n_loc, len(DEVICE_TYPES)), -1)
    dev_from = np.full((n_loc, len(DEVICE_TYPES)), 10**9)
    for loc in range(n_loc):
        t1, t2 = loc_treat[loc][0], loc_treat[loc][1]
        wanted = [(0, t1), (1, t2)]
        if loc % 2 == 0:
            wanted.append((2, t2))
        if loc % 3 != 2:
            wanted.append((3, t1))
        for dtype, room in wanted:
            bought = cfg.laser_purchase_day if (loc == 0 and dtype == 0) else cfg.opening_day(loc)
            dev_room[loc, dtype], dev_from[loc, dtype] = room, bought
            created = (
                _at(min(bought, cfg.start_day) - 20) if bought <= cfg.start_day else _at(bought, 11)
            )
            cost = (89_000, 42_000, 120_000, 38_000)[dtype] * 100
            tables["devices"].append(
                dict(
                    device_id=f"DEV{loc + 1:02d}{dtype + 1}",
                    location_id=f"LOC{loc + 1:02d}",
                    room_id=tables["rooms"][room]["room_id"],
                    name=(
                        "Alexandrite laser",
                        "IPL platform",
                        "Cryolipolysis system",
                        "RF microneedling system",
                    )[dtype],
                    device_type=DEVICE_TYPES[dtype],
                    purchase_cost=cost,
                    purchased_on=bought,
                    updated_at=created,
                    _loc=loc,
                    _created=created,
                )
            )
    cal = Calendar(
        day0,
        n_days,
        open_h,
        close_h,
        room_loc,
        room_kind,
        room_active,
        loc_treat,
        consult,
        dev_room,
        dev_from,
        np.full((n_rooms, n_days), -1),
        np.array([]),
        -1,
    )
    add_providers(cfg, cal, tables, days)
    cal.tables = {k: pd.DataFrame(v) for k, v in tables.items()}
    cal.tables["provider_shifts"] = shifts(cal, cfg.start_day)
    return cal
