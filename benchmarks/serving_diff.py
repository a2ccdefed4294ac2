"""Are two serving.duckdb files the same results? Every `marts` table, cell for cell.

Used by `bench_tenants` to prove that running tenants side by side changes none of their
results. Doubles compare to 1e-9 relative: DuckDB sums on several threads in varying order,
so the last bits of a double can differ between any two runs of the same data (the tenant
isolation test compares the same way). Differences are described by table, row number and
column, never by value.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from safeio.sqlquote import quote_ident

#: Most differences listed per comparison; one is enough to fail, a few help to see a pattern.
MAX_LISTED = 20


def same_cell(a: object, b: object) -> bool:
    """Equal; two doubles within 1e-9 relative (or 1e-12 absolute, around zero) count as equal."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, []).append((column, dtype))
    return tables


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from marts.{quote_ident(table)} order by all").fetchall()


def _diff_rows(table: str, columns: list[str], left: list[tuple], right: list[tuple]) -> list[str]:
    if len(left) != len(right):
        return [f"{table}: {len(left)} rows against {len(right)}"]
    found = []
    for number, (a, b) in enumerate(zip(left, right, strict=True), start=1):
        for column, x, y in zip(columns, a, b, strict=True):
            if not same_cell(x, y):
                found.append(f"{table}: row {number}, column {column} differs")
    return found


def diff_marts(left: Path, right: Path) -> list[str]:
    """What differs between the `marts` schemas of two serving files (empty: the same)."""
    a = duckdb.connect(str(left), read_only=True)
    b = duckdb.connect(str(right), read_only=True)
    try:
        tables_a, tables_b = _tables(a), _tables(b)
        found = [f"{t}: only in {left}" for t in sorted(set(tables_a) - set(tables_b))]
        found += [f"{t}: only in {right}" for t in sorted(set(tables_b) - set(tables_a))]
        for table in sorted(set(tables_a) & set(tables_b)):
            if tables_a[table] != tables_b[table]:
                found.append(f"{table}: columns or types differ")
                continue
            columns = [c for c, _ in tables_a[table]]
            found += _diff_rows(table, columns, _rows(a, table), _rows(b, table))
            if len(found) >= MAX_LISTED:
                break
    finally:
        a.close()
        b.close()
    return found[:MAX_LISTED]


def table_count(path: Path) -> int:
    """How many `marts` tables a serving file holds (to show that a comparison covered them)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return len(_tables(con))
    finally:
        con.close()
