"""The raw layer's shape comes from the contract, not from whichever files arrived.

Every contract table exists in `raw_<system>` with its contract columns and types even
when no extract of it was ever seen (issue 8: a clinic without a CRM still builds), so
dbt's sources always resolve. The loader adds its lineage columns on top.
"""

from __future__ import annotations

import duckdb

from ingestion.contract import Contract, Table, load_contract


def create_table_sql(table: Table) -> str:
    """`CREATE TABLE IF NOT EXISTS` for one contract table, contract columns in order."""
    cols = ",\n    ".join(f'"{c.name}" {c.duckdb_type}' for c in table.columns)
    return f'CREATE TABLE IF NOT EXISTS "{table.dataset}"."{table.name}" (\n    {cols}\n)'


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, contract: Contract | None = None) -> None:
    """Create every raw schema and table the contract names that does not exist yet."""
    contract = contract or load_contract()
    for system in contract.systems:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "raw_{system}"')
    for table in contract.tables:
        con.execute(create_table_sql(table))
