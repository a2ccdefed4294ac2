"""An appointment's whole life, drawn the day it is booked.

booked -> confirmation requested 48 h ahead -> response (confirmed / reschedule requested /
cancelled / no response) -> checked in -> completed, or no-show, or cancelled early or late.
Drawing the future at booking time and revealing it only as time passes (snapshot.py) is what
lets any extract date show the row exactly as the clinic's PMS would have shown it then.
No-shows are likelier for new patients and for patients who never answered the confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo.timeutil import HOUR, MINUTE, NA

RESPONSES = ("confirmed", "reschedule_requested", "cancelled", "no_response")
CANCEL_REASONS = ("patient_request", "reschedule", "clinic", "other")
#: outcome codes
COMPLETED, NO_SHOW, CANCELLED = 0, 1, 2


@dataclass
class Lifecycle:
    outcome: np.ndarray
    conf_requested: np.ndarray
    response: np.ndarray  # index into RESPONSES, -1 = never asked
    responded: np.ndarray
    no_response_at: np.ndarray
    checked_in: np.ndarray
    checked_out: np.ndarray
    cancelled: np.ndarray
    reason: np.ndarray  # index into CANCEL_REASONS, -1
    no_show_at: np.ndarray


def draw(
    rng: np.random.Generator,
    booked: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    is_new: np.ndarray,
) -> Lifecycle:
    """Vectorised lifecycle of appointments booked at `booked` for [start, end)."""
    n = len(booked)
    u = rng.random((n, 8))
    na = np.full(n, NA, dtype=np.int64)
    asked = start - booked > 50 * HOUR
    req = np.where(asked, start - 48 * HOUR + (u[:, 0] * 40 - 20).astype(int) * MINUTE, NA)
    req = req.astype(np.int64)
    resp = np.where(asked, np.searchsorted(np.cumsum([0.63, 0.05, 0.05, 0.27]), u[:, 1]), -1)
    resp = np.minimum(resp, 3)
    delay = np.minimum(np.exp(np.log(50 * MINUTE) + 1.2 * rng.standard_normal(n)), 20 * HOUR)
    responded = np.where(asked & (resp < 3), req + delay.astype(np.int64), NA).astype(np.int64)
    no_resp_at = np.where(asked & (resp == 3), req + 24 * HOUR, NA).astype(np.int64)
    outcome = np.full(n, COMPLETED)
    cancelled, reason = na.copy(), np.full(n, -1)
    # Cancellations answered on the confirmation request.
    c = resp == 2
    outcome[c], cancelled[c], reason[c] = CANCELLED, responded[c], 0
    r = resp == 1
    outcome[r], reason[r] = CANCELLED, 1
    cancelled[r] = responded[r] + (5 + u[r, 2] * 55).astype(int) * MINUTE
    # Early and late cancellations by other routes.
    free = outcome == COMPLETED
    lead = start - booked
    early = free & (u[:, 3] < 0.055) & (lead > 30 * HOUR)
    late = free & ~early & (u[:, 3] > 1 - 0.035) & (lead > 3 * HOUR)
    t_early = booked + (u[:, 4] * (lead - 26 * HOUR)).astype(np.int64) + HOUR
    t_late = start - (HOUR + u[:, 4] * np.minimum(lead - 2 * HOUR, 22 * HOUR)).astype(np.int64)
    why = np.searchsorted(np.cumsum([0.55, 0.30, 0.05, 0.10]), u[:, 5]).clip(0, 3)
    for sel, t in ((early, t_early), (late, t_late)):
        outcome[sel], cancelled[sel], reason[sel] = CANCELLED, t[sel], why[sel]
    # A cancellation before the request means no request; before the answer, no answer.
    unasked = early & (req != NA) & (req >= t_early)
    req[unasked], resp[unasked], responded[unasked], no_resp_at[unasked] = NA, -1, NA, NA
    cut = (early | late) & (responded != NA) & (responded >= cancelled)
    resp[cut], responded[cut], no_resp_at[cut] = 3, NA, cancelled[cut]
    # No-shows: new patients and non-responders miss more.
    p_ns = np.where(resp == 3, 0.15, np.where(resp == 0, 0.035, 0.06)) * np.where(is_new, 1.6, 1)
    ns = (outcome == COMPLETED) & (u[:, 6] < p_ns)
    outcome[ns] = NO_SHOW
    done = outcome == COMPLETED
    cin = start + ((u[:, 7] * 20 - 12) * MINUTE).astype(np.int64)
    cout = end + (np.abs(rng.normal(7, 5, n)) * MINUTE).astype(np.int64)
    return Lifecycle(
        outcome=outcome,
        conf_requested=req.astype(np.int64),
        response=resp,
        responded=responded.astype(np.int64),
        no_response_at=no_resp_at.astype(np.int64),
        checked_in=np.where(done, cin, NA),
        checked_out=np.where(done, cout, NA),
        cancelled=cancelled,
        reason=reason,
        no_show_at=np.where(ns, end + 45 * MINUTE, NA),
    )
