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


#: DuckDB's name for the database that holds a connection's temp tables and views.
TEMP = "temp"


def drop_prefixed(
    con: duckdb.DuckDBPyConnection, prefix: str, databases: tuple[str, ...] = (TEMP,)
) -> None:
    """Drop every view and table of `databases` whose name starts with `prefix` (views first).

    One catalog query for all of them: a table's release drops its temp objects and its
    objects in the stage (`ingestion.stage`) together.
    """
    _drop_matching(con, "starts_with({name}, $match)", prefix, databases)


def drop_read(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Drop what `read_file` made, once `validate` materialised everything it keeps.

    The file's rows as text are the biggest thing a load holds; freeing them before the
    merge and dlt's load keeps a chain-scale table from spilling to disk.
    """
    names = [raw.relation, f"{raw.relation}__parsed", f"{raw.relation}__vals", raw.rejects]
    _drop_matching(con, "list_contains($match, {name})", names, (TEMP,))


def _drop_matching(
    con: duckdb.DuckDBPyConnection, condition: str, match: object, databases: tuple[str, ...]
) -> None:
    """Drop the views, then the tables, of `databases` whose name meets `condition`.

    `condition` is SQL with `{name}` for the object's name column and `$match` for `match`.
    duckdb_views()/duckdb_tables(), not information_schema: that one costs ~50 ms a call
    once a load's temp tables hold millions of rows.
    """
    rows = con.execute(
        f"""select database_name, view_name, 'view' from duckdb_views()
        where list_contains($databases, database_name) and {condition.format(name="view_name")}
        union all
        select database_name, table_name, 'table' from duckdb_tables()
        where list_contains($databases, database_name) and {condition.format(name="table_name")}
        order by 3 desc, 2 desc""",
        {"databases": list(databases), "match": match},
    ).fetchall()
    for database, name, kind in rows:
        con.execute(f"drop {kind} if exists {quote_ident(database)}.main.{quote_ident(name)}")
