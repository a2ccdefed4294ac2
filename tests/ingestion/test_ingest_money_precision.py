"""Money is USD to the cent: an amount with a third significant decimal is quarantined, not rounded.

A cast to DECIMAL(18,2) rounds 12.345 to 12.35 silently, and a range check after it lets
-0.004 pass `min: 0` as 0.00. Every format is held to the same rule: CSV and JSON Lines text,
Parquet DECIMAL(18,4), and Parquet DOUBLE, where a value within a billionth of a dollar of a
whole cent is that cent amount (a double cannot hold 12.35 exactly).
The table is pms.membership_plans: `price` is a required decimal with `min: 0`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from ingest_fixtures import CONTRACT, validate_one, write

PLANS = CONTRACT.table("pms.membership_plans")
CENTS = "more than 2 decimal places (money is USD to the cent)"
TS = "2026-11-01T00:00:00Z"


def _check(path: Path, fmt: str) -> tuple[list[tuple], list[tuple]]:
    """(quarantine as (row, column, reason), valid rows as (plan_id, price text))."""
    return validate_one(path, "pms.membership_plans", fmt, "plan_id, price::varchar")


#: price text -> the verdict worked out by hand: a reason, or the stored amount.
TEXT_PRICES: list[tuple[str, str]] = [
    ("12.345", CENTS),
    ("-0.004", CENTS),  # rounded, it would be 0.00 and pass min: 0
    ("12.3400", "12.34"),  # trailing zeros carry no cents
    ("0.0049", CENTS),
    ("129.999", CENTS),  # rounded, it would be a whole 130.00
    ("-0.01", "out of range [0, ]"),
    ("12.", "12.00"),
    (".5", "0.50"),
    ("7", "7.00"),
    ("abc", "not a decimal amount"),
]


def _expected(prices: list[tuple[str, str]]) -> tuple[list[tuple], list[tuple]]:
    quarantine, valid = [], []
    for n, (_, verdict) in enumerate(prices, 1):
        if verdict[0].isdigit():
            valid.append((f"M{n}", verdict))
        else:
            quarantine.append((n, "price", verdict))
    return quarantine, valid


def test_csv_amounts_with_a_third_decimal_are_quarantined(tmp_path):
    lines = ["plan_id,name,price,billing_period_months,updated_at"]
    lines += [f"M{n},a,{price},1,{TS}" for n, (price, _) in enumerate(TEXT_PRICES, 1)]
    path = write(tmp_path, "e1.csv", "\n".join(lines) + "\n")
    assert _check(path, "csv") == _expected(TEXT_PRICES)


def test_jsonl_amounts_as_strings_and_numbers_follow_the_same_rule(tmp_path):
    numbers = [(p, v) for p, v in TEXT_PRICES if p not in ("12.", ".5", "abc")]  # not JSON
    rows = [(p, v, True) for p, v in TEXT_PRICES] + [(p, v, False) for p, v in numbers]
    lines = [
        f'{{"plan_id": "M{n}", "name": "a", "price": {json.dumps(p) if quoted else p}, '
        f'"billing_period_months": 1, "updated_at": "{TS}"}}'
        for n, (p, _, quoted) in enumerate(rows, 1)
    ]
    path = write(tmp_path, "e1.jsonl", "\n".join(lines) + "\n")
    assert _check(path, "jsonl") == _expected([(p, v) for p, v, _ in rows])


def _parquet(tmp_path: Path, prices: pa.Array) -> Path:
    n = len(prices)
    table = pa.table(
        {
            "plan_id": [f"M{i}" for i in range(1, n + 1)],
            "name": ["a"] * n,
            "price": prices,
            "billing_period_months": pa.array([1] * n, pa.int32()),
            "updated_at": [TS] * n,
        }
    )
    path = tmp_path / "e1.parquet"
    pq.write_table(table, path)
    return path


def test_parquet_decimal_with_four_places_is_held_to_cents(tmp_path):
    values = ["12.3450", "-0.0040", "12.3400", "0.0000"]
    prices = pa.array([Decimal(v) for v in values], pa.decimal128(18, 4))
    quarantine, valid = _check(_parquet(tmp_path, prices), "parquet")
    assert quarantine == [(1, "price", CENTS), (2, "price", CENTS)]
    assert valid == [("M3", "12.34"), ("M4", "0.00")]


def test_parquet_double_within_a_billionth_of_a_cent_amount_is_that_amount(tmp_path):
    prices = pa.array(
        [
            12.35,  # really 12.3499999999999996...: a whole cent amount
            0.1 + 0.2,  # 0.30000000000000004: float arithmetic, 0.30
            1e-12,  # 0.00
            12.345,  # a third decimal
            -0.004,  # a third decimal, not 0.00 passing min: 0
            12.3449999,  # 1e-7 from 12.345: far more than a billionth of a dollar
            float("nan"),
            1e20,  # beyond DECIMAL(18,2): its text 1e+20 is no decimal amount
            -0.01,
        ],
        pa.float64(),
    )
    quarantine, valid = _check(_parquet(tmp_path, prices), "parquet")
    assert quarantine == [
        (4, "price", CENTS),
        (5, "price", CENTS),
        (6, "price", CENTS),
        (7, "price", "not a decimal amount"),
        (8, "price", "not a decimal amount"),
        (9, "price", "out of range [0, ]"),
    ]
    assert valid == [("M1", "12.35"), ("M2", "0.30"), ("M3", "0.00")]
