"""A day's new leads and how each one's story ends.

Leads arrive by channel (web form, Instagram, phone, Google Business Profile, referral, walk-in),
a third of them after hours. The clinic answers by call or text in minutes during open hours
and the next morning otherwise (each location has its own speed), reaches some within 15
minutes, converts a share into patients days later (the patient record reuses the lead's phone
and e-mail, written differently) and marks others lost after a few weeks.
"""

from __future__ import annotations

import numpy as np

from demo import catalog
from demo.allocate import next_open_day
from demo.calendar import Calendar
from demo.timeutil import DAY, HOUR, MINUTE, NA

CONVERSION = np.array([0.30, 0.24, 0.45, 0.36, 0.58, 0.72])  # per LEAD_CHANNELS
CATEGORIES = ("neurotoxin", "filler", "laser", "body_contouring", "skin_treatment", "facial")
CAMPAIGN_OF = {
    "web_form": ("google_search_brand", "google_search_injectables"),
    "instagram": ("ig_always_on",),
    "google_business_profile": ("gbp_local_ads",),
    "referral": ("refer_a_friend",),
}


def _lognormal(rng: np.random.Generator, median_s: float, sigma: float, n: int) -> np.ndarray:
    return np.exp(np.log(median_s) + sigma * rng.standard_normal(n)).astype(np.int64)


def draw_leads(
    rng: np.random.Generator, cal: Calendar, day: int, counts: np.ndarray, speed: np.ndarray
) -> dict[str, np.ndarray]:
    """Leads for one day: `counts[loc]` leads per location; `speed[loc]` scales response time."""
    loc = np.repeat(np.arange(len(counts)), counts)
    n = len(loc)
    u = rng.random((n, 10))
    ch = np.searchsorted(np.cumsum(catalog.LEAD_CHANNEL_WEIGHTS) / 100, u[:, 0]).clip(0, 5)
    office = u[:, 1] < 0.68
    hour = np.where(office, 8 + 12 * u[:, 2], (20 + 10 * u[:, 2]) % 24)
    created = day * DAY + (hour * HOUR).astype(np.int64)
    di = day - cal.day0
    oh, close = cal.open_h[loc, di] * HOUR, cal.close_h[loc, di] * HOUR
    tod = created - day * DAY
    in_hours = (close > 0) & (tod >= oh) & (tod < close)
    next_day = next_open_day(cal, loc, np.full(n, day + 1))
    next_open = np.where(
        (close > 0) & (tod < oh),
        day * DAY + oh,
        next_day * DAY + cal.open_h[loc, next_day - cal.day0] * HOUR,
    )
    delay = (_lognormal(rng, 14 * MINUTE, 1.1, n) * speed[loc]).astype(np.int64)
    response = np.where(in_hours, created + delay, next_open + _lognormal(rng, 25 * MINUTE, 0.9, n))
    method = np.where(u[:, 3] < 0.55, 0, 1)  # 0 outbound call, 1 text, 2 answered inbound call
    phone_ch = ch == 2
    answered_in = phone_ch & (u[:, 4] < 0.8)
    method[answered_in] = 2
    response[answered_in] = created[answered_in] + (10 + 30 * u[answered_in, 5]).astype(int)
    walk = ch == 5
    method[walk] = 1
    response[walk] = created[walk] + (2 + 4 * u[walk, 5]).astype(int) * MINUTE
    never = (u[:, 6] < 0.06) & ~answered_in & ~walk
    response[never] = NA
    call_answered = (method == 2) | ((method == 0) & (u[:, 7] < 0.6))
    reply = np.where(
        (method == 1) & (u[:, 7] < 0.45) & ~never,
        response + _lognormal(rng, 9 * MINUTE, 1.0, n),
        NA,
    )
    p_conv = np.where(never, 0.05, CONVERSION[ch])
    converts = u[:, 8] < p_conv
    base = np.where(never, created, response)
    conv = np.where(walk, created + 15 * MINUTE, base + _lognormal(rng, 1.2 * DAY, 1.0, n))
    conv = np.where(converts, conv, NA)
    lost = np.where(
        ~converts & (u[:, 9] < 0.6),
        created + ((14 + 31 * rng.random(n)) * DAY).astype(np.int64),
        NA,
    )
    cat = rng.integers(0, len(CATEGORIES), n)
    camp_u = rng.random(n)
    campaign = np.empty(n, dtype=object)
    for c, names in CAMPAIGN_OF.items():
        sel = ch == catalog.LEAD_CHANNELS.index(c)
        campaign[sel] = np.array(names, dtype=object)[(camp_u[sel] * len(names)).astype(int)]
    interest = np.where(rng.random(n) < 0.8, cat, -1)
    # drawn and unused: the seeded stream after it stays what it was when 40 % of phone leads
    # carried no e-mail (the landing contract requires one on every lead)
    rng.random(n)
    return {
        "loc": loc,
        "created": created,
        "channel": ch,
        "campaign": campaign,
        "response": response.astype(np.int64),
        "method": method,
        "call_answered": call_answered & ~never,
        "reply": reply.astype(np.int64),
        "converted": conv.astype(np.int64),
        "lost": lost.astype(np.int64),
        "interest": interest,
    }
