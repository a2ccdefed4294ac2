"""Turn one table's new extract files into the rows dlt should merge, file by file.

Each file is read (readers), typed and checked (validate); a file that cannot be read is
refused on its own, so one unreadable export never blocks the table's other files or any
other table. A file that lacks a contract column fails the table's whole load, as the landing
contract says: the table's other new files are held back (not recorded) until that file is
replaced or removed, so the table never moves on past an extract it could not load. The
surviving rows of all files are then compared with the stored rows (merge) so dlt receives
only the winners, as a query over the temp tables made here: they stay until the load is
done.
"""

from __future__ import annotations

import duckdb

from ingestion import stage
from ingestion.contract import Table
from ingestion.landing import LandingFile
from ingestion.merge import MergePlan, plan_merge
from ingestion.meta import FileRecord
from ingestion.readers import FileRefused, read_file
from ingestion.temp_tables import TEMP, drop_prefixed, drop_read
from ingestion.validate import MissingContractColumns, stored_types, text_column_names, validate


def prepare_table(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: list[tuple[LandingFile, str]],
    stopped: bool = False,
) -> tuple[list[FileRecord], MergePlan | None]:
    """Read, validate and merge-plan `files` ((file, sha256), extract order) of `table`.

    A file the contract rejects is `refused` (recorded; not retried until its content
    changes). A file that fails for any other reason is marked `error`: it is reported but
    not recorded, so the next run tries it again. When a file misses a contract column, or
    `stopped` (an earlier run refused one that is still in the landing folder), every file
    that would load is `held`: not loaded, not recorded. Every file is still read and checked,
    so a held file's own defects (a column missing from it too) are reported now.
    """
    records: list[FileRecord] = []
    valid: list[tuple[int, str]] = []
    by_seq: dict[int, FileRecord] = {}
    temp_names: list[str] = []
    keep_types = stored_types(table)
    text_columns = text_column_names(table)
    for seq, (file, sha) in enumerate(files):
        rec = FileRecord(file, sha)
        records.append(rec)
        name = f"__f{seq}_{table.system}_{table.name}"
        temp_names.append(name)
        try:
            raw = read_file(con, file, name, keep_types, text_columns, table.column_names)
            rec.rows_read = raw.rows_read
            checked = validate(con, table, raw, file.extract_id, file.rel_path)
        except FileRefused as exc:
            rec.status, rec.refusal_reason = "refused", f"{file.rel_path}: {exc.reason}"
            if exc.rows_read is not None:  # the reader counted the rows it refused
                rec.rows_read = exc.rows_read
            rec.stops_table = isinstance(exc, MissingContractColumns)
            continue
        except duckdb.Error as exc:  # our fault, not the file's: retry it next run
            rec.status, rec.refusal_reason = "error", f"{file.rel_path} ({type(exc).__name__})"
            continue
        rec.drift_columns = checked.drift_columns
        rec.drift_labels = checked.drift_labels
        rec.drift_names_in_file = checked.drift_names_in_file
        rec.rows_quarantined = checked.rows_quarantined
        rec.quarantine = con.execute(
            f"select * from {checked.quarantine} order by row_number"
        ).to_arrow_table()
        drop_read(con, raw)
        valid.append((seq, checked.valid))
        by_seq[seq] = rec
    if valid and (stopped or any(rec.stops_table for rec in records)):
        for seq, _ in valid:
            by_seq[seq].status = "held"
        valid = []
    if not valid:
        release(con, temp_names)
        return records, None
    plan = plan_merge(con, table, valid)
    for seq, counts in plan.counts.items():
        rec = by_seq[seq]
        rec.rows_inserted, rec.rows_updated = counts.inserted, counts.updated
        rec.rows_unchanged = counts.unchanged
    # The winners are read from the files' temp tables when dlt loads them: the caller
    # releases them after that (`release(con, plan.temp_prefixes)`).
    plan.temp_prefixes += temp_names
    return records, plan


def release(con: duckdb.DuckDBPyConnection, prefixes: list[str], keep_stage: bool = False) -> None:
    """Drop the temp tables and views a table's preparation made (names start with a prefix),
    and its objects in the stage unless `keep_stage` (dlt still reads them: the stage's are
    then dropped with the staged table, `ingestion.dlt_load.drop_staged`)."""
    databases = (TEMP,) if keep_stage else (TEMP, stage.STAGE)
    for prefix in prefixes:
        drop_prefixed(con, prefix, databases)
