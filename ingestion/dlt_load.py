"""Hand the winning rows of one system to dlt: one pipeline and dataset per system.

The dataset is `raw_<system>` and the resources are named after the contract tables, so
dlt writes into exactly the tables `raw_schema.ensure_raw_tables` created (dlt finds them
and only adds the columns it lacks: lineage, drift). Column hints carry the contract's
types and keys; the data-type contract is frozen, so a value of another type fails loudly
instead of growing a `__v_text` variant column. The rows are already typed and filtered by
`ingestion.merge`, so dlt's merge never needs to decide who wins.

How the rows reach dlt: through the stage, an in-memory database attached to the warehouse's
instance (`ingestion.stage`; dlt's cursors are other connections of that instance, so they
see it, unlike our temp tables). A table whose keys nobody contests is read there through a
view over the files' checked rows, which the validator wrote there; contested winners,
ranked in temp tables, are copied there once. dlt gets a SQL model job
(`dlt.mark.with_file_import` of a `.model` file: one SELECT of those columns plus its load id
as `_dlt_load_id`, no row values). dlt's loader runs it as `INSERT ... SELECT`
inside DuckDB, and merges from there when keys are stored. No row crosses into Python or
through a file: writing the winners to Parquet and reading them back cost about a tenth of
a full load, and handing dlt arrow tables before that about two thirds.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingestion import stage
from ingestion.contract import DLT_TYPES, Table
from ingestion.merge import MergePlan
from ingestion.temp_tables import drop_prefixed
from safeio.private import private_dir, private_umask
from safeio.sqlquote import quote_ident, sql_str

#: dlt reads its configuration from the environment. Telemetry would phone home (the
#: machine may be offline); dlt's own log is silenced because a failed job's error quotes
#: the offending row value (PHI) -- the load report names the failure instead.
_DLT_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "RUNTIME__LOG_LEVEL": "CRITICAL",
    # A loaded package keeps a parquet copy of every row (PHI) unless told otherwise; the
    # merge's staging tables would keep the last load's rows inside the warehouse.
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    "LOAD__TRUNCATE_STAGING_DATASET": "true",
    # dlt would read its state and schemas back from the warehouse before every run (a
    # few queries and a schema rebuild per system, a tenth of a nightly delta). Nothing
    # needs them: no incremental cursors, and the load step compares the schema with the
    # tables DuckDB actually has, so a lost `.dlt` folder still loads the same rows.
    "RESTORE_FROM_DESTINATION": "false",
    # The SQL model job selects `_dlt_load_id` itself (`_model_of`): dlt would put its own
    # load id, its wall clock, in its place, and a clock set back would number the rows below
    # loads already built from (`ingestion.load_clock`).
    "NORMALIZE__MODEL_NORMALIZER__ADD_DLT_LOAD_ID": "false",
}


def purge_finished_packages(working_dir: Path) -> None:
    """Delete loaded and aborted packages (job files are full copies of the rows) and the trace.

    `delete_completed_jobs` keeps a package that has failed jobs (an aborted one); nothing
    of a finished package is needed again (the state lives in the warehouse).
    """
    loaded = working_dir / "load" / "loaded"
    if loaded.is_dir():
        for package in loaded.iterdir():
            shutil.rmtree(package, ignore_errors=True)
    # The run's trace keeps a failed job's error text, which quotes the row value.
    (working_dir / "trace.pickle").unlink(missing_ok=True)


def column_hints(table: Table) -> dict[str, dict[str, Any]]:
    """dlt column hints from the contract: type, nullability, money precision, key."""
    hints: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        hint: dict[str, Any] = {"data_type": DLT_TYPES[col.type], "nullable": col.nullable}
        if col.type == "decimal":
            hint.update(precision=18, scale=2)
        if col.type == "timestamp":
            hint["timezone"] = True
        if col.name in table.primary_key:
            hint["primary_key"] = True
        hints[col.name] = hint
    return hints


#: dlt types of the columns the loader adds to every row: its lineage, dlt's load id, and
#: drift columns (read as text, never typed). Declared, because an imported file is not
#: inspected: dlt knows a file's columns only from the hints.
_ADDED_TYPES: dict[str, str] = {
    "_extract_id": "text",
    "_source_file": "text",
    "_source_row": "bigint",
    "_dlt_load_id": "text",
}


def file_columns(table: Table, columns: list[str]) -> list[str]:
    """The imported file's column order: contract, lineage, `_dlt_load_id`, then drift.

    dlt appends a column it has not seen to the end of its schema, so drift columns go
    last: a file with drift matches the schema dlt keeps (and is not rewritten) from then on.
    """
    own = [c for c in table.column_names if c in columns]
    lineage = [c for c in _ADDED_TYPES if c in columns or c == "_dlt_load_id"]
    return own + lineage + [c for c in columns if c not in own and c not in lineage]


def file_hints(table: Table, columns: list[str]) -> dict[str, dict[str, Any]]:
    """The hints of an imported file with `columns` (`file_columns` order), contract's first.

    Every column is declared nullable, as DuckDB writes every Parquet column: dlt imports a
    file as it is only when its schema matches dlt's exactly (names, order, nullability),
    and rewrites it row by row otherwise. Nullability is the contract's to enforce, and
    validation already did (the raw tables carry no NOT NULL either).
    """
    hints = column_hints(table)
    for name in columns:
        hints.setdefault(name, {"data_type": _ADDED_TYPES.get(name, "text")})
    for hint in hints.values():
        hint["nullable"] = True
    return hints


@dataclass(frozen=True)
class StagedTable:
    """One table's winners in `STAGE` for dlt: where, in which column order, how many.

    `append_only`: no winning key is stored yet, so dlt may append instead of merging.
    `prefixes`: when `source` is a view over the files' checked rows in the stage (nothing
    copied), the name prefixes of the stage objects it reads, dropped with it.
    """

    table: Table
    source: str
    columns: list[str]
    rows: int
    append_only: bool
    prefixes: tuple[str, ...] = ()

    @property
    def is_view(self) -> bool:
        return bool(self.prefixes)


def stage_system(
    con: duckdb.DuckDBPyConnection, system: str, plans: dict[Table, MergePlan]
) -> list[StagedTable]:
    """Put each plan's winners in `STAGE` with `con`, the connection that planned them.

    Winners that are a query over `con`'s temp tables, which no other connection sees, are
    copied there; winners the stage already holds (`MergePlan.shared`: no key contested) get a
    view instead, and no row is copied. Either way the temp tables can go once this returns,
    and dlt can load from any connection of the instance (`load_system`), on another thread,
    while `con` prepares the next system.
    """
    staged: list[StagedTable] = []
    try:
        for table, plan in plans.items():
            columns = file_columns(table, _columns_of(con, plan))
            source = _stage(con, system, table, plan, columns)
            prefixes = tuple(plan.temp_prefixes) if plan.shared else ()
            staged.append(
                StagedTable(table, source, columns, plan.row_count, plan.append_only, prefixes)
            )
    except BaseException:
        drop_staged(con, staged)
        raise
    return staged


def drop_staged(con: duckdb.DuckDBPyConnection, staged: list[StagedTable]) -> None:
    """Drop the staged copies or views and what the views read (the rows are PHI; the stage is
    memory, spilled under data)."""
    for entry in staged:
        con.execute(f"drop {'view' if entry.is_view else 'table'} if exists {entry.source}")
        for prefix in entry.prefixes:
            drop_prefixed(con, prefix, (stage.STAGE,))


def load_system(
    con: duckdb.DuckDBPyConnection,
    pipelines_dir: Path,
    system: str,
    staged: list[StagedTable],
    row_stamp: str | None = None,
) -> str:
    """Merge each staged table's winners into `raw_<system>`; return the load id its rows
    carry (`_dlt_load_id`): `row_stamp` (`ingestion.load_clock`, which never numbers a load
    below an earlier one), or dlt's own load id without one.

    `con` is a connection of the warehouse's DuckDB instance that only this call uses (it
    may run on a thread of its own); dlt borrows cursors of it: no second open of the file,
    no extra checkpoint, the loader's limits. The staged tables are dropped in any case.

    Raises whatever dlt raises when a load job fails; the caller records the failure.
    """
    for key, value in _DLT_ENV.items():
        os.environ.setdefault(key, value)
    import dlt  # deferred: importing dlt costs ~1 s that `medspa --help` should not pay
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    exports = private_dir(pipelines_dir / "exports" / system)

    def resources() -> list[Any]:
        return [
            dlt.resource(
                _model_of(entry, exports, row_stamp),
                name=entry.table.name,
                # No winning key stored yet: appending is the same result without dlt's
                # staging copy and delete (most of a first load's cost).
                write_disposition="append" if entry.append_only else "merge",
                primary_key=list(entry.table.primary_key),
                columns=file_hints(entry.table, entry.columns),
                schema_contract={"tables": "evolve", "columns": "evolve", "data_type": "freeze"},
            )
            for entry in staged
        ]

    try:
        pipeline = dlt.pipeline(
            pipeline_name=f"medspa_raw_{system}",
            destination=dlt.destinations.duckdb(DuckDbCredentials(con)),
            dataset_name=f"raw_{system}",
            pipelines_dir=str(private_dir(pipelines_dir)),
            progress=None,
        )
        # A package left by a failed earlier run would be loaded instead of today's rows; its
        # files were never recorded, so today's rows already include them: drop it.
        pipeline.abort_packages()
        try:
            info = _run(pipeline, resources())
        except Exception as exc:
            if not refused_by_stored_schema(exc):
                raise
            # The pipeline's local state holds a schema an older loader wrote (primary keys
            # NOT NULL, before every column was declared nullable): its frozen data types
            # refuse today's hints on every night. That state is dlt's cache of what it loaded
            # (the raw tables and the file ledger are the record), so it is dropped once.
            pipeline = pipeline.drop()
            info = _run(pipeline, resources())
    finally:
        drop_staged(con, staged)
        shutil.rmtree(exports, ignore_errors=True)
    if row_stamp is not None and info.loads_ids:
        return row_stamp
    return str(info.loads_ids[0]) if info.loads_ids else ""


def _stage(
    con: duckdb.DuckDBPyConnection, system: str, table: Table, plan: MergePlan, columns: list[str]
) -> str:
    """The plan's winners (in `columns` order, no load id) in `STAGE`, copied or, when the
    stage holds them already, as a view; its name."""
    stage.attach(con)
    source = stage.relation(f"{system}__{table.name}")
    cols = ", ".join(quote_ident(c) for c in columns if c != "_dlt_load_id")
    kind = "view" if plan.shared else "table"
    con.execute(f"create or replace {kind} {source} as select {cols} from ({plan.query})")
    return source


def _model_of(entry: StagedTable, folder: Path, row_stamp: str | None) -> Iterator[Any]:
    """Yield a SQL model job selecting the staged winners, written when dlt asks.

    Each row gets `row_stamp` as `_dlt_load_id` (what dlt's normaliser would add to arrow
    rows), or without one dlt's load id, known only during dlt's extract (hence written
    lazily). dlt's id is its wall clock, which the loader does not trust to move forward.
    """
    import dlt

    load_id = row_stamp or dlt.current.load_package_state()["load_id"]
    cols = ", ".join(
        f"{sql_str(load_id)} as _dlt_load_id" if c == "_dlt_load_id" else quote_ident(c)
        for c in entry.columns
    )
    path = folder / f"{entry.table.name}.model"
    path.write_text(f"dialect: duckdb\nselect {cols} from {entry.source}\n", encoding="utf-8")
    yield dlt.mark.with_file_import(str(path), "model", entry.rows)


def _columns_of(con: duckdb.DuckDBPyConnection, plan: MergePlan) -> list[str]:
    return [d[0] for d in con.execute(f"select * from ({plan.query}) limit 0").description]


def _run(pipeline: Any, resources: list[Any]) -> Any:
    """One dlt run of `resources`; a failed one leaves no package behind."""
    try:
        with private_umask():
            info = pipeline.run(resources)
        info.raise_on_failed_jobs()
    except Exception:
        _abort_now(pipeline)
        raise
    finally:
        purge_finished_packages(Path(pipeline.working_dir))
    return info


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: dlt's step errors keep theirs in `.exception`."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        wrapped = getattr(current, "exception", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
    return seen


def refused_by_stored_schema(exc: BaseException) -> bool:
    """Whether dlt refused the load because its stored schema contradicts today's hints."""
    from dlt.common.schema.exceptions import DataValidationError

    return any(isinstance(e, DataValidationError) for e in _chain(exc))


def describe_load_error(exc: BaseException) -> str:
    """A failed dlt load in words for the load report: the error types dlt nested, and the
    table and column a schema refusal names (never a row's values, which dlt's own message
    may quote)."""
    parts = []
    for e in _chain(exc):
        table, column = getattr(e, "table_name", None), getattr(e, "column_name", None)
        where = " on " + ".".join(str(x) for x in (table, column) if x) if table else ""
        parts.append(type(e).__name__ + where)
    return " <- ".join(parts)


def _abort_now(pipeline: Any) -> None:
    """Abort the failed package at once (its rows are retried from the landing folder)."""
    try:
        if pipeline.abort_packages() is not None:
            pipeline.load()  # completes the abort: the package moves to loaded/, then purged
    except Exception:
        pass
