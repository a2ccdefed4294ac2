"""Every table of the landing contract is written, in contract column order, with valid values."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from demo.writer import FORMATS
from ingestion.contract import load_contract
from tests.demo.helpers import extract_files, read_text

CONTRACT = load_contract()
TABLES = [t.qualified_name for t in CONTRACT.tables]
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")
MONEY = re.compile(r"^-?\d+\.\d\d$")


def _unparsable(values: pd.Series, duck_type: str) -> int:
    """How many non-null values DuckDB cannot cast to the contract type."""
    df = pd.DataFrame({"v": values.dropna().astype(str)})
    with duckdb.connect() as con:
        con.register("vals", df)
        return con.execute(
            f"select count(*) from vals where try_cast(v as {duck_type}) is null"
        ).fetchone()[0]


def test_all_22_contract_tables_are_written(snapshot_chain):
    _, report = snapshot_chain
    assert len(TABLES) == 22
    assert sorted(report.rows) == sorted(TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_extract_conforms_to_contract(snapshot_chain, name):
    root, _ = snapshot_chain
    table = CONTRACT.table(name)
    files = extract_files(root, table)
    assert [f.name for f in files] == [f"2026-11-15.{FORMATS[table.system]}"]
    df = read_text(files[0])
    assert list(df.columns) == table.column_names
    assert len(df) > 0
    assert not df.duplicated(list(table.primary_key)).any(), "primary key not unique"
    text = FORMATS[table.system] != "parquet"
    for col in table.columns:
        values = df[col.name]
        if not col.nullable:
            assert values.notna().all(), f"{col.name} has nulls"
        if col.enum is not None:
            assert set(values.dropna()) <= {str(e) for e in col.enum}, col.name
        assert _unparsable(values, col.duckdb_type) == 0, f"{col.name} does not parse"
        present = values.dropna()
        if text and col.type == "timestamp":
            assert present.str.match(OFFSET).all(), f"{col.name} lacks an offset"
        if text and col.type == "decimal":
            assert present.str.match(MONEY).all(), f"{col.name} is not 2-decimal money"
        if col.min is not None or col.max is not None:
            nums = pd.to_numeric(present)
            assert col.min is None or (nums >= col.min).all(), col.name
            assert col.max is None or (nums <= col.max).all(), col.name


def test_invoice_line_net_amount_is_quantity_times_price_minus_discount(snapshot_chain):
    root, _ = snapshot_chain
    lines = read_text(extract_files(root, CONTRACT.table("pos.invoice_lines"))[0])
    q, p, d, n = (
        pd.to_numeric(lines[c]) for c in ("quantity", "unit_price", "discount_amount", "net_amount")
    )
    assert ((q * p - d - n).abs() < 0.005).all()
