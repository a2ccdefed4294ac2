"""Memberships (story 3) and the fee invoices they generate.

From the launch, patients join at checkout (returning patients about twice as often as new
ones) on monthly, quarterly or annual plans, keep them for a geometric number of months
(about 3.5 % cancel a month) and are billed at the start of every period until they cancel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import catalog, lifecycle
from demo.billing import PLAN_IDS, PLAN_MONTHS, PLAN_PRICE, status_times
from demo.frames import frame, ids
from demo.pms import loc_ids, patient_ids
from demo.rand import Stream, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, MINUTE


def memberships(sim: SimResult) -> pd.DataFrame:
    """One membership per joining patient, joined at checkout after the launch."""
    a, seed = sim.appointments, sim.cfg.seed
    done = a[
        (a["outcome"] == lifecycle.COMPLETED)
        & (a["checked_out"] >= sim.cfg.membership_launch_day * DAY)
    ]
    u = keyed_uniform(seed, Stream.MEMBERSHIP, done["apt_no"].to_numpy())
    p = np.where(done["n_done"].to_numpy() == 0, 0.08, 0.17)
    join = done[u < p].sort_values(["checked_out", "apt_no"]).drop_duplicates("patient")
    n = len(join)
    apt = join["apt_no"].to_numpy()
    plan = keyed_choice(
        keyed_uniform(seed, Stream.MEMBERSHIP, apt, 1), [x[4] for x in catalog.PLANS]
    )
    started = join["checked_out"].to_numpy() // DAY
    # Monthly churn about 3.5 %: months kept is geometric; cancellation recorded days before.
    months = np.ceil(np.log(1 - keyed_uniform(seed, Stream.MEMBERSHIP, apt, 2)) / np.log(0.965))
    months = np.maximum(months, PLAN_MONTHS[plan]).astype(np.int64)
    cancelled_on = started + (months * 30.44).astype(np.int64)
    recorded = (
        cancelled_on - 1 - (keyed_uniform(seed, Stream.MEMBERSHIP, apt, 3) * 10).astype(int)
    ) * DAY + 15 * HOUR
    loc = join["loc"].to_numpy()
    return frame(
        dict(
            membership_id=ids("MEM", np.arange(1, n + 1), 6),
            patient_id=patient_ids(join["patient"].to_numpy()),
            plan_id=PLAN_IDS[plan],
            location_id=loc_ids(loc),
            started_on=started,
            cancelled_on=cancelled_on,
            status=np.full(n, "active", dtype=object),
            updated_at=join["checked_out"].to_numpy(),
            _loc=loc,
            _created=join["checked_out"].to_numpy(),
            _t_cancel=recorded,
            _plan=plan,
            _patient=join["patient"].to_numpy(),
        ),
        n,
    )


def membership_invoices(sim: SimResult, members: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fee invoice at the start of every billing period until the membership ends."""
    months = PLAN_MONTHS[members["_plan"].to_numpy()]
    start = members["started_on"].to_numpy()
    end = np.minimum(members["cancelled_on"].to_numpy(), sim.horizon + 1)
    periods = np.maximum((end - start) * 12 // (months * 365) + 1, 1)
    m = np.repeat(np.arange(len(members)), periods)
    k = np.arange(len(m)) - np.repeat(np.cumsum(periods) - periods, periods)
    day = start[m] + (k * months[m] * 30.44).astype(np.int64)
    ok = day < end[m]
    m, k, day = m[ok], k[ok], day[ok]
    issued = day * DAY + 7 * HOUR
    issued[k == 0] = members["_created"].to_numpy()[m[k == 0]] + MINUTE
    key = m * 1000 + k
    inv_id = (
        pd.Series(members["membership_id"].to_numpy()[m]).str.replace("MEM", "INV-M")
        + "-"
        + pd.Series(k).astype(str).str.zfill(3)
    ).to_numpy(dtype=object)
    loc = members["_loc"].to_numpy()[m]
    plan = members["_plan"].to_numpy()[m]
    n = len(m)
    inv = frame(
        dict(
            invoice_id=inv_id,
            location_id=loc_ids(loc),
            patient_id=members["patient_id"].to_numpy()[m],
            appointment_id=np.full(n, None),
            provider_id=np.full(n, None),
            issued_at=issued,
            status=np.full(n, "open", dtype=object),
            updated_at=issued,
            _loc=loc,
            _created=issued,
            **status_times(sim.cfg.seed, key, issued, 40),
        ),
        n,
    )
    lines = frame(
        dict(
            invoice_id=inv_id,
            line_type="membership_fee",
            service_id=np.full(n, None),
            product_id=np.full(n, None),
            plan_id=PLAN_IDS[plan],
            quantity=np.ones(n, np.int64),
            unit_price=PLAN_PRICE[plan].astype(np.int64),
            discount_amount=np.zeros(n, np.int64),
            cost_amount=np.zeros(n, np.int64),
            _created=issued,
            _loc=loc,
            _k=np.ones(n, int),
        ),
        n,
    )
    return inv, lines
