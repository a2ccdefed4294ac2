"""Data versions of the raw tables: what lets Dagster tell a load that changed a table from
one that found nothing new.

Dagster gives an asset without a data version of its own a new one at every materialization
(made from the run id). `raw_landing` had none, so every re-run of it, even one that loaded
no file, marked every staging model over it stale in the UI, and "Materialize stale and
missing" rebuilt the whole graph. With these versions a model is stale only when a table it
reads changed (or its code did: `orchestration/defs/dbt/translator.py`).

A raw table's version is its row count and the newest load that wrote to it. The loader never
deletes a raw row and dlt stamps every row it writes with its load id (a later load has a
larger id), so the pair changes exactly when a load wrote to the table, whatever the rows.
The loader's file ledger (`raw_meta.loaded_files`, which dbt's coverage reads) gets the same
pair from its own rows, refused files included.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from ingestion.contract import Table
from safeio.sqlquote import quote_ident, sql_str

#: The version of a table the warehouse does not have (no load has created it yet).
ABSENT = "absent"
#: The version of a table whose rows carry no load id (made without the loader: a test
#: fixture, a hand-made raw layer): whether it changed cannot be told.
UNVERSIONED = "unversioned"
#: `system.table` of the loader's file ledger, as versioned here.
LEDGER = "raw_meta.loaded_files"


def _version(rows: int, newest_load: str | None) -> str:
    return f"rows={rows} newest_load={newest_load or 'none'}"


def raw_data_versions(warehouse: Path, tables: Sequence[Table]) -> dict[str, str]:
    """`system.table` (and `LEDGER`) -> data version, read from the warehouse in one query.

    Opened read-only: the loader has closed its connection when this runs, and a reader never
    takes the file's write lock from the next step.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall()
        existing = {(schema, name) for schema, name, _ in columns}
        with_column = set(columns)
        parts: list[str] = []
        for qualified, schema, name, load_column in [
            *((t.qualified_name, t.dataset, t.name, "_dlt_load_id") for t in tables),
            (LEDGER, "raw_meta", "loaded_files", "load_id"),
        ]:
            if (schema, name, load_column) in with_column:
                parts.append(
                    f"select {sql_str(qualified)}, count(*), max({quote_ident(load_column)}) "
                    f"from {quote_ident(schema)}.{quote_ident(name)}"
                )
        rows = con.execute(" union all ".join(parts)).fetchall() if parts else []
    finally:
        con.close()
    found = {qualified: _version(count, newest) for qualified, count, newest in rows}
    located = {t.qualified_name: (t.dataset, t.name) for t in tables} | {
        LEDGER: ("raw_meta", "loaded_files")
    }
    return {
        qualified: found.get(qualified, UNVERSIONED if where in existing else ABSENT)
        for qualified, where in located.items()
    }
