"""The day-by-day simulation of bookings: who books what, when, and what becomes of it.

Each day, in order: new leads arrive (some convert into a booking days later), new patients
book directly, queued bookings fall due (follow-ups, rebookings at checkout, reschedules,
reactivated patients), the day's bookings are fitted into capacity, and each booked
appointment's whole life is drawn - which in turn queues the patient's next booking. Every
draw comes from that day's stream and the state left by earlier days, so the rows of day D are
the same however far the simulation runs past D.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from demo import catalog, lifecycle
from demo.allocate import Allocator, open_day_near
from demo.config import ChainConfig
from demo.demand import (
    SERVICE_DEVICE,
    SERVICE_IS_CONSULT,
    SERVICE_SLOTS,
    daily_factor,
    pick_service,
    pick_target,
    size_factor,
)
from demo.followup import FollowUps
from demo.leads import draw_leads
from demo.locations import WARM_UP_DAYS, build_calendar
from demo.people import UNKNOWN_CALLERS
from demo.rand import Stream, day_rng
from demo.records import FAR, REQ_FIELDS, Grow, SimResult, requests
from demo.timeutil import DAY, HOUR, MINUTE, NA, weekday

#: Days of capacity beyond the horizon, so no booking ever reaches the calendar's end (which
#: would make early rows depend on how far the run goes).
CALENDAR_AHEAD = 450
DURATION = np.array([s.duration_min for s in catalog.SERVICES]) * MINUTE


class Simulation(FollowUps):
    def __init__(self, cfg: ChainConfig, horizon: int) -> None:
        self.cfg, self.horizon, self.seed = cfg, horizon, cfg.seed
        self.cal = build_calendar(cfg, horizon + CALENDAR_AHEAD)
        self.alloc = Allocator(self.cal)
        self.queue: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.pat = Grow(
            person=np.int64,
            loc=np.int64,
            created=np.int64,
            lead=np.int64,
            acq=np.int64,
            referred=np.int64,
            last_done=np.int64,
            chain_end=np.int64,
            react=np.int64,
        )
        self.apts: list[dict[str, np.ndarray]] = []
        self.lead_chunks: list[dict[str, np.ndarray]] = []
        self.react_chunks: list[dict[str, np.ndarray]] = []
        self.lead_person = Grow(person=np.int64)
        self.n_apts = self.n_leads = self.n_people = self.lost = 0
        self.speed = 0.6 + 1.4 * day_rng(self.seed, 0, Stream.LEADS).random(cfg.locations)
        self.speed[0] = 0.8

    # -- people -------------------------------------------------------------------------
    def _new_people(self, m: int) -> np.ndarray:
        out = np.arange(self.n_people, self.n_people + m)
        self.n_people += m
        if self.n_people >= UNKNOWN_CALLERS:
            raise ValueError(
                "too many synthetic people for the phone-number space; use fewer locations or years"
            )
        return out

    def _seed_existing(self) -> None:
        """Patients from before the data window, with their next visits already due."""
        cfg, rng = self.cfg, day_rng(self.seed, self.cfg.start_day, Stream.NEW_PATIENTS, 99)
        for loc in range(cfg.locations):
            if cfg.opening_day(loc) > cfg.start_day - 90:
                continue
            m = int(1300 * size_factor(self.cal, loc)[0])
            created = (cfg.start_day - rng.integers(30, 1000, m)) * DAY + rng.integers(
                9 * HOUR, 18 * HOUR, m
            )
            idx = self.pat.add(
                person=self._new_people(m),
                loc=np.full(m, loc),
                created=created,
                lead=np.full(m, -1),
                acq=np.full(m, -1),
                referred=np.full(m, -1),
                last_done=cfg.start_day - rng.integers(10, 170, m),
                chain_end=np.full(m, FAR),
                react=np.full(m, -FAR),
            )
            booked_day = cfg.start_day - WARM_UP_DAYS + rng.integers(0, WARM_UP_DAYS + 75, m)
            target = np.maximum(booked_day + rng.geometric(1 / 12, m), cfg.start_day)
            svc = pick_service(rng, catalog.RETURN_WEIGHTS, self.cal, np.full(m, loc), target)
            for d in np.unique(booked_day):
                s = booked_day == d
                self.queue[int(d)].append(
                    requests(
                        int(s.sum()),
                        patient=idx[s],
                        loc=np.full(s.sum(), loc),
                        target=target[s],
                        service=svc[s],
                        n_done=rng.integers(1, 7, s.sum()),
                    )
                )

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> SimResult:
        self._seed_existing()
        for b in range(self.cfg.start_day - WARM_UP_DAYS, self.horizon + 1):
            if b >= self.cfg.start_day:
                self._arrivals(b)
            sub = 0
            while self.queue.get(b):
                batch = self.queue.pop(b)
                self._book(b, {k: np.concatenate([c[k] for c in batch]) for k in REQ_FIELDS}, sub)
                sub += 1
            if weekday(b) == 2 and b >= self.cfg.start_day:
                self._reactivate(b)
        return self._result()

    def _arrivals(self, b: int) -> None:
        cfg, cal = self.cfg, self.cal
        factor = np.array([daily_factor(cfg, loc, b) for loc in range(cfg.locations)])
        size = size_factor(cal, np.arange(cfg.locations))
        rng = day_rng(self.seed, b, Stream.LEADS)
        leads = draw_leads(rng, cal, b, rng.poisson(5.6 * size * factor), self.speed)
        m = len(leads["loc"])
        if m:
            leads["lead_no"] = np.arange(self.n_leads, self.n_leads + m)
            leads["person"] = self._new_people(m)
            self.lead_person.add(person=leads["person"])
            self.n_leads += m
            self.lead_chunks.append(leads)
            conv = np.flatnonzero(leads["converted"] != NA)
            t = leads["converted"][conv]
            for d in np.unique(t // DAY):
                s = conv[t // DAY == d]
                self.queue[int(d)].append(
                    requests(
                        len(s),
                        lead=leads["lead_no"][s],
                        loc=leads["loc"][s],
                        booked_at=leads["converted"][s],
                        acq=leads["channel"][s],
                        channel=[
                            catalog.BOOKING_CHANNELS.index(catalog.LEAD_BOOKING_CHANNEL[c])
                            for c in leads["channel"][s]
                        ],
                        n_done=np.zeros(len(s)),
                    )
                )
        rng = day_rng(self.seed, b, Stream.NEW_PATIENTS)
        counts = rng.poisson(3.8 * size * factor)
        loc = np.repeat(np.arange(cfg.locations), counts)
        acq = rng.choice(
            len(catalog.DIRECT_ACQUISITION),
            size=len(loc),
            p=np.array(catalog.DIRECT_ACQUISITION_WEIGHTS) / 100,
        )
        acq_code = np.array(
            [
                catalog.LEAD_CHANNELS.index(c)
                if c in catalog.LEAD_CHANNELS
                else (6 if c == "other" else -1)
                for c in np.array(catalog.DIRECT_ACQUISITION, dtype=object)[acq]
            ],
            dtype=np.int64,
        )
        chan = np.select(
            [acq_code == 0, acq_code == 5, acq_code == 4],
            [1, 2, 0],
            np.where(rng.random(len(loc)) < 0.5, 1, 0),
        )
        self.queue[b].append(
            requests(len(loc), loc=loc, acq=acq_code, channel=chan, n_done=np.zeros(len(loc)))
        )

    def _book(self, b: int, r: dict[str, np.ndarray], sub: int) -> None:
        cal = self.cal
        rng = day_rng(self.seed, b, Stream.BOOKING, sub)
        n = len(r["loc"])
        hour = np.where(rng.random(n) < 0.85, 8 + 12 * rng.random(n), 20 + 3 * rng.random(n))
        r["booked_at"] = np.where(
            r["booked_at"] < 0, b * DAY + (hour * HOUR).astype(np.int64), r["booked_at"]
        )
        new = r["patient"] < 0
        if new.any():
            lead_person = self._lead_person(r["lead"][new])
            person = np.where(lead_person >= 0, lead_person, -1)
            fresh = person < 0
            person[fresh] = self._new_people(int(fresh.sum()))
            referred = np.where(
                (r["acq"][new] == 4) & (self.pat.n > 0),
                (rng.random(int(new.sum())) * self.pat.n).astype(np.int64),
                -1,
            )
            r["patient"][new] = self.pat.add(
                person=person,
                loc=r["loc"][new],
                created=r["booked_at"][new],
                lead=r["lead"][new],
                acq=r["acq"][new],
                referred=referred,
                last_done=np.full(int(new.sum()), NA),
                chain_end=np.full(int(new.sum()), FAR),
                react=np.full(int(new.sum()), -FAR),
            )
        walk_in = (r["channel"] == 2) & (r["target"] < 0)  # walk-ins want to be seen today
        tgt = np.where(r["target"] < 0, pick_target(rng, b, 8.0, n), r["target"])
        # Visits never fall before the data window (warm-up bookings included).
        first = max(b, self.cfg.start_day)
        r["target"] = np.where(
            walk_in, b, open_day_near(cal, r["loc"], np.maximum(tgt, first), not_before=first)
        )
        for first_visit, weights in (
            (True, catalog.FIRST_VISIT_WEIGHTS),
            (False, catalog.RETURN_WEIGHTS),
        ):
            need = (r["service"] < 0) & (new == first_visit)
            if need.any():
                r["service"][need] = pick_service(
                    rng, weights, cal, r["loc"][need], r["target"][need]
                )
        chan = r["channel"] < 0
        r["channel"][chan] = rng.choice(
            6, size=int(chan.sum()), p=[0.34, 0.46, 0.02, 0.12, 0.04, 0.02]
        )
        svc = r["service"]
        placed = self.alloc.place(
            day_rng(self.seed, b, Stream.ALLOCATE, sub),
            r["loc"],
            r["target"],
            SERVICE_DEVICE[svc],
            SERVICE_IS_CONSULT[svc],
            SERVICE_SLOTS[svc],
            r["booked_at"] + 30 * MINUTE,
        )
        ok = placed.room >= 0
        self.lost += int((~ok).sum())
        self.pat["chain_end"][r["patient"][~ok]] = b
        r = {k: v[ok] for k, v in r.items()}
        room, start, prov = placed.room[ok], placed.start[ok], placed.provider[ok]
        m = len(room)
        if not m:
            return
        svc = r["service"]
        end = start + DURATION[svc]
        is_new = r["n_done"] == 0
        lc = lifecycle.draw(
            day_rng(self.seed, b, Stream.LIFECYCLE, sub), r["booked_at"], start, end, is_new
        )
        apt_no = np.arange(self.n_apts, self.n_apts + m)
        self.n_apts += m
        dev = SERVICE_DEVICE[svc]
        device = np.where(dev >= 0, r["loc"] * 10 + dev, -1)
        self.apts.append(
            dict(
                apt_no=apt_no,
                patient=r["patient"],
                loc=r["loc"],
                provider=prov,
                room=room,
                service=svc,
                device=device,
                channel=r["channel"],
                booked=r["booked_at"],
                start=start,
                end=end,
                resched_from=r["resched_from"],
                n_done=r["n_done"],
                outcome=lc.outcome,
                conf_requested=lc.conf_requested,
                response=lc.response,
                responded=lc.responded,
                no_response_at=lc.no_response_at,
                checked_in=lc.checked_in,
                checked_out=lc.checked_out,
                cancelled=lc.cancelled,
                reason=lc.reason,
                no_show_at=lc.no_show_at,
            )
        )
        self._follow_up(b, sub, r, apt_no, start, prov, lc)

    def _lead_person(self, lead: np.ndarray) -> np.ndarray:
        out = np.full(len(lead), -1, dtype=np.int64)
        has = lead >= 0
        if has.any():
            out[has] = self.lead_person["person"][lead[has]]
        return out

    def _result(self) -> SimResult:
        def cat(chunks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
            if not chunks:
                return pd.DataFrame()
            return pd.DataFrame({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]})

        return SimResult(
            self.cfg,
            self.cal,
            self.horizon,
            cat(self.apts),
            self.pat.frame(),
            cat(self.lead_chunks),
            cat(self.react_chunks),
            self.lost,
        )


def simulate(cfg: ChainConfig, horizon: int) -> SimResult:
    """Run the booking simulation from the warm-up to `horizon` (a day number, inclusive)."""
    return Simulation(cfg, horizon).run()
