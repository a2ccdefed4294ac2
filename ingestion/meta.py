"""The loader's bookkeeping: which files were seen, what was quarantined, what drifted.

Read before a load (to skip files already loaded and to know which tables were ever
delivered) and written after dlt committed the rows, in one transaction, so a crash in
between leaves the files unrecorded and the next run simply redoes them (the merge rule
makes that harmless). Schemas are fixed in `ingestion.raw_schema`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from ingestion.contract import Contract, Table
from ingestion.landing import LandingFile
from ingestion.raw_schema import SCHEMA_DRIFT_COLUMNS
from ingestion.readers import quote_ident
from ingestion.report import RowCounts
from ingestion.validate import LINEAGE_COLUMNS, MISSING_COLUMNS, STOPS_LOAD

#: File statuses never written to raw_meta.loaded_files: the next run reads those files again.
UNRECORDED = frozenset({"error", "held"})


@dataclass
class FileRecord(RowCounts):
    """One landing file's fate in this load (a row of raw_meta.loaded_files)."""

    file: LandingFile
    sha256: str
    #: loaded | refused | error | held; error and held files are not recorded, so a later run
    #: reads them again (error: our fault; held: the table's load is stopped)
    status: str = "loaded"
    refusal_reason: str | None = None
    #: refused for a missing contract column: the table's whole load fails (`ingestion.prepare`)
    stops_table: bool = False
    quarantine: pa.Table | None = None  # source_file, row_number, column_name, reason, raw_record
    #: the drift columns as the load report names them (`drift_columns` are the stored names,
    #: recorded in raw_meta.schema_drift)
    drift_labels: list[str] = field(default_factory=list)
    #: the drift columns' names as the file spells them (raw_meta.schema_drift.name_in_file)
    drift_names_in_file: list[str] = field(default_factory=list)


#: dlt's own lineage column. Created here, nullable, because dlt would add it as NOT NULL,
#: which DuckDB cannot do to an existing table ("Adding columns with constraints").
DLT_COLUMNS: dict[str, str] = {"_dlt_load_id": "VARCHAR"}


def ensure_lineage_columns(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Add the `_`-prefixed lineage columns (ours and dlt's) to every raw table lacking them."""
    for table in contract.tables:
        for name, sql_type in {**LINEAGE_COLUMNS, **DLT_COLUMNS}.items():
            con.execute(
                f"alter table {_qualified(table)} add column if not exists "
                f"{quote_ident(name)} {sql_type}"
            )


def _qualified(table: Table) -> str:
    return f"{quote_ident(table.dataset)}.{quote_ident(table.name)}"


def seen_files(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(relative path, sha256) of every file recorded before, loaded or refused."""
    rows = con.execute("select distinct file_path, file_sha256 from raw_meta.loaded_files")
    return {(p, h) for p, h in rows.fetchall()}


def stopping_refusals(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(relative path, sha256) -> refusal reason, of every file refused for a missing contract
    column. While such a file stays in the landing folder with the same content, its table
    loads nothing: the landing contract fails the table's load, and loading the table's later
    extracts around the missing one would leave a gap nobody sees."""
    rows = con.execute(
        """select file_path, file_sha256, any_value(refusal_reason)
        from raw_meta.loaded_files
        where status = 'refused'
            and starts_with(refusal_reason, file_path || ': ' || ?)
            and ends_with(refusal_reason, '; ' || ?)
        group by file_path, file_sha256""",
        [MISSING_COLUMNS, STOPS_LOAD],
    )
    return {(p, h): reason for p, h, reason in rows.fetchall()}


def delivered_tables(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """`system.table` -> True if a file of it was ever loaded (False: only refused)."""
    rows = con.execute(
        """select system || '.' || table_name, bool_or(status = 'loaded')
        from raw_meta.loaded_files group by 1"""
    ).fetchall()
    return {name: bool(loaded) for name, loaded in rows}


def has_rows(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    return con.execute(f"select exists (select 1 from {_qualified(table)})").fetchone()[0]


def record(
    con: duckdb.DuckDBPyConnection, load_id: str, records: list[FileRecord], at: dt.datetime
) -> None:
    """Write loaded_files, schema_drift and rejected_rows for `records` in one transaction."""
    con.execute("begin")
    try:
        for r in (r for r in records if r.status not in UNRECORDED):
            f = r.file
            con.execute(
                "insert into raw_meta.loaded_files values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id,
                    f.rel_path,
                    r.sha256,
                    f.system,
                    f.table,
                    f.extract_id,
                    r.status,
                    r.refusal_reason,
                    r.rows_read,
                    r.rows_inserted,
                    r.rows_updated,
                    r.rows_unchanged,
                    r.rows_quarantined,
                    at,
                ],
            )
            for column, in_file in zip(r.drift_columns, r.drift_names_in_file, strict=True):
                con.execute(
                    f"insert into raw_meta.schema_drift ({SCHEMA_DRIFT_COLUMNS}) "
                    "values (?, ?, ?, ?, ?, ?, ?)",
                    [load_id, f.rel_path, f.system, f.table, column, at, in_file],
                )
            if r.quarantine is not None and r.quarantine.num_rows:
                quarantine = r.quarantine  # noqa: F841 - read by DuckDB's replacement scan
                con.execute(
                    """insert into raw_quarantine.rejected_rows
                    select ?, source_file, row_number, ?, ?, column_name, reason, raw_record, ?
                    from quarantine""",
                    [load_id, f.system, f.table, at],
                )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
