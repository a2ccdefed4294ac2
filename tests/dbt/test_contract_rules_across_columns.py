"""Rules the landing contract states across columns, which the loader cannot check value by
value, warn on the rows that break them (severity warn: the night still publishes).

- An invoice line's `net_amount` is quantity x unit_price - discount_amount. Revenue is the
  delivered net_amount, so a line that disagrees (a tax-inclusive export, a typo) moves
  revenue with nothing else to show it.
- A membership marked `cancelled` carries its `cancelled_on` date: mrr goes by the dates, so
  without it the membership keeps counting.

The seeded two-location chain (every line and membership consistent) plus, by hand: line
BAD-1 (1 x 500.00 - 0.00 delivered as 999.00), line OK-2 (2 x 120.00 - 40.00 = 200.00, as
delivered), membership MS-BAD (cancelled, no date) and MS-PAUSED (paused, no date: a pause
is no cancellation). Expected: each check warns and names exactly one row.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from conftest import dbt, write_chain
from dbt_core_chain import build_chain

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

STAMP = datetime(2025, 11, 5, 6, tzinfo=UTC)
CHECKS = {
    "invoice_line_net_amount_is_quantity_times_price_less_discount": "stg_pos__invoice_lines",
    "membership_cancelled_has_its_cancelled_on_date": "stg_pms__memberships",
}


def _line(line_id: str, quantity: int, price: int, discount: int, net: int) -> dict:
    return {
        "invoice_line_id": line_id,
        "invoice_id": "INV-HAND",
        "line_type": "service",
        "service_id": "S_TOX",
        "product_id": None,
        "plan_id": None,
        "quantity": quantity,
        "unit_price": price,
        "discount_amount": discount,
        "net_amount": net,
        "cost_amount": 0.0,
        "updated_at": STAMP,
    }


def _membership(membership_id: str, status: str) -> dict:
    return {
        "membership_id": membership_id,
        "patient_id": "PT0006",
        "plan_id": "M1",
        "location_id": "L1",
        "started_on": date(2025, 3, 1),
        "cancelled_on": None,
        "status": status,
        "updated_at": STAMP,
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """name -> (status, failures) of the two checks after building their models."""
    work = tmp_path_factory.mktemp("contract_rules")
    chain = build_chain()
    chain.add("pos", "invoice_lines", _line("BAD-1", 1, 500, 0, 999))
    chain.add("pos", "invoice_lines", _line("OK-2", 2, 120, 40, 200))
    chain.add("pms", "memberships", _membership("MS-BAD", "cancelled"))
    chain.add("pms", "memberships", _membership("MS-PAUSED", "paused"))
    path = write_chain(work / "warehouse.duckdb", chain)
    models = [*sorted(set(CHECKS.values())), "stg_pos__invoices"]  # the lines' parent test
    dbt(["build", "--select", *(f"+{m}" for m in models)], path, work)
    found = json.loads((work / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {
        r["unique_id"].split(".")[2]: {"status": r["status"], "failures": r["failures"]}
        for r in found["results"]
        if r["unique_id"].split(".")[2] in CHECKS
    }


def test_each_rule_warns_on_the_one_row_that_breaks_it(results):
    assert results == {name: {"status": "warn", "failures": 1} for name in CHECKS}
