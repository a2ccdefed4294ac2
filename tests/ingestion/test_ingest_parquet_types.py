"""A Parquet column stored in its contract type is checked as a value, with its text's verdict.

The loader keeps such a column typed instead of casting it to text and parsing it back
(`ingestion.validate.stored_types`). Each test writes the same rows twice: once in the
contract's types, once as the text DuckDB makes of them (what the text path reads), and
requires the same quarantine (row, column, reason, raw record) and the same valid rows from
both, including the values whose text the contract refuses (infinity, BC, five-digit years).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ingest_fixtures import CONTRACT

from ingestion.contract import Column, Table
from ingestion.landing import LandingFile
from ingestion.readers import read_file
from ingestion.validate import stored_types, validate

#: Values each kept type must judge as its text would: SQL literals, None for a null.
HOSTILE: dict[str, list[str | None]] = {
    "integer": ["0", "-5", "9223372036854775807", None],
    "decimal": ["0.00", "-0.01", "9999999999999999.99", None],
    "boolean": ["true", "false", None],
    "date": [
        "DATE '0001-01-01'",
        "DATE '9999-12-31'",
        "DATE 'infinity'",
        "DATE '-infinity'",
        "DATE '0044-03-15 (BC)'",
        "DATE '10000-01-01'",
        None,
    ],
    "timestamp": [
        "TIMESTAMPTZ '2026-11-20 10:00:00.123456+00'",
        "TIMESTAMPTZ '0001-01-01 00:00:00+00'",
        "TIMESTAMPTZ '0001-01-01 00:00:00+00' - INTERVAL 1 MICROSECOND",
        "TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'",
        "TIMESTAMPTZ '10000-01-01 00:00:00+00'",
        "TIMESTAMPTZ 'infinity'",
        "TIMESTAMPTZ '-infinity'",
        None,
    ],
}


def _valid_literal(col: Column, row: int) -> str:
    """A value of `col` the contract accepts (string keys unique per row)."""
    if col.enum is not None:
        value = col.enum[0]
        return f"'{value}'" if col.type == "string" else str(value)
    if col.type == "string":
        return f"'v{row}'"
    if col.type == "integer":
        return str(col.min if col.min is not None else 1)
    return {
        "decimal": "10.00",
        "boolean": "true",
        "date": "DATE '2026-11-20'",
        "time": "TIME '09:00:00'",
        "timestamp": "TIMESTAMPTZ '2026-11-20 10:00:00+00'",
    }[col.type]


def _rows(table: Table) -> list[dict[str, str | None]]:
    """A valid row, then one row per kept column and hostile value (that column changed)."""
    kept = stored_types(table)
    varied = [(c.name, v) for c in table.columns if c.name in kept for v in HOSTILE[c.type]]
    if any(c.type == "integer" and c.enum for c in table.columns):
        varied += [(c.name, "5") for c in table.columns if c.type == "integer" and c.enum]
    rows = []
    for n, change in enumerate([None, *varied]):
        row: dict[str, str | None] = {c.name: _valid_literal(c, n) for c in table.columns}
        if change is not None:
            row[change[0]] = change[1]
        rows.append(row)
    return rows


def _write(con: duckdb.DuckDBPyConnection, table: Table, path: Path, as_text: bool) -> None:
    """The rows as Parquet: in the contract's types, or as the text DuckDB makes of them."""
    selects = []
    for row in _rows(table):
        values = []
        for col in table.columns:
            value = row[col.name]
            typed = f"cast({value if value is not None else 'null'} as {col.duckdb_type})"
            values.append(f"{typed}::varchar" if as_text else typed)
            values[-1] += f' as "{col.name}"'
        selects.append("select " + ", ".join(values))
    con.execute(f"copy ({' union all '.join(selects)}) to '{path}' (format parquet)")


def _checked(con, table: Table, path: Path, name: str, keep: bool):
    file = LandingFile(table.system, table.name, "e1", path, "x/y/e1.parquet", "parquet")
    raw = read_file(con, file, name, stored_types(table) if keep else None)
    result = validate(con, table, raw, "e1", file.rel_path)
    quarantine = con.execute(
        f"select row_number, column_name, reason, raw_record from {result.quarantine} order by 1"
    ).fetchall()
    valid = con.execute(f"select * from {result.valid} order by _source_row").fetchall()
    return raw.typed_columns, quarantine, valid


@pytest.mark.parametrize(
    "qualified",
    [
        "pms.services",
        "pms.devices",
        "pms.providers",
        "pms.membership_plans",
        "pms.location_closures",
        "pos.invoice_lines",
    ],
)
def test_kept_types_give_the_text_paths_verdicts(tmp_path, qualified):
    table = CONTRACT.table(qualified)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # the loader's session (ingestion.pipeline)
    typed_path, text_path = tmp_path / "typed.parquet", tmp_path / "text.parquet"
    _write(con, table, typed_path, as_text=False)
    _write(con, table, text_path, as_text=True)

    kept, typed_quarantine, typed_valid = _checked(con, table, typed_path, "a", keep=True)
    none_kept, text_quarantine, text_valid = _checked(con, table, text_path, "b", keep=True)

    assert kept == set(stored_types(table))  # the typed file really took the kept path
    assert not none_kept  # text columns are never "stored in the contract's type"
    assert typed_quarantine == text_quarantine
    assert typed_valid == text_valid
    assert len(typed_valid) + len({r[0] for r in typed_quarantine}) == len(_rows(table))


def test_the_hostile_values_are_judged_as_stated(tmp_path):
    """Worked by hand for pms.devices: purchase_cost >= 0; purchase_cost, purchased_on and
    updated_at required."""
    table = CONTRACT.table("pms.devices")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    path = tmp_path / "devices.parquet"
    _write(con, table, path, as_text=False)
    _, quarantine, valid = _checked(con, table, path, "d", keep=True)
    reasons = {(row, column): reason for row, column, reason, _ in quarantine}
    bad_date = "not a valid date (YYYY-MM-DD)"
    bad_ts = "not an ISO 8601 timestamp with offset"
    # rows (1-based): 1 valid; 2-5 purchase_cost; 6-12 purchased_on; 13-20 updated_at
    assert reasons == {
        (3, "purchase_cost"): "out of range [0, ]",
        (5, "purchase_cost"): "missing required value",
        (8, "purchased_on"): bad_date,  # infinity
        (9, "purchased_on"): bad_date,  # -infinity
        (10, "purchased_on"): bad_date,  # 44 BC
        (11, "purchased_on"): bad_date,  # year 10000
        (12, "purchased_on"): "missing required value",
        (15, "updated_at"): bad_ts,  # a microsecond before year 1
        (17, "updated_at"): bad_ts,  # year 10000
        (18, "updated_at"): bad_ts,  # infinity
        (19, "updated_at"): bad_ts,  # -infinity
        (20, "updated_at"): "missing required value",
    }
    assert [r[-1] for r in valid] == [1, 2, 4, 6, 7, 13, 14, 16]
    # the raw record keeps the text, as for a file read as text
    (record,) = [r[3] for r in quarantine if r[0] == 17]
    assert '"updated_at":"10000-01-01 00:00:00+00"' in record


def test_a_column_stored_in_another_type_is_read_as_text(tmp_path):
    """A decimal stored with four places, or a timestamp without its offset, keeps the text
    path and its verdicts: 12.3456 has more places than cents, the offset is missing."""
    table = CONTRACT.table("pos.invoice_lines")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    path = tmp_path / "lines.parquet"
    con.execute(
        f"""copy (select 'L1' as invoice_line_id, 'I1' as invoice_id, 'service' as line_type,
            'S1' as service_id, null::varchar as product_id, null::varchar as plan_id,
            1::integer as quantity, 12.3456::decimal(18, 4) as unit_price,
            0.00::decimal(18, 2) as discount_amount, 12.35::decimal(18, 2) as net_amount,
            0.00::decimal(18, 2) as cost_amount,
            timestamp '2026-11-20 10:00:00' as updated_at) to '{path}' (format parquet)"""
    )
    kept, quarantine, valid = _checked(con, table, path, "l", keep=True)
    assert kept == {"discount_amount", "net_amount", "cost_amount"}
    assert [(r[0], r[1], r[2]) for r in quarantine] == [
        (
            1,
            "unit_price",
            "more than 2 decimal places (money is USD to the cent); "
            "also updated_at: not an ISO 8601 timestamp with offset",
        )
    ]
    assert valid == []
