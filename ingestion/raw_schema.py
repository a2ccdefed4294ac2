"""The raw layer's shape comes from the contract, not from whichever files arrived.

Every contract table exists in `raw_<system>` with its contract columns and types even
when no extract of it was ever seen (a clinic without a CRM still builds; see
docs/landing-contract.md), so dbt's sources always resolve. The loader adds its lineage
columns on top.
"""

from __future__ import annotations

import duckdb

from ingestion.contract import Contract, Table, load_contract


def create_table_sql(table: Table) -> str:
    """`CREATE TABLE IF NOT EXISTS` for one contract table, contract columns in order."""
    cols = ",\n    ".join(f'"{c.name}" {c.duckdb_type}' for c in table.columns)
    return f'CREATE TABLE IF NOT EXISTS "{table.dataset}"."{table.name}" (\n    {cols}\n)'


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, contract: Contract | None = None) -> None:
    """Create every raw schema and table the contract names that does not exist yet, and add
    the contract columns an existing table lacks.

    A column added to the contract after a deployment's first load would otherwise be missing
    from its raw table until a file carrying it loads, and staging, which selects it, would
    fail on a binder error instead of the load's own message (a file without a contract column
    is refused, naming file and column). Old rows get null in the new column."""
    contract = contract or load_contract()
    for system in contract.systems:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "raw_{system}"')
    for table in contract.tables:
        con.execute(create_table_sql(table))
    existing = set(
        con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema like 'raw\\_%' escape '\\'"
        ).fetchall()
    )
    for table in contract.tables:
        for column in table.columns:
            if (table.dataset, table.name, column.name) not in existing:
                con.execute(
                    f'ALTER TABLE "{table.dataset}"."{table.name}" '
                    f'ADD COLUMN "{column.name}" {column.duckdb_type}'
                )


#: Bookkeeping tables the loader writes beside the raw data. They hold no PHI except
#: `rejected_rows.raw_record` (the rejected row as text) and, when a file's header is a record,
#: `schema_drift`'s names (`drift_names.looks_like_a_value`): both stay in the raw layer.
META_TABLES_SQL: tuple[str, ...] = (
    "CREATE SCHEMA IF NOT EXISTS raw_meta",
    "CREATE SCHEMA IF NOT EXISTS raw_quarantine",
    # One row per landing file the loader has seen: loaded, or refused with a reason.
    # A file (same relative path and content hash) that was loaded is never loaded again.
    """CREATE TABLE IF NOT EXISTS raw_meta.loaded_files (
        load_id VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,          -- relative to the landing folder
        file_sha256 VARCHAR NOT NULL,
        system VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        extract_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,             -- loaded | refused
        refusal_reason VARCHAR,              -- names file and column, never a value
        rows_read BIGINT NOT NULL,
        rows_inserted BIGINT NOT NULL,
        rows_updated BIGINT NOT NULL,
        rows_unchanged BIGINT NOT NULL,      -- lost to the stored row (older, or tie + earlier)
        rows_quarantined BIGINT NOT NULL,
        loaded_at TIMESTAMP WITH TIME ZONE NOT NULL
    )""",
    # Columns an extract carried that the contract does not name (loaded, reported as drift).
    """CREATE TABLE IF NOT EXISTS raw_meta.schema_drift (
        load_id VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,
        system VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,        -- the name it is stored under in the raw table
        detected_at TIMESTAMP WITH TIME ZONE NOT NULL,
        name_in_file VARCHAR                 -- as the file spells it (null: recorded before
                                             -- this column existed)
    )""",
    # A warehouse from before `name_in_file` gets the column (last, as a new table has it).
    "ALTER TABLE raw_meta.schema_drift ADD COLUMN IF NOT EXISTS name_in_file VARCHAR",
    # Rows that failed validation: where they came from and why. Never printed with raw_record.
    """CREATE TABLE IF NOT EXISTS raw_quarantine.rejected_rows (
        load_id VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        row_number BIGINT,                   -- 1-based data row (header excluded); null if unknown
        system VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        column_name VARCHAR,                 -- the offending column, when there is one
        reason VARCHAR NOT NULL,             -- e.g. "invalid decimal", "unknown enum value"
        raw_record VARCHAR,                  -- the rejected row as JSON text (raw layer only: PHI)
        rejected_at TIMESTAMP WITH TIME ZONE NOT NULL
    )""",
)


#: raw_meta.schema_drift's columns in the order `ingestion.meta.record` writes them.
SCHEMA_DRIFT_COLUMNS = (
    "load_id, file_path, system, table_name, column_name, detected_at, name_in_file"
)


def ensure_meta_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the loader's bookkeeping tables (raw_meta.*, raw_quarantine.rejected_rows)."""
    for statement in META_TABLES_SQL:
        con.execute(statement)
