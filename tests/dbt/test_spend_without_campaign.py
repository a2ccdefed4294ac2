"""Spend without a campaign builds, passes its key test and counts in `cac`.

The landing contract lets `crm.marketing_spend.campaign` be null: spend without a campaign, a
key value of its own. Hand-made spend at L1 (the seeded two-location chain): on 2025-11-03,
100.00 without a campaign and 40.00 for "fall" on the same channel; on 2025-11-04, 25.50
without a campaign. Before the fix, `fct_marketing_spend`'s key test counted the null campaign
as a missing key: the build failed (severity error) and the pipeline published nothing.
Expected by hand: the three rows in the fact as delivered, and cac's spend events per day are
the channel's sums, 140.00 (100.00 + 40.00) and 25.50.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import dbt, write_chain
from dbt_core_chain import build_chain
from engagement_fixture import table_rows

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SPEND = (
    (date(2025, 11, 3), None, "100.00"),
    (date(2025, 11, 3), "fall", "40.00"),
    (date(2025, 11, 4), None, "25.50"),
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The chain with the spend rows; the fact and its tests built, then cac's events."""
    work = tmp_path_factory.mktemp("spend_without_campaign")
    chain = build_chain()
    for day, campaign, amount in SPEND:
        chain.add(
            "crm",
            "marketing_spend",
            {
                "spend_date": day,
                "location_id": "L1",
                "channel": "google",
                "campaign": campaign,
                "amount": amount,
                "updated_at": "2025-11-05T06:00:00Z",
            },
        )
    path = write_chain(work / "warehouse.duckdb", chain)
    build = dbt(
        ["build", "--select", "+fct_marketing_spend", "--indirect-selection", "cautious"],
        path,
        work,
        check=False,
    )
    if build.returncode == 0:
        dbt(["run", "--select", "+int_lead_kpi_events"], path, work)
    return path, build.returncode, build.stdout[-3000:]


def test_the_fact_and_its_key_test_pass_with_a_null_campaign(warehouse):
    path, returncode, output = warehouse
    assert returncode == 0, output
    rows = table_rows(
        path,
        "select spend_date, campaign, amount from marts.fct_marketing_spend "
        "order by spend_date, campaign nulls first",
    )
    assert [(d, c, float(a)) for d, c, a in rows] == [
        (date(2025, 11, 3), None, 100.0),
        (date(2025, 11, 3), "fall", 40.0),
        (date(2025, 11, 4), None, 25.5),
    ]


def test_spend_without_a_campaign_counts_in_cac(warehouse):
    path, returncode, output = warehouse
    assert returncode == 0, output
    rows = table_rows(
        path,
        "select event_date, lead_channel, numerator from intermediate.int_lead_kpi_events "
        "where kpi = 'cac' and denominator = 0 and location_id = 'L1' order by event_date",
    )
    assert rows == [(date(2025, 11, 3), "google", 140.0), (date(2025, 11, 4), "google", 25.5)]
