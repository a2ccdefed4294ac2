"""The seeded demo chain: a med-spa group simulated day by day, written as landing extracts.

`generate(out, ChainConfig.build(...))` writes every contract table's full snapshot as of the
end date; `advance(out, days)` continues with nightly deltas. The same seed gives the same
bytes; nothing depends on the wall clock. Behaviour is tuned so every KPI of docs/kpis.md lands
in a plausible range, and a few story lines give the dashboards something to find (`STORIES`).

Story lines (dates are relative to the first end date and saved in `_demo_chain.json`):
1. Missed calls: from seven weeks before the end date the missed-call story location
   (LOC02, or LOC01 when alone) misses ever more inbound calls: ~11 % climbing past 35 %.
2. Weak rebooking: provider PRV0002 at LOC01 rebooks about one patient in ten at checkout;
   colleagues rebook four to five in ten.
3. Membership launch: the Glow Club plans launch 40 % of the way into the period; MRR and the
   membership share of revenue climb from zero after it.
4. New location: with two or more locations, the last one opens 45 % of the way in and ramps
   up over its first months.
5. New laser: LOC01 buys its laser 35 % of the way in; laser services start there that day.
Smaller turns: LOC01 opens a fourth treatment room (55 %), retires Treatment 3 (70 %), keeps
Saturday open an hour longer from mid-way, and replaces an esthetician (60 %).

Not part of the load path: it writes files a clinic's systems would write. It may import
`ingestion.contract` (the shape it writes) and nothing else of the project; `demo.state` holds
the marker file that tells a demo landing folder from a clinic's real extracts.
"""

from __future__ import annotations

STORIES: tuple[dict[str, str], ...] = (
    {
        "id": "missed_calls",
        "kpi": "missed_call_rate",
        "where": "LOC02 (LOC01 if alone)",
        "what": "missed-call rate climbs from ~11 % to over 35 % over the last 7 weeks",
    },
    {
        "id": "weak_rebooking",
        "kpi": "rebooking_rate",
        "where": "PRV0002 at LOC01",
        "what": "about 10 % rebooking at checkout against 40–55 % for colleagues",
    },
    {
        "id": "membership_launch",
        "kpi": "mrr, membership_revenue_share",
        "where": "all",
        "what": "memberships launch 40 % into the period; MRR and share climb from zero",
    },
    {
        "id": "new_location",
        "kpi": "net_revenue, new_patients",
        "where": "last location",
        "what": "opens 45 % into the period (with 2+ locations) and ramps up",
    },
    {
        "id": "laser_purchase",
        "kpi": "device_utilization, revenue by category",
        "where": "LOC01",
        "what": "laser bought 35 % into the period; laser services start there",
    },
)

__all__ = ["STORIES"]
