"""The loader's temp tables and views: dropped by name prefix, or a read file's text copy.

Each table's preparation names its temp objects after the file and table
(`__f<seq>_<system>_<table>...`, `__inc_<system>_<table>...`), so what one table made can be
dropped by prefix once dlt no longer needs it; a file's rows as text go as soon as they are
validated (`drop_read`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from safeio.sqlquote import quote_ident

if TYPE_CHECKING:
    from ingestion.readers import RawFile


def drop_temp(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """Drop every temp view and table whose name starts with `prefix` (views first)."""
    # duckdb_views()/duckdb_tables(), not information_schema: that one costs ~50 ms a call
    # once a load's temp tables hold millions of rows.
    rows = con.execute(
        """select view_name, 'view' from duckdb_views()
        where temporary and starts_with(view_name, ?)
        union all
        select table_name, 'table' from duckdb_tables()
        where temporary and starts_with(table_name, ?)
        order by 2 desc, 1 desc""",
        [prefix, prefix],
    ).fetchall()
    for table_name, kind in rows:
        con.execute(f"drop {kind} if exists {quote_ident(table_name)}")


def drop_read(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Drop what `read_file` made, once `validate` materialised everything it keeps.

    The file's rows as text are the biggest thing a load holds; freeing them before the
    merge and dlt's load keeps a chain-scale table from spilling to disk.
    """
    names = [raw.relation, f"{raw.relation}__parsed", f"{raw.relation}__vals", raw.rejects]
    rows = con.execute(
        """select view_name, 'view' from duckdb_views()
        where temporary and list_contains(?, view_name)
        union all
        select table_name, 'table' from duckdb_tables()
        where temporary and list_contains(?, table_name)
        order by 2 desc""",
        [names, names],
    ).fetchall()
    for name, kind in rows:
        con.execute(f"drop {kind} if exists {quote_ident(name)}")
