"""A simulated table as the source system would have shown it at the end of one day.

Each table has a `Timeline`: which columns stay null until a state change happens
(`reveal`), and how its status column moves (`status`: the first visible event in priority
order wins, else the initial value). `updated_at` is the latest change at or before the
cutoff. A nightly delta is then simply the rows whose `updated_at` falls inside that day,
which is why applying deltas with the merge rule reproduces the later snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from demo.timeutil import DAY, NA


@dataclass(frozen=True)
class Timeline:
    reveal: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    initial: str | None = None
    events: tuple[tuple[str, str], ...] = ()


TIMELINES: dict[str, Timeline] = {
    "pms.location_hours": Timeline(reveal={"valid_to": "_t_valid_to"}),
    "pms.rooms": Timeline(reveal={"active_to": "_t_active_to"}),
    "pms.providers": Timeline(reveal={"terminated_on": "_t_terminated_on"}),
    "pms.appointments": Timeline(
        reveal={
            c: c
            for c in (
                "confirmation_requested_at",
                "confirmation_responded_at",
                "checked_in_at",
                "checked_out_at",
                "cancelled_at",
            )
        }
        | {"confirmation_response": "_t_response", "cancellation_reason": "cancelled_at"},
        status="status",
        initial="booked",
        events=(
            ("cancelled", "cancelled_at"),
            ("no_show", "_t_no_show"),
            ("completed", "checked_out_at"),
            ("checked_in", "checked_in_at"),
            ("confirmed", "_t_confirmed"),
        ),
    ),
    "pms.intake_forms": Timeline(reveal={"completed_at": "completed_at"}),
    "pms.memberships": Timeline(
        reveal={"cancelled_on": "_t_cancel"},
        status="status",
        initial="active",
        events=(("cancelled", "_t_cancel"),),
    ),
    "pos.invoices": Timeline(
        status="status",
        initial="open",
        events=(("refunded", "_t_refund"), ("void", "_t_void"), ("paid", "_t_paid")),
    ),
    "messaging.messages": Timeline(reveal={"link_clicked_at": "link_clicked_at"}),
    "crm.leads": Timeline(
        reveal={"patient_id": "_t_converted"},
        status="status",
        initial="new",
        events=(("booked", "_t_converted"), ("lost", "_t_lost"), ("contacted", "_t_contacted")),
    ),
    "reviews.surveys": Timeline(
        reveal={"responded_at": "responded_at", "nps_score": "responded_at"}
    ),
}


def _seen(t: np.ndarray, cutoff: int) -> np.ndarray:
    return (t != NA) & (t < cutoff)


def as_of(df: pd.DataFrame, name: str, cutoff: int) -> pd.DataFrame:
    """Rows created before `cutoff` (local seconds), each in its state at that moment."""
    tl = TIMELINES.get(name, Timeline())
    created = df["_created"].to_numpy()
    out = df[created < cutoff].copy()
    updated = out["_created"].to_numpy().copy()
    times = {c: out[c].to_numpy() for c in set(tl.reveal.values()) | {t for _, t in tl.events}}
    seen = {c: _seen(t, cutoff) for c, t in times.items()}
    for c, seen_t in seen.items():
        updated = np.where(seen_t, np.maximum(updated, times[c]), updated)
    for col, tcol in tl.reveal.items():
        hide = ~seen[tcol]
        values = out[col].to_numpy()
        if values.dtype == object:
            out[col] = np.where(hide, None, values)
        else:
            out[col] = np.where(hide, NA, values)
    if tl.status:
        status = np.full(len(out), tl.initial, dtype=object)
        for value, tcol in reversed(tl.events):
            status[seen[tcol]] = value
        out[tl.status] = status
    out["updated_at"] = updated.astype(np.int64)
    return out


def delta(df: pd.DataFrame, name: str, day: int) -> pd.DataFrame:
    """Rows created or changed during local day `day`, in their end-of-day state."""
    snap = as_of(df, name, (day + 1) * DAY)
    return snap[snap["updated_at"].to_numpy() >= day * DAY]
