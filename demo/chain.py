"""Simulate the chain to a horizon and derive all 22 contract tables from it.

`ChainTables` builds each table only when it is asked for and forgets it when it is taken,
so a writer that takes the tables one at a time holds the simulation plus one table (and the
two tables others derive from: memberships for the POS, messages for reviews) instead of
all 22 at once: the large chain's generator peak is set by its biggest table, not the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from demo import billing, crm, feedback, memberships, messaging, phone, pms, sales
from demo.config import ChainConfig
from demo.simulate import SimResult, simulate


class ChainTables:
    """The contract tables of one simulation, built on demand (see the module docstring)."""

    def __init__(self, sim: SimResult) -> None:
        self.sim = sim
        self._built: dict[str, pd.DataFrame] = {}
        self._shared: dict[str, pd.DataFrame] = {}

    def _members(self) -> pd.DataFrame:
        if "members" not in self._shared:
            self._shared["members"] = memberships.memberships(self.sim)
        return self._shared["members"]

    def _review_requests(self) -> pd.DataFrame:
        """The messages reviews derive from (all of them unless streamed before)."""
        if "review_requests" not in self._shared:
            self._shared["review_requests"] = messaging.messages(self.sim)
        return self._shared["review_requests"]

    def _builders(self) -> dict[str, Callable[[], dict[str, pd.DataFrame]]]:
        """Table name -> a builder returning it (and any tables built in the same pass)."""
        sim, cfg, t = self.sim, self.sim.cfg, self.sim.cal.tables

        def one(name: str, build: Callable[[], pd.DataFrame]) -> tuple[str, Callable]:
            return name, lambda: {name: build()}

        catalogue = lambda: pms.catalogue(cfg.start_day)  # noqa: E731
        pos = lambda: sales.pos_tables(sim, self._members())  # noqa: E731
        return dict(
            [
                # The calendar's tables (locations, hours, closures, rooms, devices, staff).
                *(one(f"pms.{n}", lambda n=n: t[n]) for n in t),
                ("pms.services", catalogue),
                ("pms.membership_plans", catalogue),
                one("pms.patients", lambda: pms.patients(sim)),
                one("pms.appointments", lambda: pms.appointments(sim)),
                one("pms.intake_forms", lambda: pms.intake_forms(sim)),
                one("pms.memberships", self._members),
                one("pos.products", lambda: billing.products(cfg.start_day)),
                ("pos.invoices", pos),
                ("pos.invoice_lines", pos),
                one("phone.calls", lambda: phone.calls(sim)),
                one("messaging.messages", lambda: messaging.messages(sim)),
                one("crm.leads", lambda: crm.leads(sim)),
                one("crm.marketing_spend", lambda: crm.marketing_spend(sim)),
                one("reviews.reviews", lambda: feedback.reviews(sim, self._review_requests())),
                one("reviews.surveys", lambda: feedback.surveys(sim)),
            ]
        )

    def names(self) -> list[str]:
        return list(self._builders())

    def chunks(self, name: str) -> Iterator[pd.DataFrame]:
        """Table `name` as consecutive row chunks: messages (the biggest table by far) are
        finished a chunk at a time; every other table comes whole."""
        if name != "messaging.messages":
            yield self.take(name)
            return
        requests = []
        for chunk in messaging.message_chunks(self.sim):
            requests.append(chunk[chunk["purpose"].to_numpy() == "review_request"])
            yield chunk
        self._shared["review_requests"] = pd.concat(requests, ignore_index=True)

    def take(self, name: str) -> pd.DataFrame:
        """Table `name`, forgotten here afterwards (the caller holds the only reference)."""
        if name not in self._built:
            self._built.update(self._builders()[name]())
        table = self._built.pop(name)
        if name == "pos.invoice_lines":
            self._shared.pop("members", None)  # the POS was the last to need memberships
        if name == "reviews.reviews":
            self._shared.pop("review_requests", None)
        return table


def chain_tables(cfg: ChainConfig, horizon: int) -> ChainTables:
    """The simulation run to day `horizon`, its tables to be built one at a time."""
    return ChainTables(simulate(cfg, horizon))


def build_tables(cfg: ChainConfig, horizon: int) -> tuple[SimResult, dict[str, pd.DataFrame]]:
    """Every contract table (final states plus timelines) for a run to day `horizon`."""
    lazy = chain_tables(cfg, horizon)
    return lazy.sim, {name: lazy.take(name) for name in lazy.names()}
