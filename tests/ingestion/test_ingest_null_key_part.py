"""marketing_spend: a null `campaign` is spend without a campaign, a key value of its own.

Load 1: L1's phone spend on 11-20 without a campaign (100.00) and with campaign "fall" (40.00).
Load 2: a delta re-states the campaign-less row (120.00, newer) and brings an *older* copy of
the "fall" row (35.00), which must lose. Load 3 repeats a null-campaign key inside one extract:
ambiguous, so both copies are quarantined like any duplicate key.
"""

from __future__ import annotations

import pytest
from ingest_fixtures import csv_text, header, query, settings_for, write, write_required

from ingestion.pipeline import ingest

pytestmark = pytest.mark.xdist_group("ingest_null_key")

SPEND = header("crm.marketing_spend")
ROWS = """select channel, campaign, amount from raw_crm.marketing_spend
    order by spend_date, campaign nulls first"""


def spend(campaign: str | None, amount: str, updated_at: str, day: str = "2026-11-20") -> dict:
    return {
        "spend_date": day,
        "location_id": "L1",
        "channel": "phone",
        "campaign": campaign,
        "amount": amount,
        "updated_at": updated_at,
    }


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    root = tmp_path_factory.mktemp("null_key")
    landing = root / "landing"
    write_required(landing)
    first_rows = [
        spend(None, "100.00", "2026-11-20T23:00:00Z"),
        spend("fall", "40.00", "2026-11-20T23:00:00Z"),
    ]
    write(landing, "crm/marketing_spend/2026-11-20.csv", csv_text(SPEND, first_rows))
    settings = settings_for(root)
    first = ingest(settings)
    after_first = query(settings, ROWS)
    delta = [
        spend(None, "120.00", "2026-11-21T23:00:00Z"),
        spend("fall", "35.00", "2026-11-19T23:00:00Z"),
    ]
    write(landing, "crm/marketing_spend/2026-11-21.csv", csv_text(SPEND, delta))
    second = ingest(settings)
    after_second = query(settings, ROWS)
    dup = [
        spend(None, "1.00", "2026-11-22T23:00:00Z", "2026-11-22"),
        spend(None, "2.00", "2026-11-22T23:00:00Z", "2026-11-22"),
    ]
    write(landing, "crm/marketing_spend/2026-11-22.csv", csv_text(SPEND, dup))
    ingest(settings)
    return settings, first, after_first, second, after_second


def test_null_campaign_is_loaded_not_quarantined(loads):
    _, first, after_first, *_ = loads
    assert after_first == [("phone", None, 100), ("phone", "fall", 40)]
    table = first.table("crm", "marketing_spend")
    assert (table.rows_quarantined, table.rows_inserted) == (0, 2)


def test_null_campaign_row_is_replaced_by_its_newer_version_not_duplicated(loads):
    _, _, _, second, after_second = loads
    # 120.00 (newer) replaced 100.00 under the null-campaign key; the older "fall" copy lost.
    assert after_second == [("phone", None, 120), ("phone", "fall", 40)]
    table = second.table("crm", "marketing_spend")
    assert (table.rows_updated, table.rows_unchanged, table.rows_quarantined) == (1, 1, 0)


def test_null_campaign_key_repeated_in_one_extract_is_quarantined(loads):
    settings, *_ = loads
    reasons = query(
        settings,
        """select row_number, reason from raw_quarantine.rejected_rows
        where table_name = 'marketing_spend' order by row_number""",
    )
    assert [r[0] for r in reasons] == [1, 2]
    assert all(r[1].startswith("duplicate primary key within the extract") for r in reasons)
    assert query(settings, "select count(*) from raw_crm.marketing_spend")[0][0] == 2
