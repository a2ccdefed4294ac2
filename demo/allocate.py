"""Fit booking requests into rooms, open hours and rostered providers.

Capacity is a boolean grid [room, day, half-hour]. Each request gets a handful of random
candidate slots (its target day first, then the next open days); the first free candidate
wins, and collisions inside one day's batch go to the request that came first. Requests that
find nothing are lost demand, as when a clinic is fully booked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo.calendar import Calendar
from demo.timeutil import DAY

SLOT = 1800  # seconds per capacity slot
SLOTS = 48
#: Day offset tried by each candidate attempt (target day first).
ATTEMPT_DAYS = np.array([0] * 8 + [1] * 4 + [2] * 3 + [3] * 3 + [5] * 2)


@dataclass
class Placed:
    room: np.ndarray  # -1 when no slot was found
    start: np.ndarray  # local seconds of the appointment start
    provider: np.ndarray


def next_open_day(cal: Calendar, loc: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The first day >= `day` the location is open (capped at the calendar's end)."""
    di = np.clip(day - cal.day0, 0, cal.n_days - 1)
    out = di.copy()
    todo = cal.close_h[loc, out] == 0
    for _ in range(14):
        if not todo.any():
            break
        out[todo] = np.minimum(out[todo] + 1, cal.n_days - 1)
        todo = cal.close_h[loc, out] == 0
    return out + cal.day0


def open_day_near(cal: Calendar, loc: np.ndarray, day: np.ndarray, not_before: int) -> np.ndarray:
    """`day` if open, else the open day before it (patients pick Saturday over Monday when the
    clinic is closed on Sunday), else the next open day."""
    di = np.clip(day - cal.day0, 1, cal.n_days - 1)
    closed = cal.close_h[loc, di] == 0
    back = closed & (cal.close_h[loc, di - 1] > 0) & (day - 1 >= not_before)
    out = np.where(back, day - 1, day)
    return np.where(closed & ~back, next_open_day(cal, loc, day), out)


class Allocator:
    """Holds the occupancy grid across the whole simulation (it is the scheduler's memory)."""

    def __init__(self, cal: Calendar) -> None:
        self.cal = cal
        self.occ = np.zeros((len(cal.room_loc), cal.n_days, SLOTS), dtype=bool)
        width = max(len(r) for r in cal.loc_treat_rooms)
        self.treat = np.full((len(cal.loc_treat_rooms), width), -1)
        for i, r in enumerate(cal.loc_treat_rooms):
            self.treat[i, : len(r)] = r
        self.n_treat = np.array([len(r) for r in cal.loc_treat_rooms])

    def place(
        self,
        rng: np.random.Generator,
        loc: np.ndarray,
        target: np.ndarray,
        device: np.ndarray,
        consult: np.ndarray,
        slots: np.ndarray,
        not_before: np.ndarray,
    ) -> Placed:
        """Place requests (device = device-type index or -1; slots = 1 or 2 half-hours)."""
        cal, n, a = self.cal, len(loc), len(ATTEMPT_DAYS)
        day = next_open_day(cal, np.repeat(loc, a), (target[:, None] + ATTEMPT_DAYS).ravel())
        day = day.reshape(n, a)
        di = day - cal.day0
        pick = (rng.random((n, a)) * self.n_treat[loc][:, None]).astype(int)
        room = self.treat[loc[:, None], pick]
        use_consult = consult[:, None] & (rng.random((n, a)) < 0.7)
        room = np.where(use_consult, cal.loc_consult_room[loc][:, None], room)
        has_dev = device >= 0
        dev_room = np.where(has_dev, cal.dev_room[loc, np.maximum(device, 0)], -1)
        dev_from = np.where(has_dev, cal.dev_from[loc, np.maximum(device, 0)], 0)
        room = np.where(has_dev[:, None], dev_room[:, None], room)
        oh = cal.open_h[loc[:, None], di] * 2
        ch = cal.close_h[loc[:, None], di] * 2
        span = np.maximum(ch - oh - slots[:, None] + 1, 0)
        # Afternoons book up first: square-root skew towards later slots.
        slot = oh + (np.sqrt(rng.random((n, a))) * span).astype(int)
        start = day * DAY + slot * SLOT
        ok = (room >= 0) & (span > 0) & (start >= not_before[:, None])
        ok &= ~has_dev[:, None] | (day >= dev_from[:, None])
        safe_room = np.maximum(room, 0)
        ok &= self.cal.room_active[safe_room, di] & (self.cal.roster[safe_room, di] >= 0)
        two1 = slots == 2
        two = two1[:, None]
        placed = np.full(n, -1)
        for _ in range(8):
            free = ok & ~self.occ[safe_room, di, slot]
            free &= ~two | ~self.occ[safe_room, di, np.minimum(slot + 1, SLOTS - 1)]
            todo = (placed < 0) & free.any(axis=1)
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            att = free[idx].argmax(axis=1)
            r, d, s = safe_room[idx, att], di[idx, att], slot[idx, att]
            keys = np.concatenate(
                [
                    (r * cal.n_days + d) * SLOTS + s,
                    ((r * cal.n_days + d) * SLOTS + s + 1)[two1[idx]],
                ]
            )
            owner = np.concatenate([np.arange(len(idx)), np.flatnonzero(two1[idx])])
            order = np.lexsort((owner, keys))
            first = np.ones(len(order), bool)
            first[1:] = keys[order][1:] != keys[order][:-1]
            lost = np.zeros(len(idx), bool)
            lost[owner[order][~first]] = True
            win = ~lost
            wi = idx[win]
            self.occ[r[win], d[win], s[win]] = True
            t = two1[idx] & win
            self.occ[r[t], d[t], s[t] + 1] = True
            placed[wi] = att[win]
        got = placed >= 0
        att = np.maximum(placed, 0)
        rows = np.arange(n)
        out_room = np.where(got, room[rows, att], -1)
        out_start = np.where(got, start[rows, att], 0)
        prov = np.where(got, cal.roster[safe_room[rows, att], di[rows, att]], -1)
        return Placed(out_room, out_start, prov)
