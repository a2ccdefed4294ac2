"""Review-platform and survey rows.

About one delivered review request in seven turns into a public review from that patient
within two weeks (mostly 4-5 stars, written under "First L."); some reviewers cannot be
matched to a patient, and strangers post a few reviews of their own, more mixed. A third of
completed visits get an NPS survey the next day; scores lean high (NPS around 50-65).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import lifecycle
from demo.frames import frame
from demo.people import people
from demo.pms import appointment_ids, loc_ids, patient_ids
from demo.rand import Stream, day_rng, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, NA

PLATFORMS = np.array(["google", "yelp", "realself", "other"], dtype=object)
NPS_WEIGHTS = [1, 1, 1, 1, 2, 3, 4, 7, 14, 24, 42]


def surveys(sim: SimResult) -> pd.DataFrame:
    a, seed = sim.appointments, sim.cfg.seed
    done = a[a["outcome"] == lifecycle.COMPLETED]
    apt = done["apt_no"].to_numpy()
    sel = keyed_uniform(seed, Stream.SURVEYS, apt, 0) < 0.35
    done, apt = done[sel], apt[sel]
    sent = (done["start"].to_numpy() // DAY + 1) * DAY + 18 * HOUR
    u = keyed_uniform(seed, Stream.SURVEYS, apt, 1)
    responded = np.where(
        u < 0.42,
        sent
        + np.exp(
            np.log(5 * HOUR) + 1.2 * (keyed_uniform(seed, Stream.SURVEYS, apt, 2) - 0.5) * 3
        ).astype(np.int64),
        NA,
    )
    score = keyed_choice(keyed_uniform(seed, Stream.SURVEYS, apt, 3), NPS_WEIGHTS)
    n = len(apt)
    return frame(
        dict(
            survey_id=("SRV-" + pd.Series(apt + 1).astype(str).str.zfill(8)).to_numpy(dtype=object),
            patient_id=patient_ids(done["patient"].to_numpy()),
            appointment_id=appointment_ids(apt),
            sent_at=sent,
            responded_at=responded.astype(np.int64),
            nps_score=np.where(responded != NA, score, NA).astype(np.int64),
            updated_at=sent,
            _loc=done["loc"].to_numpy(),
            _created=sent,
        ),
        n,
    )


def reviews(sim: SimResult, messages: pd.DataFrame) -> pd.DataFrame:
    seed = sim.cfg.seed
    req = messages[
        (messages["purpose"] == "review_request") & (messages["delivery_status"] == "delivered")
    ]
    key = pd.util.hash_array(req["message_id"].to_numpy(dtype=object)).astype(np.int64)
    req = req[keyed_uniform(seed, Stream.REVIEWS, key, 0) < 0.14]
    key = pd.util.hash_array(req["message_id"].to_numpy(dtype=object)).astype(np.int64)
    posted = req["sent_at"].to_numpy() + np.minimum(
        np.exp(np.log(1.5 * DAY) + 1.0 * (keyed_uniform(seed, Stream.REVIEWS, key, 1) - 0.5) * 3),
        13 * DAY,
    ).astype(np.int64)
    matched = keyed_uniform(seed, Stream.REVIEWS, key, 2) < 0.8
    rating = 5 - keyed_choice(keyed_uniform(seed, Stream.REVIEWS, key, 3), [72, 19, 5, 2, 2])
    n = len(req)
    who = people(seed, req["_person"].to_numpy())
    name = (who["first_name"] + " " + who["last_name"].str[0] + ".").to_numpy(dtype=object)
    own = frame(
        dict(
            review_id=("REV-" + req["message_id"].str[4:]).to_numpy(dtype=object),
            location_id=req["location_id"].to_numpy(dtype=object),
            platform=PLATFORMS[
                keyed_choice(keyed_uniform(seed, Stream.REVIEWS, key, 4), [70, 18, 10, 2])
            ],
            posted_at=posted,
            rating=rating.astype(np.int64),
            reviewer_name=name,
            patient_id=np.where(matched, req["patient_id"].to_numpy(dtype=object), None),
            updated_at=posted,
            _loc=req["_loc"].to_numpy(),
            _created=posted,
        ),
        n,
    )
    return pd.concat([own, _strangers(sim)], ignore_index=True).sort_values(
        "review_id", ignore_index=True
    )


def _strangers(sim: SimResult) -> pd.DataFrame:
    cfg = sim.cfg
    rows = []
    for d in range(cfg.start_day, sim.horizon + 1):
        rng = day_rng(cfg.seed, d, Stream.REVIEWS)
        n = rng.poisson(0.1, cfg.locations)
        for loc in np.flatnonzero(n):
            if d < cfg.opening_day(int(loc)):
                continue
            for k in range(n[loc]):
                rows.append((d, int(loc), k, rng.random(), rng.random(), rng.random()))
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows, columns=["day", "loc", "k", "u1", "u2", "u3"])
    posted = df["day"].to_numpy() * DAY + (8 + 14 * df["u1"].to_numpy()).astype(np.int64) * HOUR
    who = people(cfg.seed, 2_000_000 + df.index.to_numpy())
    date = pd.Series(df["day"].to_numpy().astype("datetime64[D]")).dt.strftime("%Y%m%d")
    return frame(
        dict(
            review_id=(
                "REV-X"
                + date
                + "-"
                + (df["loc"] + 1).astype(str).str.zfill(2)
                + "-"
                + df["k"].astype(str)
            ).to_numpy(dtype=object),
            location_id=loc_ids(df["loc"].to_numpy()),
            platform=PLATFORMS[keyed_choice(df["u2"].to_numpy(), [55, 35, 6, 4])],
            posted_at=posted,
            rating=(5 - keyed_choice(df["u3"].to_numpy(), [45, 20, 12, 10, 13])).astype(np.int64),
            reviewer_name=(who["first_name"] + " " + who["last_name"].str[0] + ".").to_numpy(
                dtype=object
            ),
            patient_id=np.full(len(df), None),
            updated_at=posted,
            _loc=df["loc"].to_numpy(),
            _created=posted,
        ),
        len(df),
    )
