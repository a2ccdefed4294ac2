"""Phone-system rows: the clinic's inbound and outbound calls.

Inbound calls come mostly in open hours from existing patients (their number written the phone
system's way) or from unknown numbers; about one in nine is missed, abandoned or goes to
voicemail, more after hours, where an AI receptionist picks up some. Story 1: from seven weeks
before the first snapshot one location's missed-call rate climbs from about 11 % to over 35 %.
Lead calls (inbound from phone leads, outbound first responses) and outbound escalations of
unanswered confirmation requests come from the simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.demand import WEEKDAY_WEIGHT, daily_factor, size_factor
from demo.frames import frame
from demo.people import UNKNOWN_CALLERS, format_phone, phone_digits
from demo.pms import loc_ids
from demo.rand import Stream, day_rng, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, MINUTE, NA, weekday

OUTCOMES = np.array(
    ["answered", "missed", "abandoned", "voicemail", "busy", "failed"], dtype=object
)
MISS_MIX = [0, 45, 15, 35, 3, 2]
SOURCES = np.array(
    [None, "google_ads", "website", "google_business_profile", "instagram"], dtype=object
)


def number_style(u: np.ndarray) -> np.ndarray:
    """Phone-system formats: mostly E.164, some bare digits, a few pretty-printed."""
    return np.array([3, 2, 0])[keyed_choice(u, [60, 28, 12])]


def miss_probability(sim: SimResult, loc: np.ndarray, day: np.ndarray) -> np.ndarray:
    cfg = sim.cfg
    p = np.full(len(loc), 0.085)
    story = (loc == cfg.missed_call_location) & (day >= cfg.missed_call_story_day)
    ramp = np.clip((day - cfg.missed_call_story_day) / 49, 0, 1)
    return np.where(story, 0.14 + 0.24 * ramp, p)


def _general_inbound(sim: SimResult) -> dict[str, np.ndarray]:
    cfg, cal, pat = sim.cfg, sim.cal, sim.patients
    by_loc = [pat.index[pat["loc"] == loc].to_numpy() for loc in range(cfg.locations)]
    order = [np.argsort(pat["created"].to_numpy()[i], kind="stable") for i in by_loc]
    by_loc = [i[o] for i, o in zip(by_loc, order, strict=True)]
    created = [pat["created"].to_numpy()[i] for i in by_loc]
    chunks = []
    size = size_factor(cal, np.arange(cfg.locations))
    for d in range(cfg.start_day, sim.horizon + 1):
        di = d - cal.day0
        lam = np.array([14 * size[i] * daily_factor(cfg, i, d) for i in range(cfg.locations)])
        lam *= WEEKDAY_WEIGHT[weekday(d)] * np.where(cal.close_h[:, di] > 0, 1.0, 0.25)
        rng = day_rng(cfg.seed, d, Stream.CALLS)
        n = rng.poisson(lam)
        loc = np.repeat(np.arange(cfg.locations), n)
        k = np.concatenate([np.arange(x) for x in n]) if len(loc) else np.array([], int)
        oh, ch = cal.open_h[loc, di], cal.close_h[loc, di]
        in_hours = (ch > 0) & (rng.random(len(loc)) < 0.9)
        hour = np.where(
            in_hours,
            oh + rng.random(len(loc)) * (ch - oh),
            np.where(
                rng.random(len(loc)) < 0.5,
                7 + rng.random(len(loc)) * 2,
                np.minimum(np.maximum(ch, 18) + rng.random(len(loc)) * 3, 23.9),
            ),
        )
        t = d * DAY + (hour * HOUR).astype(np.int64)
        u = rng.random((len(loc), 4))
        patient = np.full(len(loc), -1)
        for i in range(cfg.locations):
            s = loc == i
            cnt = np.searchsorted(created[i], t[s])
            pick = (u[s, 0] * cnt).astype(np.int64)
            known = (u[s, 1] < 0.62) & (cnt > 0)
            patient[np.flatnonzero(s)[known]] = by_loc[i][pick[known]]
        chunks.append(
            dict(
                day=np.full(len(loc), d),
                loc=loc,
                k=k,
                t=t,
                patient=patient,
                in_hours=in_hours,
                u=u[:, 2],
                u2=u[:, 3],
            )
        )
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}


def calls(sim: SimResult) -> pd.DataFrame:
    seed = sim.cfg.seed
    g = _general_inbound(sim)
    person = np.where(
        g["patient"] >= 0, sim.patients["person"].to_numpy()[np.maximum(g["patient"], 0)], -1
    )
    unknown_digits = phone_digits(
        (keyed_uniform(seed, Stream.CALLS, g["day"], g["loc"], g["k"]) * 10_000).astype(np.int64)
        + UNKNOWN_CALLERS
    )
    digits = np.where(
        person >= 0,
        phone_digits(np.maximum(person, 0)).to_numpy(dtype=object),
        unknown_digits.to_numpy(dtype=object),
    )
    p_miss = np.where(g["in_hours"], miss_probability(sim, g["loc"], g["day"]), 0.45)
    missed = g["u"] < p_miss
    outcome = np.where(missed, keyed_choice(g["u2"], MISS_MIX), 0)
    by_ai = ~g["in_hours"] | (g["u2"] < 0.12)
    date = pd.Series(g["day"].astype("datetime64[D]")).dt.strftime("%Y%m%d")
    call_id = (
        "CAL-G"
        + date
        + "-"
        + pd.Series(g["loc"] + 1).astype(str).str.zfill(2)
        + "-"
        + pd.Series(g["k"]).astype(str).str.zfill(3)
    ).to_numpy(dtype=object)
    src = keyed_choice(
        keyed_uniform(seed, Stream.CALLS, g["day"], g["loc"], g["k"], 7), [25, 25, 20, 20, 10]
    )
    general = _rows(
        call_id,
        g["loc"],
        "inbound",
        pd.Series(digits),
        g["t"],
        outcome,
        np.where(by_ai, 1, 0),
        SOURCES[src],
        seed,
    )
    return pd.concat([general, _lead_calls(sim), _escalations(sim)], ignore_index=True).sort_values(
        "call_id", ignore_index=True
    )


def _rows(
    call_id: np.ndarray,
    loc: np.ndarray,
    direction: str,
    digits: pd.Series,
    started: np.ndarray,
    outcome: np.ndarray,
    by: np.ndarray,
    source: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    n = len(call_id)
    key = np.arange(n) + started % 100_000
    u = keyed_uniform(seed, Stream.CALLS, key, started)
    answered = outcome == 0
    ring = (8 + 25 * u).astype(np.int64)
    talk = np.exp(
        np.log(3 * MINUTE) + 0.8 * (keyed_uniform(seed, Stream.CALLS, key, 3) - 0.5) * 3
    ).astype(np.int64)
    ended = np.where(
        answered,
        started + ring + talk,
        started + np.where(outcome == 3, 75, np.where(outcome == 2, 12, 30)),
    )
    return frame(
        dict(
            call_id=call_id,
            location_id=loc_ids(loc),
            direction=np.full(n, direction, dtype=object),
            external_number=format_phone(
                digits, number_style(keyed_uniform(seed, Stream.CALLS, key, 5))
            ),
            started_at=started,
            answered_at=np.where(answered, started + ring, NA).astype(np.int64),
            ended_at=ended.astype(np.int64),
            outcome=OUTCOMES[outcome],
            answered_by=np.where(
                answered, np.array(["staff", "ai_receptionist"], dtype=object)[by], None
            ),
            tracking_source=source,
            updated_at=ended.astype(np.int64),
            _loc=loc,
            _created=ended.astype(np.int64),
        ),
        n,
    )


def _lead_calls(sim: SimResult) -> pd.DataFrame:
    ld = sim.leads
    if not len(ld):
        return pd.DataFrame()
    digits = phone_digits(ld["person"].to_numpy())
    no = ld["lead_no"].to_numpy()
    lead_tag = pd.Series(no + 1).astype(str).str.zfill(7)
    parts = []
    phone_lead = ld["channel"].to_numpy() == 2
    answered_in = ld["method"].to_numpy() == 2
    s = phone_lead
    parts.append(
        _rows(
            ("CAL-L" + lead_tag[s] + "-1").to_numpy(dtype=object),
            ld["loc"].to_numpy()[s],
            "inbound",
            digits[s],
            ld["created"].to_numpy()[s],
            np.where(answered_in[s], 0, 3),
            np.zeros(int(s.sum()), int),
            np.full(int(s.sum()), "google_ads", dtype=object),
            sim.cfg.seed,
        )
    )
    s = (ld["method"].to_numpy() == 0) & (ld["response"].to_numpy() != NA)
    ok = ld["call_answered"].to_numpy()[s]
    parts.append(
        _rows(
            ("CAL-L" + lead_tag[s] + "-2").to_numpy(dtype=object),
            ld["loc"].to_numpy()[s],
            "outbound",
            digits[s],
            ld["response"].to_numpy()[s],
            np.where(ok, 0, 3),
            np.zeros(int(s.sum()), int),
            np.full(int(s.sum()), None),
            sim.cfg.seed,
        )
    )
    return pd.concat(parts, ignore_index=True)


def _escalations(sim: SimResult) -> pd.DataFrame:
    """Front desk calls patients who never answered the confirmation text (60 % of them)."""
    a = sim.appointments
    t = a["no_response_at"].to_numpy() + HOUR
    u = keyed_uniform(sim.cfg.seed, Stream.CALLS, a["apt_no"].to_numpy(), 11)
    tod = t % DAY
    s = (a["no_response_at"].to_numpy() != NA) & (u < 0.6) & (tod > 9 * HOUR) & (tod < 19 * HOUR)
    s &= (a["cancelled"].to_numpy() == NA) | (a["cancelled"].to_numpy() > t)
    person = sim.patients["person"].to_numpy()[a["patient"].to_numpy()[s]]
    tag = pd.Series(a["apt_no"].to_numpy()[s] + 1).astype(str).str.zfill(8)
    return _rows(
        ("CAL-A" + tag).to_numpy(dtype=object),
        a["loc"].to_numpy()[s],
        "outbound",
        phone_digits(person),
        t[s] + (u[s] * 20 * MINUTE).astype(np.int64),
        np.where(u[s] < 0.27, 0, 3),
        np.zeros(int(s.sum()), int),
        np.full(int(s.sum()), None),
        sim.cfg.seed,
    )
