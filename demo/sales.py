"""Walk-in sales without a patient record, and the assembled invoices / invoice_lines tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import catalog
from demo.billing import P_COST, P_PRICE, PRODUCT_IDS, visit_invoices
from demo.frames import day_location_ids, frame, numbers_within, sort_rows
from demo.memberships import membership_invoices
from demo.pms import loc_ids
from demo.rand import Stream, day_rng, keyed_choice
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, NA


def walk_in_sales(sim: SimResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Anonymous retail and gift-card sales: no patient, no appointment."""
    cfg, cal = sim.cfg, sim.cal
    chunks = []
    for d in range(cfg.start_day, sim.horizon + 1):
        di = d - cal.day0
        open_locs = np.flatnonzero(cal.close_h[:, di] > 0)
        if not len(open_locs):
            continue
        rng = day_rng(cfg.seed, d, Stream.RETAIL)
        n = rng.poisson(4.0, len(open_locs))
        g = rng.poisson(0.25, len(open_locs))
        loc = np.repeat(open_locs, n + g)
        kind = np.concatenate(
            [np.r_[np.zeros(a, int), np.ones(b, int)] for a, b in zip(n, g, strict=True)]
        )
        k = np.concatenate([np.arange(a + b) for a, b in zip(n, g, strict=True)])
        span = (cal.close_h[loc, di] - cal.open_h[loc, di]) * HOUR
        t = d * DAY + cal.open_h[loc, di] * HOUR + (rng.random(len(loc)) * span).astype(np.int64)
        chunks.append(
            dict(
                day=np.full(len(loc), d),
                loc=loc,
                k=k,
                kind=kind,
                t=t,
                u=rng.random(len(loc)),
                u2=rng.random(len(loc)),
            )
        )
    if not chunks:
        return pd.DataFrame(), pd.DataFrame()
    c = {key: np.concatenate([x[key] for x in chunks]) for key in chunks[0]}
    n = len(c["loc"])
    inv_id = day_location_ids("INV-R", c["day"], c["loc"], c["k"], width=2)
    gift = c["kind"] == 1
    prod = np.array(catalog.RETAIL_PRODUCTS)[keyed_choice(c["u"], catalog.RETAIL_WEIGHTS)]
    gift_price = (100 + (c["u"] * 4).astype(int) * 50) * 100
    inv = frame(
        dict(
            invoice_id=inv_id,
            location_id=loc_ids(c["loc"]),
            patient_id=np.full(n, None),
            appointment_id=np.full(n, None),
            provider_id=np.full(n, None),
            issued_at=c["t"],
            status=np.full(n, "open", dtype=object),
            updated_at=c["t"],
            _loc=c["loc"],
            _created=c["t"],
            _t_paid=c["t"],
            _t_void=np.where(c["u2"] < 0.01, c["t"] + 300, NA),
            _t_refund=np.where(c["u2"] > 0.99, c["t"] + 5 * DAY, NA),
        ),
        n,
    )
    lines = frame(
        dict(
            invoice_id=inv_id,
            line_type=np.where(gift, "gift_card", "retail_product").astype(object),
            service_id=np.full(n, None),
            product_id=np.where(gift, None, PRODUCT_IDS[prod]),
            plan_id=np.full(n, None),
            quantity=np.ones(n, np.int64),
            unit_price=np.where(gift, gift_price, P_PRICE[prod]).astype(np.int64),
            discount_amount=np.zeros(n, np.int64),
            cost_amount=np.where(gift, 0, P_COST[prod]).astype(np.int64),
            _created=c["t"],
            _loc=c["loc"],
            _k=np.ones(n, int),
        ),
        n,
    )
    return inv, lines


def pos_tables(sim: SimResult, members: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """invoices and invoice_lines (with line ids and net amounts) from every source."""
    parts = [visit_invoices(sim, members), membership_invoices(sim, members), walk_in_sales(sim)]
    inv_parts, line_parts = [p[0] for p in parts if len(p[0])], [p[1] for p in parts if len(p[1])]
    del parts
    # Each side's parts are freed as soon as they are copied into `inv` and `lines`, before
    # the sorts copy them again (at chain scale one copy of the POS rows is several hundred MB
    # of the generator's peak): never the parts of both sides and both results at once.
    inv = pd.concat(inv_parts, ignore_index=True)
    del inv_parts
    lines = pd.concat(line_parts, ignore_index=True)
    del line_parts
    inv = sort_rows(inv, ["invoice_id"])
    lines = sort_rows(lines, ["invoice_id", "_k"])
    # Lines of one invoice share its status: their rows never change after issue.
    # Built as Arrow-backed strings, never one Python object per line (~130 MB at chain scale).
    lines.insert(
        0,
        "invoice_line_id",
        lines["invoice_id"]
        + "-"
        + pd.Series(numbers_within(lines["invoice_id"]), index=lines.index).astype(str),
    )
    lines.insert(
        list(lines.columns).index("cost_amount"),
        "net_amount",
        lines["quantity"] * lines["unit_price"] - lines["discount_amount"],
    )
    lines["updated_at"] = lines["_created"]
    del lines["_k"]  # in place: `drop` would copy every column of the biggest POS table
    return {"pos.invoices": inv, "pos.invoice_lines": lines}
