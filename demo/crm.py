"""CRM rows: leads (with their later conversion or loss) and daily marketing spend.

Spend is per day x location x channel x campaign, with seasonal campaigns (summer body,
holiday glow) switched on only in their months; its channels match the patients' acquisition
channels so cost per acquired patient can be computed by channel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import catalog
from demo.demand import daily_factor, size_factor
from demo.frames import frame, ids
from demo.leads import CATEGORIES
from demo.people import format_email, format_phone, people
from demo.pms import loc_ids, patient_ids
from demo.rand import Stream, day_rng, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, NA, month_of


def lead_ids(lead_no: np.ndarray) -> np.ndarray:
    return ids("LD", np.asarray(lead_no) + 1, 7)


def leads(sim: SimResult) -> pd.DataFrame:
    ld = sim.leads
    n = len(ld)
    if not n:
        return pd.DataFrame()
    seed = sim.cfg.seed
    who = people(seed, ld["person"].to_numpy())
    no = ld["lead_no"].to_numpy()
    u1 = keyed_uniform(seed, Stream.LEADS, no, 1)
    u2 = keyed_uniform(seed, Stream.LEADS, no, 2)
    pat = sim.patients
    conv_patient = pd.Series(np.arange(len(pat)), index=pat["lead"].to_numpy())
    conv_patient = conv_patient[conv_patient.index >= 0]
    patient = conv_patient.reindex(no).to_numpy()
    converted = ld["converted"].to_numpy()
    has_patient = ~np.isnan(patient)
    patient_id = np.where(has_patient, patient_ids(np.nan_to_num(patient).astype(np.int64)), None)
    channel = ld["channel"].to_numpy()
    email = format_email(who["email"], keyed_choice(u1, [40, 35, 10, 15]))
    interest = ld["interest"].to_numpy()
    return frame(
        dict(
            lead_id=lead_ids(no),
            location_id=loc_ids(ld["loc"].to_numpy()),
            created_at=ld["created"].to_numpy(),
            channel=np.array(catalog.LEAD_CHANNELS, dtype=object)[channel],
            campaign=ld["campaign"].to_numpy(dtype=object),
            first_name=who["first_name"].to_numpy(),
            last_name=who["last_name"].to_numpy(),
            email=email,
            phone=format_phone(
                who["digits"], np.array([0, 2, 3, 4])[keyed_choice(u2, [40, 25, 15, 20])]
            ),
            interested_category=np.where(
                interest >= 0, np.array(CATEGORIES, dtype=object)[np.maximum(interest, 0)], None
            ),
            patient_id=patient_id,
            status=np.full(n, "new", dtype=object),
            updated_at=ld["created"].to_numpy(),
            _loc=ld["loc"].to_numpy(),
            _created=ld["created"].to_numpy(),
            _t_contacted=ld["response"].to_numpy(),
            _t_converted=np.where(has_patient, converted, NA).astype(np.int64),
            _t_lost=ld["lost"].to_numpy(),
        ),
        n,
    )


def marketing_spend(sim: SimResult) -> pd.DataFrame:
    cfg, cal = sim.cfg, sim.cal
    days = np.arange(cfg.start_day, sim.horizon + 1)
    months = month_of(days)
    rows = []
    size = size_factor(cal, np.arange(cfg.locations))
    for d, m in zip(days, months, strict=True):
        rng = day_rng(cfg.seed, int(d), Stream.SPEND)
        u = rng.random((cfg.locations, len(catalog.CAMPAIGNS)))
        for loc in range(cfg.locations):
            f = daily_factor(cfg, loc, int(d))
            if f == 0:
                continue
            for c, (channel, campaign, mean, m0, m1) in enumerate(catalog.CAMPAIGNS):
                if m0 <= m <= m1:
                    amount = round(1.7 * mean * size[loc] * f * (0.6 + 0.8 * u[loc, c]) * 100)
                    rows.append((int(d), loc, channel, campaign, amount))
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows, columns=["spend_date", "_loc", "channel", "campaign", "amount"])
    t = df["spend_date"].to_numpy() * DAY + 23 * HOUR
    return frame(
        dict(
            spend_date=df["spend_date"].to_numpy(),
            location_id=loc_ids(df["_loc"].to_numpy()),
            channel=df["channel"].to_numpy(dtype=object),
            campaign=df["campaign"].to_numpy(dtype=object),
            amount=df["amount"].to_numpy(np.int64),
            updated_at=t,
            _loc=df["_loc"].to_numpy(),
            _created=t,
        ),
        len(df),
    )
