"""Simulate the chain to a horizon and derive all 22 contract tables from it."""

from __future__ import annotations

import pandas as pd

from demo import billing, crm, feedback, memberships, messaging, phone, pms, sales
from demo.config import ChainConfig
from demo.simulate import SimResult, simulate


def build_tables(cfg: ChainConfig, horizon: int) -> tuple[SimResult, dict[str, pd.DataFrame]]:
    """Every contract table (final states plus timelines) for a run to day `horizon`."""
    sim = simulate(cfg, horizon)
    t = sim.cal.tables
    members = memberships.memberships(sim)
    msgs = messaging.messages(sim)
    tables: dict[str, pd.DataFrame] = {
        "pms.locations": t["locations"],
        "pms.location_hours": t["location_hours"],
        "pms.location_closures": t["location_closures"],
        "pms.rooms": t["rooms"],
        "pms.devices": t["devices"],
        "pms.providers": t["providers"],
        "pms.provider_shifts": t["provider_shifts"],
        **pms.catalogue(cfg.start_day),
        "pms.patients": pms.patients(sim),
        "pms.appointments": pms.appointments(sim),
        "pms.intake_forms": pms.intake_forms(sim),
        "pms.memberships": members,
        "pos.products": billing.products(cfg.start_day),
        **sales.pos_tables(sim, members),
        "phone.calls": phone.calls(sim),
        "messaging.messages": msgs,
        "crm.leads": crm.leads(sim),
        "crm.marketing_spend": crm.marketing_spend(sim),
        "reviews.reviews": feedback.reviews(sim, msgs),
        "reviews.surveys": feedback.surveys(sim),
    }
    return sim, tables
