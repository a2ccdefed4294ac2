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


def sealed_reader(serving_path: Path, peers: Path | None = None) -> duckdb.DuckDBPyConnection:
    """serving.duckdb read-only, sealed (`SEALED_READER_CONFIG`), timestamps shown in UTC.

    `peers`, when the file exists, is attached read-only as catalog `peers` first; without it
    a page's `optional` query on `peers.*` finds no table and says so.
    """
    if peers is None or not Path(peers).is_file():
        con = duckdb.connect(str(serving_path), read_only=True, config=_seal_at_connect())
    else:
        con = duckdb.connect(str(serving_path), read_only=True)
        con.execute(f"attach {sql_str(str(peers))} as {PEERS_CATALOG} (read_only)")
        con.execute("set enable_external_access = false")
    # Timestamps render in UTC whatever the machine's zone: same data, same page.
    con.execute("set TimeZone = 'UTC'")
    con.execute("set lock_configuration = true")
    return con


def _seal_at_connect() -> dict[str, object]:
    return {k: v for k, v in SEALED_READER_CONFIG.items() if k != "lock_configuration"}
