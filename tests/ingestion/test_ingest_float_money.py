"""Money a Parquet file stores as FLOAT (single precision) is judged by the value it holds.

A float's shortest text is a rounded amount: 149999.99 stored as a float holds exactly
149999.984375, and its text `149999.98` loaded a cent nobody wrote. The float is now widened
to DOUBLE (exactly) and judged as a DOUBLE amount is: a whole cent loads as that cent, any other
value is quarantined by its true digits. From 262,144 up a float is 1/32 or more apart from the
next one, so even a whole-cent float may stand for another cent (262144.01 is stored as
262144.0): such an amount is quarantined too.

Fixture (membership_plans, `price` as float32; exact values worked out by hand):
  row 1 M1 12.25      -> 12.25 exactly (49/4)            loaded as 12.25
  row 2 M2 149999.99  -> 149999.984375 (spacing 1/64)    more than 2 decimal places
  row 3 M3 262144.01  -> 262144.0 (spacing 1/32)         too large for a float's cents
                         (its record shows 262144.00: a whole cent, yet not the one written)
  row 4 M4 0.5        -> 0.5 exactly                     loaded as 0.50
An extra FLOAT column `score` (1.5, 2.25, 3.0, 0.1) is drift: still loaded as its text.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from ingest_fixtures import query, settings_for, write_required

from ingestion.pipeline import ingest

LARGE = (
    "a FLOAT (single-precision) amount of 262,144 or more, where a float cannot hold every "
    "cent (store money as DECIMAL(18,2))"
)


def test_float_money_is_judged_by_the_value_the_float_holds(tmp_root):
    landing = tmp_root / "landing"
    write_required(landing)
    table = pa.table(
        {
            "plan_id": ["M1", "M2", "M3", "M4"],
            "name": ["Gold"] * 4,
            "price": pa.array([12.25, 149999.99, 262144.01, 0.5], pa.float32()),
            "billing_period_months": pa.array([1, 1, 1, 1], pa.int64()),
            "updated_at": ["2026-11-01T00:00:00Z"] * 4,
            "score": pa.array([1.5, 2.25, 3.0, 0.1], pa.float32()),
        }
    )
    path = landing / "pms/membership_plans/2026-11-20.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    settings = settings_for(tmp_root)
    ingest(settings)
    assert query(
        settings,
        "select plan_id, price::varchar, score from raw_pms.membership_plans order by 1",
    ) == [("M1", "12.25", "1.5"), ("M4", "0.50", "0.1")]
    rejected = query(
        settings,
        "select row_number, column_name, reason, raw_record from raw_quarantine.rejected_rows "
        "order by 1",
    )
    assert [r[:3] for r in rejected] == [
        (2, "price", "more than 2 decimal places (money is USD to the cent)"),
        (3, "price", LARGE),
    ]
    # the quarantined record shows the amount the file really holds
    assert [json.loads(r[3])["price"] for r in rejected] == ["149999.984375", "262144.00"]
