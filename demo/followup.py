"""What a patient does next, decided the day an appointment is booked.

A completed visit leads to another with a probability that depends on the visit (a
consultation converts to treatment about half the time; first visits keep fewer patients than
later ones), after a gap typical of the service (neurotoxin every three months or so). Some
patients rebook at checkout (less with story 2's weak rebooker, less when new); the others
book again days before the next visit. No-shows and cancellations sometimes rebook; a
reschedule request is mostly captured as a new appointment linked to the old one. Weekly,
lapsed patients (no visit in 180 days) get a win-back text and some come back.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from demo import catalog, lifecycle
from demo.calendar import Calendar
from demo.demand import (
    SERVICE_GAP,
    SERVICE_IS_CONSULT,
    pick_service,
    prefer_weekday,
)
from demo.rand import Stream, day_rng
from demo.records import FAR, Grow, requests
from demo.timeutil import DAY, HOUR, MINUTE, NA


class Simulation(Protocol):
    """What the mixin reads of the `Simulation` it is mixed into.

    Declared here rather than imported from `demo.simulate`, which imports this module: the
    mixin depends on this shape only, so the two modules no longer import each other.
    """

    seed: int
    cal: Calendar
    pat: Grow
    queue: dict[int, list[dict[str, np.ndarray]]]
    react_chunks: list[dict[str, np.ndarray]]


#: Follow-ups are planned at most this many days ahead.
MAX_GAP = 365


class FollowUps:
    """Mixed into `Simulation`: queues each patient's next booking."""

    def _follow_up(
        self: Simulation,
        b: int,
        sub: int,
        r: dict[str, np.ndarray],
        apt_no: np.ndarray,
        start: np.ndarray,
        prov: np.ndarray,
        lc: lifecycle.Lifecycle,
    ) -> None:
        """Queue each patient's next booking from how this appointment turns out."""
        rng = day_rng(self.seed, b, Stream.FOLLOW_UP, sub)
        n, svc, pat, loc = len(apt_no), r["service"], r["patient"], r["loc"]
        u = rng.random((n, 6))
        visit = start // DAY
        done = lc.outcome == lifecycle.COMPLETED
        consult = SERVICE_IS_CONSULT[svc]
        first = r["n_done"] == 0
        cont = done & (u[:, 0] < np.where(consult, 0.55, np.where(first, 0.74, 0.87)))
        gap = np.where(consult, 3 + 40 * u[:, 1], SERVICE_GAP[svc] * rng.gamma(4, 0.25, n))
        target = prefer_weekday(rng, visit + np.clip(gap, 2, MAX_GAP).astype(np.int64))
        p_rebook = np.where(prov == self.cal.weak_rebooker, 0.10, np.where(first, 0.40, 0.56))
        rebook = cont & (u[:, 2] < p_rebook)
        booked_at = np.full(n, -1, dtype=np.int64)
        booked_at[rebook] = np.maximum(
            lc.checked_out[rebook] + ((u[rebook, 3] * 20 - 8) * MINUTE).astype(np.int64),
            lc.checked_in[rebook] + HOUR // 2,
        )
        book_day = np.maximum(visit + 1, target - rng.geometric(1 / 10, n))
        book_day = np.where(rebook, visit, book_day)
        ns = (lc.outcome == lifecycle.NO_SHOW) & (u[:, 0] < 0.5)
        book_day = np.where(ns, visit + 1 + (u[:, 3] * 3).astype(int), book_day)
        target = np.where(ns, visit + 3 + (u[:, 1] * 18).astype(int), target)
        canc = lc.outcome == lifecycle.CANCELLED
        resched = canc & (lc.reason == 1) & (u[:, 0] < 0.82)
        booked_at[resched] = lc.cancelled[resched] + ((2 + u[resched, 3] * 90) * MINUTE).astype(
            np.int64
        )
        book_day = np.where(resched, booked_at // DAY, book_day)
        target = np.where(
            resched, np.maximum(visit + 2 + (u[:, 1] * 12).astype(int), booked_at // DAY), target
        )
        other = canc & ~resched & (lc.reason != 1) & (u[:, 0] < 0.45)
        cday = np.where(canc, lc.cancelled // DAY, visit)
        book_day = np.where(other, cday + 1 + (u[:, 3] * 6).astype(int), book_day)
        target = np.where(other, cday + 8 + (u[:, 1] * 30).astype(int), target)
        go = cont | ns | resched | other
        next_svc = np.where(resched | ns | (~consult & (u[:, 4] < 0.65)), svc, -1)
        # Consultations convert into treatments: pick one now (no consult twice in a row).
        conv = go & consult & (next_svc < 0)
        if conv.any():
            w = np.array(catalog.RETURN_WEIGHTS, float) * ~SERVICE_IS_CONSULT
            next_svc[conv] = pick_service(rng, tuple(w), self.cal, loc[conv], target[conv])
        n_done = r["n_done"] + done
        self.pat["last_done"][pat[done]] = visit[done]
        self.pat["chain_end"][pat] = np.where(go, FAR, np.where(canc, cday, visit))
        channel = np.where(rebook, 2, np.where(resched, np.where(u[:, 5] < 0.6, 3, 0), -1))
        for d in np.unique(book_day[go]):
            s = go & (book_day == d)
            self.queue[int(d)].append(
                requests(
                    int(s.sum()),
                    patient=pat[s],
                    loc=loc[s],
                    target=target[s],
                    service=next_svc[s],
                    n_done=n_done[s],
                    booked_at=booked_at[s],
                    channel=channel[s],
                    resched_from=np.where(resched[s], apt_no[s], -1),
                )
            )

    def _reactivate(self: Simulation, b: int) -> None:
        """Weekly win-back texts to lapsed patients (no visit in 180 days); some come back."""
        p, n = self.pat, self.pat.n
        lapsed = np.flatnonzero(
            (p["chain_end"][:n] <= b)
            & (p["last_done"][:n] != NA)
            & (p["last_done"][:n] <= b - 180)
            & (p["react"][:n] < b - 365)
        )
        if not len(lapsed):
            return
        rng = day_rng(self.seed, b, Stream.REACTIVATION)
        m = len(lapsed)
        sent = b * DAY + 10 * HOUR + (rng.random(m) * 4 * HOUR).astype(np.int64)
        back = rng.random(m) < 0.14
        p["react"][lapsed] = b
        self.react_chunks.append(
            dict(patient=lapsed, sent=sent, returned=back, loc=p["loc"][lapsed])
        )
        day = b + 1 + (rng.random(m) * 20).astype(int)
        p["chain_end"][lapsed[back]] = FAR
        for d in np.unique(day[back]):
            s = back & (day == d)
            self.queue[int(d)].append(
                requests(
                    int(s.sum()),
                    patient=lapsed[s],
                    loc=p["loc"][lapsed[s]],
                    n_done=np.ones(s.sum()),
                    channel=np.full(s.sum(), 3),
                )
            )
