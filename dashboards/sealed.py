"""How pages (and every analyst, see README) open serving.duckdb: read-only and sealed.

Sealed means no file or network access (no `attach` of the warehouse, no `read_csv` of the
landing folder) and settings locked, so a page's SQL cannot switch that back on. A tenant's
peer benchmarks file is the one other database a site may read: it is attached read-only as
catalog `peers` *before* the seal, so pages reach `peers.kpi_benchmarks` and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from safeio.sqlquote import sql_str

SEALED_READER_CONFIG = {"enable_external_access": False, "lock_configuration": True}

#: The catalog name pages use for the peer benchmarks file (`peers.kpi_benchmarks`).
PEERS_CATALOG = "peers"


#: The catalog serving.duckdb is attached as (and made the default, so `marts.x` reads it).
SERVING_CATALOG = "serving"


def sealed_reader(
    serving_path: Path, peers: Path | None = None, *, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """serving.duckdb read-only, sealed (`SEALED_READER_CONFIG`), timestamps shown in UTC.

    `peers`, when the file exists, is attached read-only as catalog `peers`; without it a
    page's `optional` query on `peers.*` finds no table and says so. Both files are attached
    to an in-memory database rather than opened directly: DuckDB refuses a second connection
    to a file that one process already holds with other settings, and the seal can only be
    set after the attaches, so the files are never opened with a configuration of their own.
    `threads=1` suits a process that opens the file for a point lookup (one location's
    scorecard): starting and stopping DuckDB's worker threads is then most of the open cost.
    """
    return sealed_readers(serving_path, peers, threads=threads)[0]


def sealed_readers(
    serving_path: Path, peers: Path | None = None, *, threads: int | None = None, count: int = 1
) -> list[duckdb.DuckDBPyConnection]:
    """`count` connections to one sealed database (see `sealed_reader`), for as many threads
    running page queries side by side. Each is set up (default catalog, time zone) before the
    seal: a connection made after it could not be, and would show another zone's timestamps.
    Closing the first closes the database."""
    config = {} if threads is None else {"threads": threads}
    con = duckdb.connect(":memory:", config=config)
    try:
        con.execute(f"attach {sql_str(str(serving_path))} as {SERVING_CATALOG} (read_only)")
        if peers is not None and Path(peers).is_file():
            con.execute(f"attach {sql_str(str(peers))} as {PEERS_CATALOG} (read_only)")
        for name, value in SEALED_READER_CONFIG.items():
            if name != "lock_configuration":
                con.execute(f"set {name} = {str(value).lower()}")
        cons = [con, *(con.cursor() for _ in range(count - 1))]
        for each in cons:
            each.execute(f"use {SERVING_CATALOG}")
            # Timestamps render in UTC whatever the machine's zone: same data, same page.
            each.execute("set TimeZone = 'UTC'")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return cons
