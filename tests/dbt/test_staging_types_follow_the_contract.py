"""A contract column keeps its contract type through staging.

Staging casts every column it projects. A cast that disagrees with the contract is silent:
`cast(deposit_amount as integer)` over a `decimal` column turns 49.99 into 50 and every test
passes. On the built synthetic chain, each staging column named like a contract column of
its source table must have that column's type family: whole numbers stay whole numbers
(any width), money stays the contract's DECIMAL, text, dates, times, instants and booleans
stay what they are.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.contract import load_contract

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}


def allowed_types(contract_type: str, raw_type: str) -> set[str]:
    """The staging types that keep a column of `contract_type` (stored as `raw_type` in raw)."""
    return INTEGERS if contract_type == "integer" else {raw_type}


def test_an_integer_may_narrow_but_money_may_not_become_whole():
    assert "INTEGER" in allowed_types("integer", "BIGINT")
    assert "INTEGER" not in allowed_types("decimal", "DECIMAL(18,2)")
    assert "DOUBLE" not in allowed_types("decimal", "DECIMAL(18,2)")


def test_staging_columns_keep_their_contract_types(built_warehouse: Path) -> None:
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        types = {
            (schema, table, column): data_type
            for schema, table, column, data_type in con.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns "
                "where table_schema = 'staging' or table_schema like 'raw\\_%' escape '\\'"
            ).fetchall()
        }
    finally:
        con.close()
    checked, wrong = 0, []
    for table in load_contract().tables:
        staging = f"stg_{table.system}__{table.name}"
        for column in table.columns:
            staged = types.get(("staging", staging, column.name))
            if staged is None:  # dropped, renamed to a key or hash, or derived
                continue
            checked += 1
            raw = types[(table.dataset, table.name, column.name)]
            if staged not in allowed_types(column.type, raw):
                wrong.append(f"{staging}.{column.name}: {staged}, contract {column.type} ({raw})")
    assert checked > 100
    assert wrong == [], f"staging casts disagree with the contract: {wrong}"
