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

#: (table, column) pairs that record *when* a run happened, not what it computed: the loader's
#: wall-clock time of each table's last load. Two runs of the same data differ there by design.
WALL_CLOCK_COLUMNS = frozenset({("data_coverage", "last_loaded_at")})


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


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[tuple]:
    """All rows, sorted by every column except the wall-clock ones (which differ by design)."""
    keys = [quote_ident(c) for c in columns if (table, c) not in WALL_CLOCK_COLUMNS]
    order = ", ".join(keys) if keys else "all"
    return con.execute(f"select * from marts.{quote_ident(table)} order by {order}").fetchall()


def _diff_rows(table: str, columns: list[str], left: list[tuple], right: list[tuple]) -> list[str]:
    """One line per differing column (how many rows differ), so every table gets listed."""
    if len(left) != len(right):
        return [f"{table}: {len(left)} rows against {len(right)}"]
    differing = dict.fromkeys(columns, 0)
    for a, b in zip(left, right, strict=True):
        for column, x, y in zip(columns, a, b, strict=True):
            if (table, column) not in WALL_CLOCK_COLUMNS and not same_cell(x, y):
                differing[column] += 1
    return [
        f"{table}: column {column} differs in {n} of {len(left)} rows"
        for column, n in differing.items()
        if n
    ]


def diff_marts(left: Path, right: Path) -> list[str]:
    """What differs between the `marts` schemas of two serving files (empty: the same).

    Columns in `WALL_CLOCK_COLUMNS` are not compared (rows are still sorted by them).
    """
    a = duckdb.connect(str(left), read_only=True)
    b = duckdb.connect(str(right), read_only=True)
    try:
        for con in (a, b):  # DuckDB draws a bar on stdout for the long sorts, into the report
            con.execute("set enable_progress_bar = false")
        tables_a, tables_b = _tables(a), _tables(b)
        found = [f"{t}: only in {left}" for t in sorted(set(tables_a) - set(tables_b))]
        found += [f"{t}: only in {right}" for t in sorted(set(tables_b) - set(tables_a))]
        for table in sorted(set(tables_a) & set(tables_b)):
            if tables_a[table] != tables_b[table]:
                found.append(f"{table}: columns or types differ")
                continue
            columns = [c for c, _ in tables_a[table]]
            found += _diff_rows(table, columns, _rows(a, table, columns), _rows(b, table, columns))
    finally:
        a.close()
        b.close()
    return found


def table_count(path: Path) -> int:
    """How many `marts` tables a serving file holds (to show that a comparison covered them)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return len(_tables(con))
    finally:
        con.close()
