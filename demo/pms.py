"""The PMS tables derived from the simulation: patients, appointments, intake forms, catalogue.

Memberships live in `billing.py` (they drive invoices); locations, rooms, devices, providers
and shifts come straight from `locations.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from demo import catalog, lifecycle
from demo.frames import frame, ids
from demo.people import format_email, format_phone, people
from demo.rand import Stream, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, MINUTE, NA

SERVICE_IDS = np.array([s.service_id for s in catalog.SERVICES], dtype=object)
ACQ = np.array([*catalog.LEAD_CHANNELS, "other"], dtype=object)


def loc_ids(loc: np.ndarray) -> np.ndarray:
    return ids("LOC", np.asarray(loc) + 1, 2)


def patient_ids(idx: np.ndarray) -> np.ndarray:
    return ids("PAT", np.asarray(idx) + 1, 7)


def appointment_ids(apt_no: np.ndarray) -> np.ndarray:
    return ids("APT", np.asarray(apt_no) + 1, 8)


def device_ids(dev: np.ndarray) -> np.ndarray:
    """`DEV<loc><type>` ids from the simulation's loc * 10 + device-type code (-1 = none)."""
    dev = np.asarray(dev)
    text = pd.Series(ids("DEV", np.maximum(dev // 10, 0) + 1, 2)) + pd.Series(
        (dev % 10 + 1).astype(str)
    )
    return np.where(dev >= 0, text.to_numpy(dtype=object), None)


def catalogue(start_day: int) -> dict[str, pd.DataFrame]:
    """services and membership_plans (static, set up before the data window)."""
    t = (start_day - 30) * DAY + 9 * HOUR
    s = catalog.SERVICES
    services = frame(
        dict(
            service_id=[x.service_id for x in s],
            name=[x.name for x in s],
            category=[x.category for x in s],
            is_consultation=np.array([x.category == "consultation" for x in s]),
            default_duration_min=np.array([x.duration_min for x in s], dtype=np.int64),
            list_price=np.array([round(x.list_price * 100) for x in s], dtype=np.int64),
            device_type_required=[x.device_type for x in s],
            updated_at=t,
            _loc=0,
            _created=t,
        )
    )
    plans = frame(
        dict(
            plan_id=[p[0] for p in catalog.PLANS],
            name=[p[1] for p in catalog.PLANS],
            price=np.array([round(p[2] * 100) for p in catalog.PLANS], dtype=np.int64),
            billing_period_months=np.array([p[3] for p in catalog.PLANS], dtype=np.int64),
            updated_at=t,
            _loc=0,
            _created=t,
        )
    )
    return {"pms.services": services, "pms.membership_plans": plans}


def patients(sim: SimResult) -> pd.DataFrame:
    p = sim.patients
    n = len(p)
    who = people(sim.cfg.seed, p["person"].to_numpy())
    idx = np.arange(n)
    u1 = keyed_uniform(sim.cfg.seed, Stream.PEOPLE, idx, 101)
    u2 = keyed_uniform(sim.cfg.seed, Stream.PEOPLE, idx, 102)
    created = p["created"].to_numpy()
    loc = p["loc"].to_numpy()
    acq = p["acq"].to_numpy()
    zip3 = np.array(catalog.ZIP3, dtype=object)[loc % len(catalog.ZIP3)]
    referred = p["referred"].to_numpy()
    return frame(
        dict(
            patient_id=patient_ids(idx),
            first_name=who["first_name"].to_numpy(),
            last_name=who["last_name"].to_numpy(),
            email=format_email(who["email"], keyed_choice(u1, [60, 25, 5, 10])),
            phone=format_phone(
                who["digits"], np.array([1, 5, 2, 0])[keyed_choice(u2, [45, 30, 20, 5])]
            ),
            date_of_birth=created // DAY - who["age_days"].to_numpy(),
            sex=who["sex"].to_numpy(),
            postal_code=(pd.Series(zip3) + who["zip_suffix"].astype(str).str.zfill(2)).to_numpy(
                dtype=object
            ),
            home_location_id=loc_ids(loc),
            acquisition_channel=np.where(acq >= 0, ACQ[np.maximum(acq, 0)], None),
            referred_by_patient_id=np.where(
                referred >= 0, patient_ids(np.maximum(referred, 0)), None
            ),
            created_at=created,
            updated_at=created,
            _loc=loc,
            _created=created,
        ),
        n,
    )


def appointments(sim: SimResult) -> pd.DataFrame:
    a = sim.appointments
    n = len(a)
    g = {k: a[k].to_numpy() for k in a.columns}
    rooms = sim.cal.tables["rooms"]["room_id"].to_numpy(dtype=object)
    dev = g["device"]
    response = g["response"]
    confirmed_t = np.where(response == 0, g["responded"], NA)
    resp_t = np.where(response == 3, g["no_response_at"], g["responded"])
    return frame(
        dict(
            appointment_id=appointment_ids(g["apt_no"]),
            patient_id=patient_ids(g["patient"]),
            location_id=loc_ids(g["loc"]),
            provider_id=ids("PRV", g["provider"] + 1, 4),
            room_id=rooms[g["room"]],
            service_id=SERVICE_IDS[g["service"]],
            device_id=device_ids(dev),
            booking_channel=np.array(catalog.BOOKING_CHANNELS, dtype=object)[g["channel"]],
            booked_at=g["booked"],
            scheduled_start=g["start"],
            scheduled_end=g["end"],
            status=np.full(n, "booked", dtype=object),
            confirmation_requested_at=g["conf_requested"],
            confirmation_response=np.where(
                response >= 0,
                np.array(lifecycle.RESPONSES, dtype=object)[np.maximum(response, 0)],
                None,
            ),
            confirmation_responded_at=g["responded"],
            checked_in_at=g["checked_in"],
            checked_out_at=g["checked_out"],
            cancelled_at=g["cancelled"],
            cancellation_reason=np.where(
                g["reason"] >= 0,
                np.array(lifecycle.CANCEL_REASONS, dtype=object)[np.maximum(g["reason"], 0)],
                None,
            ),
            rescheduled_from_appointment_id=_ids_where_set(g["resched_from"], appointment_ids),
            updated_at=g["booked"],
            _loc=g["loc"],
            _created=g["booked"],
            _t_no_show=g["no_show_at"],
            _t_confirmed=confirmed_t.astype(np.int64),
            _t_response=resp_t.astype(np.int64),
        ),
        n,
    )


def _ids_where_set(numbers: np.ndarray, to_ids: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Ids for the numbers >= 0, None elsewhere; only the set ones become text (at chain scale
    an id string for every row, most of them thrown away, was a large transient)."""
    out = np.full(len(numbers), None, dtype=object)
    sel = numbers >= 0
    out[sel] = to_ids(numbers[sel])
    return out


def intake_forms(sim: SimResult) -> pd.DataFrame:
    """Forms sent on booking (three for a new patient, consent for returning treatments)."""
    a = sim.appointments
    seed = sim.cfg.seed
    apt = a["apt_no"].to_numpy()
    is_new = a["n_done"].to_numpy() == 0
    consult = np.isin(a["service"].to_numpy(), [0, 1])
    rows = []
    for k, sel in enumerate((is_new, is_new | ~consult, is_new)):
        idx = np.flatnonzero(sel)
        rows.append((idx, k))
    idx = np.concatenate([r[0] for r in rows])
    kind = np.concatenate([np.full(len(r[0]), r[1]) for r in rows])
    booked = a["booked"].to_numpy()[idx]
    start = a["start"].to_numpy()[idx]
    cancelled = a["cancelled"].to_numpy()[idx]
    u = keyed_uniform(seed, Stream.INTAKE, apt[idx], kind)
    u2 = keyed_uniform(seed, Stream.INTAKE, apt[idx], kind + 10)
    sent = booked + 2 * MINUTE
    lead = start - sent
    p_done = np.where(is_new[idx], 0.80, 0.88)
    early = np.minimum(
        sent + (np.exp(np.log(5 * HOUR) + 1.3 * (u2 - 0.5) * 3)).astype(np.int64),
        start - 10 * MINUTE - (u2 * 50 * MINUTE).astype(np.int64),
    )
    completed = np.where(
        u < p_done,
        np.maximum(early, sent + MINUTE),
        np.where(u < p_done + 0.08, start + 4 * MINUTE, NA),
    )
    completed = np.where((lead < 20 * MINUTE) & (completed != NA), start + 4 * MINUTE, completed)
    completed = np.where((cancelled != NA) & (completed >= cancelled), NA, completed)
    checked_in = a["checked_in"].to_numpy()[idx]
    completed = np.where(
        (completed != NA) & (completed >= start) & (checked_in == NA), NA, completed
    )
    order = np.lexsort((kind, apt[idx]))
    idx, kind, sent, completed = idx[order], kind[order], sent[order], completed[order]
    return frame(
        dict(
            form_id=ids("FRM", apt[idx] * 3 + kind + 1, 9),
            patient_id=patient_ids(a["patient"].to_numpy()[idx]),
            appointment_id=appointment_ids(apt[idx]),
            form_type=np.array(["medical_history", "consent", "photo_release"], dtype=object)[kind],
            sent_at=sent,
            completed_at=completed.astype(np.int64),
            updated_at=sent,
            _loc=a["loc"].to_numpy()[idx],
            _created=sent,
        ),
        len(idx),
    )
