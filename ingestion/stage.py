"""The in-memory database the loader's connections share: checked rows dlt reads in place.

A connection's temp tables are its own, and dlt runs on another connection of the same DuckDB
instance (its own thread, `ingestion.system_load`). What dlt must read is therefore kept in an
in-memory database attached to the instance (`STAGE`), which every connection of it sees. The
validator writes each file's checked rows there, so a table whose keys no stored row contests
(a first load, a delta of new keys) is handed to dlt as a view over them: no copy of its rows.
Objects are named like the loader's temp objects (`__f<seq>_<system>_<table>...`,
`__inc_<system>_<table>`), so what one table made is dropped by the same prefixes, once dlt has
read it. Nothing here outlives the connection: the database is memory, spilled under the
data dir like the rest.
"""

from __future__ import annotations

import duckdb

from safeio.sqlquote import quote_ident

#: The attached in-memory database (one per DuckDB instance, attached by the first user).
STAGE = "__medspa_stage"


def attach(con: duckdb.DuckDBPyConnection) -> None:
    """Attach `STAGE` to the connection's instance (once; later calls do nothing)."""
    con.execute(f"attach if not exists ':memory:' as {STAGE}")


def relation(name: str) -> str:
    """The qualified name of `name` in `STAGE` (a view there must name what it reads in full)."""
    return f"{STAGE}.main.{quote_ident(name)}"
