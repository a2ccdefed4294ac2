"""Point-of-sale rows: products, memberships, invoices and their lines.

Every completed paid visit gets an invoice at checkout: the service line (neurotoxin and filler
billed per unit or syringe) with its consumable cost, retail add-ons for about a third of
visits, now and then a prepaid package. Members get 10 % off services. From the membership
launch (story 3) patients join plans billed monthly, quarterly or yearly until they cancel.
The shop also sells retail and gift cards to walk-ins without a patient record. A few invoices
stay open, are voided, or are refunded weeks later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import catalog, lifecycle
from demo.frames import frame, ids
from demo.pms import appointment_ids, loc_ids, patient_ids
from demo.rand import Stream, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, MINUTE, NA

S = catalog.SERVICES
UNIT_LO = np.array([s.units[0] for s in S])
UNIT_HI = np.array([s.units[1] for s in S])
PRICE = np.array([round(s.list_price * 100) for s in S])
UNIT_COST = np.array([round(s.unit_cost * 100) for s in S])
P_COST = np.array([round(p[5] * 100) for p in catalog.PRODUCTS])
P_PRICE = np.array([round(p[6] * 100) for p in catalog.PRODUCTS])
PRODUCT_IDS = np.array([p[0] for p in catalog.PRODUCTS], dtype=object)
PLAN_IDS = np.array([p[0] for p in catalog.PLANS], dtype=object)
PLAN_PRICE = np.array([round(p[2] * 100) for p in catalog.PLANS])
PLAN_MONTHS = np.array([p[3] for p in catalog.PLANS])


def products(start_day: int) -> pd.DataFrame:
    t = (start_day - 30) * DAY + 9 * HOUR
    p = catalog.PRODUCTS
    return frame(
        dict(
            product_id=[x[0] for x in p],
            sku=[x[1] for x in p],
            name=[x[2] for x in p],
            product_type=[x[3] for x in p],
            category=[x[4] for x in p],
            unit_cost=P_COST.astype(np.int64),
            retail_price=P_PRICE.astype(np.int64),
            updated_at=t,
            _loc=0,
            _created=t,
        )
    )


def status_times(
    seed: int, key: np.ndarray, issued: np.ndarray, salt: int
) -> dict[str, np.ndarray]:
    """Paid at once mostly; some stay open or pay late, some are voided or refunded."""
    u = keyed_uniform(seed, Stream.BILLING, key, salt)
    u2 = keyed_uniform(seed, Stream.BILLING, key, salt + 1)
    refund = u < 0.012
    void = (u >= 0.012) & (u < 0.018)
    late = (u >= 0.018) & (u < 0.04)
    paid = np.where(
        late,
        np.where(u2 < 0.7, issued + ((1 + u2 * 12) * DAY).astype(np.int64), NA),
        np.where(void, NA, issued),
    )
    return {
        "_t_paid": paid.astype(np.int64),
        "_t_void": np.where(void, issued + 12 * MINUTE, NA).astype(np.int64),
        "_t_refund": np.where(refund, issued + ((2 + u2 * 28) * DAY).astype(np.int64), NA).astype(
            np.int64
        ),
    }


#: The appointment columns a visit's invoice and lines are drawn from.
_BILLED_COLUMNS = ("apt_no", "service", "checked_out", "loc", "patient", "n_done", "provider")


def visit_invoices(sim: SimResult, members: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    a, seed = sim.appointments, sim.cfg.seed
    completed = a["outcome"].to_numpy() == lifecycle.COMPLETED
    # Only the columns billed from, not a filtered copy of all 23 appointment columns: at
    # chain scale that copy was ~130 MB of the generator's peak, which is set right here.
    v = {c: a[c].to_numpy()[completed] for c in _BILLED_COLUMNS}
    apt, svc = v["apt_no"], v["service"]
    issued = v["checked_out"] - 3 * MINUTE
    loc = v["loc"]
    u = [keyed_uniform(seed, Stream.BILLING, apt, k) for k in range(6)]
    qty = UNIT_LO[svc] + (u[0] * (UNIT_HI[svc] - UNIT_LO[svc] + 1)).astype(np.int64)
    price = PRICE[svc] - np.where(svc == 2, (loc % 3) * 50, 0)
    gross = qty * price
    member = _is_member(members, v["patient"], issued // DAY)
    promo = u[1] < 0.07
    disc = np.where(
        member, gross // 10, np.where(promo, gross * (10 + (u[2] * 3).astype(int) * 5) // 100, 0)
    )
    retail = (u[3] < np.where(v["n_done"] == 0, 0.45, 0.56)) & (gross > 0)
    package = (u[4] < 0.18) & np.isin(svc, [6, 9, 10])
    has_inv = (gross > 0) | retail
    lines = [
        _lines(
            apt,
            issued,
            loc,
            "service",
            svc=svc,
            qty=qty,
            price=price,
            disc=disc,
            cost=qty * UNIT_COST[svc],
            k=1,
            keep=has_inv,
        )
    ]
    for k, sel in ((2, retail), (3, retail & (u[5] < 0.35))):
        prod = np.array(catalog.RETAIL_PRODUCTS)[
            keyed_choice(keyed_uniform(seed, Stream.RETAIL, apt, k), catalog.RETAIL_WEIGHTS)
        ]
        q = 1 + (keyed_uniform(seed, Stream.RETAIL, apt, k + 10) < 0.15)
        lines.append(
            _lines(
                apt,
                issued,
                loc,
                "retail_product",
                prod=prod,
                qty=q,
                price=P_PRICE[prod],
                cost=q * P_COST[prod],
                k=k,
                keep=sel,
            )
        )
    lines.append(
        _lines(
            apt,
            issued,
            loc,
            "package",
            svc=svc,
            qty=np.ones(len(apt), int),
            price=PRICE[svc] * 3,
            disc=PRICE[svc] * 3 * 15 // 100,
            cost=np.zeros(len(apt), int),
            k=4,
            keep=package,
        )
    )
    inv = frame(
        dict(
            invoice_id=ids("INV-A", apt[has_inv] + 1, 8),
            location_id=loc_ids(loc[has_inv]),
            patient_id=patient_ids(v["patient"][has_inv]),
            appointment_id=appointment_ids(apt[has_inv]),
            provider_id=ids("PRV", v["provider"][has_inv] + 1, 4),
            issued_at=issued[has_inv],
            status=np.full(int(has_inv.sum()), "open", dtype=object),
            updated_at=issued[has_inv],
            _loc=loc[has_inv],
            _created=issued[has_inv],
            **status_times(seed, apt[has_inv], issued[has_inv], 20),
        ),
        int(has_inv.sum()),
    )
    return inv, pd.concat(lines, ignore_index=True)


def _is_member(members: pd.DataFrame, patient: np.ndarray, day: np.ndarray) -> np.ndarray:
    m = members.set_index("_patient")
    start = m["started_on"].reindex(patient).to_numpy()
    end = m["cancelled_on"].reindex(patient).to_numpy()
    return (start <= day) & (day < end)


def _lines(
    key: np.ndarray,
    issued: np.ndarray,
    loc: np.ndarray,
    line_type: str,
    *,
    k: int,
    keep: np.ndarray,
    qty: np.ndarray,
    price: np.ndarray,
    cost: np.ndarray,
    svc: np.ndarray | None = None,
    prod: np.ndarray | None = None,
    disc: np.ndarray | None = None,
    inv_prefix: str = "INV-A",
) -> pd.DataFrame:
    n = int(keep.sum())
    inv = ids(inv_prefix, key[keep] + 1, 8)
    none = np.full(n, None, dtype=object)
    return frame(
        dict(
            invoice_id=inv,
            line_type=np.full(n, line_type, dtype=object),
            service_id=np.array([s.service_id for s in S], dtype=object)[svc[keep]]
            if svc is not None
            else none,
            product_id=PRODUCT_IDS[prod[keep]] if prod is not None else none,
            plan_id=none,
            quantity=np.asarray(qty)[keep].astype(np.int64),
            unit_price=np.asarray(price)[keep].astype(np.int64),
            discount_amount=(np.asarray(disc)[keep] if disc is not None else np.zeros(n)).astype(
                np.int64
            ),
            cost_amount=np.asarray(cost)[keep].astype(np.int64),
            _created=issued[keep],
            _loc=loc[keep],
            _k=np.full(n, k),
        ),
        n,
    )
