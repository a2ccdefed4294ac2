"""Write-audit-publish of `serving.duckdb`: the only database BI tools and the site read.

Write: a new file `serving.duckdb.tmp-<run>` gets the marts (schema `marts`: every model of
marts/core, marts/kpi, marts/ops and the seeds) from the warehouse, opened read-only, plus
the pipeline-health tables (schema `ops`). The new file starts as a byte copy of the
published one (made on a thread while the large marts' warehouse rows are hashed,
`serving.source_hashes`), and each mart is brought up to the warehouse's content by
`serving.mart_sync` (small or changed-schema marts replaced whole, large ones patched row by
row), so a nightly publish writes about one day of rows instead of every mart. Audit: the
file holds only `marts` and `ops`, no column whose name is a PHI column of the contract, and
every mart has the warehouse's row count, read back from the built file, and every patched or
kept mart its content fingerprint too (sum of row hashes). Publish: `os.replace()` onto
`serving.duckdb`, atomic on one filesystem, so readers see the old or the new file and never
a half-written one; its row hashes and `scorecard.duckdb` are swapped in with it through a
journal (`serving.swap_journal`), so a publish killed between two swaps is finished by the
next run. Any failure removes the temp file and leaves the previous serving file
byte-identical.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from ingestion.contract import load_contract
from safeio.sqlquote import quote_ident, sql_str
from serving import keyed_sync, mart_sync, row_hashes, source_hashes, swap_journal
from serving.duckdb_comments import apply_comments, schema_docs
from serving.mart_sync import (
    Columns,
    Fingerprint,
    SyncResult,
    catalog_columns,
    fingerprint,
    hash_total,
    relation,
    row_hash_sql,
    sync_mart,
)
from serving.pg_docs import OPS_DOCS, TableDoc
from serving.scorecard_file import prepare_scorecard, scorecard_path
from serving.source_hashes import FileCopy

#: Columns of serving's `ops.run_log`; the warehouse's `raw_meta.run_log` has the same shape.
RUN_LOG_COLUMNS = """run_id varchar, started_at timestamp with time zone,
    finished_at timestamp with time zone, rows_loaded bigint, checks_passed bigint,
    checks_warned bigint, checks_failed bigint, status varchar, blocked_by varchar,
    demo_key_on_real_data boolean"""


ALLOWED_SCHEMAS = ("marts", "ops")

#: The catalog the file being built is attached as, in the build's in-memory database.
BUILD_CATALOG = "serving_build"

#: Never in serving: contract PHI columns, message bodies, the quarantine's raw record.
EXTRA_FORBIDDEN_COLUMNS = ("body", "raw_record", "file_sha256")

OPS_DDL: dict[str, str] = {
    "check_results": """create table ops.check_results (
        check_name varchar, asset varchar, severity varchar, passed boolean,
        description varchar, evaluated_at timestamp with time zone, run_id varchar)""",
    "quarantine_summary": """create table ops.quarantine_summary (
        system varchar, table_name varchar, source_file varchar, reason varchar, rows bigint,
        rows_replaced bigint)""",
    "loaded_files": """create table ops.loaded_files (
        load_id varchar, file_path varchar, system varchar, table_name varchar,
        extract_id varchar, status varchar, refusal_reason varchar, rows_read bigint,
        rows_inserted bigint, rows_updated bigint, rows_unchanged bigint,
        rows_quarantined bigint, loaded_at timestamp with time zone)""",
    "run_log": f"create table ops.run_log ({RUN_LOG_COLUMNS})",
}


class PublishAuditError(RuntimeError):
    """The built serving file failed its audit; the previous one stays published."""


@dataclass(frozen=True)
class MartRelation:
    """A warehouse relation that is published: schema and table in the warehouse.

    `unique_key`: the key columns of a dbt model built incrementally with delete+insert and
    no pre-hook, whose nightly changes can be patched by key (`serving.keyed_sync`)."""

    schema: str
    name: str
    unique_key: tuple[str, ...] = ()


@dataclass
class OpsData:
    """Pipeline-health rows gathered by the orchestrator for this run."""

    check_results: list[tuple[Any, ...]] = field(default_factory=list)
    #: This run's `RunRecord.row()`, if the warehouse's `raw_meta.run_log` does not hold it.
    run_log_row: tuple[Any, ...] | None = None
    #: (system, table, file, reason) -> quarantined rows a later load replaced (the
    #: quarantine gate's own rule, `quality.quarantine.replaced_rows`); others count 0
    quarantine_replaced: Mapping[tuple[str, str, str, str], int] = field(default_factory=dict)


def forbidden_columns() -> set[str]:
    """Column names that must never reach serving (PHI of the contract and friends)."""
    phi = {c for t in load_contract().tables for c in t.phi_columns}
    return phi | set(EXTRA_FORBIDDEN_COLUMNS)


def mart_relations(manifest: Mapping[str, Any]) -> list[MartRelation]:
    """Models under models/marts/ and all seeds, as dbt materialises them."""
    relations = []
    for node in manifest["nodes"].values():
        is_mart = node["resource_type"] == "model" and node["original_file_path"].startswith(
            "models/marts/"
        )
        if is_mart or node["resource_type"] == "seed":
            relations.append(
                MartRelation(node["schema"], node.get("alias") or node["name"], _unique_key(node))
            )
    return sorted(relations, key=lambda r: r.name)


def _unique_key(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The key a keyed patch may use: delete+insert models only, and none with a pre-hook
    (a pre-hook may delete rows whose key the build did not write)."""
    config = node.get("config") or {}
    key = config.get("unique_key")
    if (
        node["resource_type"] != "model"
        or config.get("materialized") != "incremental"
        or config.get("incremental_strategy") != "delete+insert"
        or config.get("pre-hook")
        or not key
    ):
        return ()
    return (key,) if isinstance(key, str) else tuple(key)


_q = quote_ident


def _sync_marts(
    con: duckdb.DuckDBPyConnection,
    relations: Sequence[MartRelation],
    hashes: bool = False,
    warehouse: _WarehouseState | None = None,
) -> dict[str, SyncResult]:
    """Every mart up to the warehouse's content; marts no longer published are dropped.

    `hashes`: the previous publish's row hashes are attached (`serving.row_hashes`).
    `warehouse`: what was read of the warehouse while the previous file was copied."""
    db = con.execute("select current_database()").fetchone()[0]
    wanted = {rel.name for rel in relations}
    for (name,) in con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = 'marts'",
        [db],
    ).fetchall():
        if name not in wanted:
            con.execute(f"drop table marts.{_q(name)}")
    state = warehouse or _read_warehouse(con, hashes)
    src_cols, old_cols = state.columns, catalog_columns(con, db)
    builds, published = state.builds, state.published
    hashed = row_hashes.hashed_marts(con) if hashes else set()
    synced = {}
    for rel in relations:
        source, target = ("wh", rel.schema, rel.name), (db, "marts", rel.name)
        cols = src_cols.get((rel.schema, rel.name), [])
        same = bool(cols) and cols == old_cols.get(("marts", rel.name), [])
        build = builds.get(rel.name)
        result = None
        if same and rel.unique_key and build and rel.name in published:
            result = keyed_sync.sync_by_build(
                con,
                relation(*source),
                relation(*target),
                (rel.name, rel.unique_key),
                build,
                published[rel.name],
                cols,
            )
        if result is None:
            result = sync_mart(
                con,
                source,
                target,
                cols,
                old_cols.get(("marts", rel.name), []),
                _hashes_of(rel.name, hashed),
                state.source_hashes.get(rel.name),
            )
        synced[rel.name] = replace(result, build=build.invocation_id) if build else result
    return synced


@dataclass
class _WarehouseState:
    """What the build reads of the warehouse (and of the previous publish's record) before
    it touches the new file: read while the previous file is being copied."""

    columns: dict[tuple[str, str], Columns]
    builds: dict[str, keyed_sync.Build]
    published: dict[str, str]
    #: Mart -> temp relation of its warehouse rows' hashes (`serving.source_hashes`).
    source_hashes: dict[str, str] = field(default_factory=dict)


def _read_warehouse(con: duckdb.DuckDBPyConnection, hashes: bool) -> _WarehouseState:
    """The warehouse's columns and dbt builds, and the builds the published marts equal
    (when `hashes`: the previous publish's record is attached): one catalog query each."""
    return _WarehouseState(
        catalog_columns(con, "wh"),
        keyed_sync.newest_builds(con, "wh"),
        row_hashes.published_builds(con) if hashes else {},
    )


def _keyed_candidate(rel: MartRelation, state: _WarehouseState) -> bool:
    """Whether `rel` will most likely be kept or patched by key (`serving.keyed_sync`), so
    hashing its warehouse rows beforehand would be wasted (should it not be, the row-hash
    patch hashes them itself, as it did before `serving.source_hashes`)."""
    build = state.builds.get(rel.name)
    published = state.published.get(rel.name)
    if not (rel.unique_key and build and published):
        return False
    return build.invocation_id == published or (
        build.incremental and build.previous_invocation_id == published
    )


def _hashes_of(name: str, hashed: set[str]) -> str | None:
    """The previous publish's row hashes of mart `name`, when the hashes file holds them."""
    return relation(row_hashes.CATALOG, "main", name) if name in hashed else None


def _has_table(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [catalog, schema, table],
        ).fetchone()[0]
    )


def _write_ops(con: duckdb.DuckDBPyConnection, ops: OpsData) -> None:
    """The `ops` schema anew; the run history of the file it was copied from is kept."""
    db = con.execute("select current_database()").fetchone()[0]
    had_log = _has_table(con, db, "ops", "run_log")
    if had_log:
        con.execute("create or replace temp table _prev_run_log as select * from ops.run_log")
    con.execute("drop schema if exists ops cascade")
    con.execute("create schema ops")
    for ddl in OPS_DDL.values():
        con.execute(ddl)
    if ops.check_results:
        con.executemany(
            "insert into ops.check_results values (?, ?, ?, ?, ?, ?, ?)", ops.check_results
        )
    if _has_table(con, "wh", "raw_quarantine", "rejected_rows"):
        # Grouped counts only: raw_record (the rejected row, PHI) never leaves the warehouse.
        con.execute(
            "create or replace temp table _replaced (system varchar, table_name varchar, "
            "source_file varchar, reason varchar, rows bigint)"
        )
        if ops.quarantine_replaced:
            con.executemany(
                "insert into _replaced values (?, ?, ?, ?, ?)",
                [(*key, rows) for key, rows in ops.quarantine_replaced.items()],
            )
        con.execute(
            """insert into ops.quarantine_summary
            select q.*, least(coalesce(p.rows, 0), q.rows)
            from (
                select system, table_name, source_file, reason, count(*) as rows
                from wh.raw_quarantine.rejected_rows group by all
            ) as q
            left join _replaced as p using (system, table_name, source_file, reason)
            order by all"""
        )
        con.execute("drop table _replaced")
    if _has_table(con, "wh", "raw_meta", "loaded_files"):
        cols = (
            "load_id, file_path, system, table_name, extract_id, status, refusal_reason, "
            "rows_read, rows_inserted, rows_updated, rows_unchanged, rows_quarantined, loaded_at"
        )
        con.execute(
            f"insert into ops.loaded_files select {cols} from wh.raw_meta.loaded_files "
            "order by loaded_at, file_path"
        )
    _write_run_log(con, ops, had_log)


def _write_run_log(con: duckdb.DuckDBPyConnection, ops: OpsData, had_log: bool) -> None:
    """Every run the warehouse recorded (failed and blocked ones too), plus older history.

    Rows of the previous serving file (copied into `temp._prev_run_log` when `had_log`) whose
    run the warehouse does not know (published before the warehouse kept a log) are carried
    forward by column name.
    """
    if _has_table(con, "wh", "raw_meta", "run_log"):
        con.execute("insert into ops.run_log by name select * from wh.raw_meta.run_log")
    if ops.run_log_row is not None:
        con.execute("delete from ops.run_log where run_id = ?", [ops.run_log_row[0]])
        marks = ", ".join("?" * len(ops.run_log_row))
        con.execute(f"insert into ops.run_log values ({marks})", ops.run_log_row)
    if had_log:
        con.execute(
            """insert into ops.run_log by name select * from temp._prev_run_log p
            where not exists (select 1 from ops.run_log r where r.run_id = p.run_id)"""
        )
        con.execute("drop table temp._prev_run_log")


def _attach_target(con: duckdb.DuckDBPyConnection, tmp_path: Path, copied: bool) -> None:
    """Attach the file to build as `BUILD_CATALOG`, made the default catalog: the copy of
    the published file when `copied`, else a new one. A copy DuckDB cannot open (damaged,
    another storage version) is not reused: the publish then copies every mart, as the first
    one does."""
    if copied:
        try:
            con.execute(f"attach {sql_str(tmp_path)} as {BUILD_CATALOG}")
            con.execute(f"use {BUILD_CATALOG}")
            return
        except duckdb.Error:
            pass
    tmp_path.unlink(missing_ok=True)
    Path(f"{tmp_path}.wal").unlink(missing_ok=True)
    con.execute(f"attach {sql_str(tmp_path)} as {BUILD_CATALOG}")
    con.execute(f"use {BUILD_CATALOG}")


def build_serving(
    warehouse_path: Path,
    tmp_path: Path,
    relations: Sequence[MartRelation],
    ops: OpsData,
    previous: Path | None = None,
    docs: Mapping[str, TableDoc] | None = None,
) -> dict[str, SyncResult]:
    """Write step: `marts` and `ops` into `tmp_path`; returns how each mart was published.

    With a `previous` serving file the build starts from a copy of it (see module doc),
    made on a thread while the large marts' warehouse rows are hashed
    (`serving.source_hashes`). `docs`: the marts' descriptions by table name (the dbt docs),
    written as the file's table and column comments with the `ops` tables' own.
    """
    tmp_path.unlink(missing_ok=True)
    Path(f"{tmp_path}.wal").unlink(missing_ok=True)
    copy = FileCopy(previous, tmp_path) if previous is not None and previous.is_file() else None
    # An in-memory database with the warehouse and (once copied) the new file attached;
    # spills go beside the new file, as when the file was opened directly.
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"set temp_directory = {sql_str(f'{tmp_path}.tmp')}")
            con.execute(f"attach {sql_str(warehouse_path)} as wh (read_only)")
            present = set(
                con.execute(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_catalog = 'wh'"
                ).fetchall()
            )  # one catalog query, not one per mart: each costs a walk of the warehouse catalog
            missing = [r.name for r in relations if (r.schema, r.name) not in present]
            if missing:
                raise PublishAuditError(f"marts missing from the warehouse: {', '.join(missing)}")
            hashes = previous is not None and row_hashes.attach_if_valid(con, previous)
            state = _read_warehouse(con, hashes)
            if copy is not None:
                state.source_hashes = source_hashes.hash_sources(
                    con,
                    "wh",
                    [(r.schema, r.name) for r in relations if not _keyed_candidate(r, state)],
                    state.columns,
                )
        finally:
            copied = copy.wait() if copy is not None else False
        _attach_target(con, tmp_path, copied)
        _drop_other_schemas(con)
        con.execute("create schema if not exists marts")
        synced = _sync_marts(con, relations, hashes, state)
        source_hashes.drop_all(con, state.source_hashes)
        if hashes:
            con.execute(f"detach {row_hashes.CATALOG}")
        _write_ops(con, ops)
        apply_comments(
            con,
            BUILD_CATALOG,
            {**schema_docs("marts", docs or {}), **schema_docs("ops", OPS_DOCS)},
        )
        con.execute("detach wh")
        con.execute(f"checkpoint {BUILD_CATALOG}")
        con.execute("use memory")
        con.execute(f"detach {BUILD_CATALOG}")
    finally:
        con.close()
    return synced


def _drop_other_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Whatever a copied file holds beyond `marts` and `ops` is not carried forward."""
    db = con.execute("select current_database()").fetchone()[0]
    for (schema,) in con.execute(
        "select schema_name from information_schema.schemata where catalog_name = ? "
        "and schema_name not in ('marts', 'ops', 'main', 'information_schema', 'pg_catalog')",
        [db],
    ).fetchall():
        con.execute(f"drop schema {_q(schema)} cascade")
    for (table,) in con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = 'main'",
        [db],
    ).fetchall():
        con.execute(f"drop table main.{_q(table)}")


def audit_serving(
    tmp_path: Path,
    expected: Mapping[str, Fingerprint],
    hashes_out: Path | None = None,
    warehouse: Path | None = None,
) -> None:
    """Audit step: only marts/ops, no forbidden column, and every mart holds the warehouse's
    rows, read back from the built file: the same row count, and the same content fingerprint
    where one is expected (every mart patched or kept from the previous file). A mart patched
    by the keys its dbt build wrote (`serving.keyed_sync`) is checked by the count and hash
    sum of its rows with those keys, the keys read from `warehouse`'s dbt state.

    `hashes_out`: a new file that receives the row hashes of the large marts, read in the same
    pass, for the next publish (`serving.row_hashes`).
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach {sql_str(tmp_path)} as sv (read_only)")
        if any(want.written is not None for want in expected.values()):
            if warehouse is None:
                raise PublishAuditError("a mart patched by key needs the warehouse to audit")
            con.execute(f"attach {sql_str(warehouse)} as wh (read_only)")
        if hashes_out is not None:
            hashes_out.unlink(missing_ok=True)
            con.execute(f"attach {sql_str(hashes_out)} as {row_hashes.CATALOG}")
        schemas = {
            s
            for (s,) in con.execute(
                "select distinct table_schema from information_schema.tables "
                "where table_catalog = 'sv'"
            ).fetchall()
        }
        extra = sorted(schemas - set(ALLOWED_SCHEMAS))
        if extra:
            raise PublishAuditError(f"serving would contain schemas {extra}; only marts and ops")
        all_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = 'sv'"
        ).fetchall()
        forbidden = forbidden_columns()
        bad = sorted(f"{s}.{t}.{c}" for s, t, c in all_columns if c.lower() in forbidden)
        if bad:
            raise PublishAuditError(f"PHI column names would be published: {', '.join(bad)}")
        built = catalog_columns(con, "sv")
        for name, want in expected.items():
            cols = built.get(("marts", name))
            if not cols:
                raise PublishAuditError(f"marts.{name} is missing from the built file")
            got = _audit_fingerprint(con, name, cols, want, hashes_out is not None)
            if got.rows != want.rows:
                raise PublishAuditError(f"marts.{name}: {got.rows} rows, warehouse has {want.rows}")
            if want.digest is not None and got.digest != want.digest:
                raise PublishAuditError(f"marts.{name}: content differs from the warehouse's")
            if want.written is not None:
                built_written = keyed_sync.written_fingerprint(
                    con, relation("sv", "marts", name), want.written, "wh"
                )
                if built_written != want.written_rows:
                    raise PublishAuditError(
                        f"marts.{name}: rows with the keys dbt wrote differ from the warehouse's"
                    )
    finally:
        con.close()


def _audit_fingerprint(
    con: duckdb.DuckDBPyConnection, name: str, cols: Columns, want: Fingerprint, keep: bool
) -> Fingerprint:
    """The built mart's fingerprint; a large one's row hashes are kept when `keep`."""
    rows, digest = want.rows, want.digest
    built = relation("sv", "marts", name)
    if not keep or rows < mart_sync.PATCH_MIN_ROWS or not want.keep_hashes:
        if digest is None:  # copied whole: its row count is the check
            (got,) = con.execute(f"select count(*) from {built}").fetchone()
            return Fingerprint(int(got))
        return fingerprint(con, built, cols)
    kept = relation(row_hashes.CATALOG, "main", name)
    con.execute(f"create table {kept} as select rowid as r, {row_hash_sql(cols)} as h from {built}")
    return hash_total(con, kept)


def publish(
    warehouse_path: Path,
    serving_path: Path,
    run_id: str,
    relations: Sequence[MartRelation],
    ops: OpsData,
    *,
    report: dict[str, SyncResult] | None = None,
    docs: Mapping[str, TableDoc] | None = None,
) -> dict[str, int]:
    """Write, audit, then atomically replace `serving_path`. Returns rows per mart.

    `report`, if given, receives how each mart was published (replaced, patched, unchanged).
    `docs`, if given, become the marts' table and column comments (`build_serving`).
    The scorecard file beside it (`serving.scorecard_file`) is built from the audited file,
    audited too, and swapped in right after it.
    """
    tmp = serving_path.with_name(f"{serving_path.name}.tmp-{run_id}")
    hashes = row_hashes.hashes_path(serving_path)
    hashes_tmp = hashes.with_name(f"{hashes.name}.tmp-{run_id}")
    scorecard_tmp: Path | None = None
    swapping = False
    try:
        synced = build_serving(
            warehouse_path, tmp, relations, ops, previous=serving_path, docs=docs
        )
        expected = {name: result.fingerprint for name, result in synced.items()}
        audit = functools.partial(audit_serving, warehouse=warehouse_path)
        # The scorecard file is copied from the built file and audited on a thread while the
        # built file is audited (both only read it); neither is published unless both pass.
        with ThreadPoolExecutor(1, thread_name_prefix="scorecard") as pool:
            scorecard = pool.submit(prepare_scorecard, tmp, serving_path, run_id, expected, audit)
            try:
                audit(tmp, expected, hashes_out=hashes_tmp)
            finally:
                scorecard_tmp = _settled(scorecard)
            scorecard_tmp = scorecard.result()
        builds = {name: result.build for name, result in synced.items() if result.build}
        row_hashes.stamp(hashes_tmp, tmp, builds)  # the rename below keeps size, mtime, inode
        swaps = [(tmp, serving_path), (hashes_tmp, hashes)]
        if scorecard_tmp is not None:
            swaps.append((scorecard_tmp, scorecard_path(serving_path)))
        # All or none, even if killed between two swaps: the next run finishes them.
        swapping = True
        swap_journal.swap_in(serving_path, run_id, swaps)
    finally:
        # Interrupted between two swaps (Ctrl-C, SIGTERM): make the rest now, all audited; if
        # that fails too, the files stay for the next run's `finish_swaps`.
        if not (swapping and _swaps_left_unmade(serving_path)):
            for path in (tmp, hashes_tmp, scorecard_tmp):
                if path is not None:
                    path.unlink(missing_ok=True)
                    Path(f"{path}.wal").unlink(missing_ok=True)
    if report is not None:
        report.update(synced)
    return {name: result.fingerprint.rows for name, result in synced.items()}


def _swaps_left_unmade(serving_path: Path) -> bool:
    """After a publish's swaps stopped part way: finish them; True when some stay unmade (their
    built files must then be kept for the next run)."""
    if not swap_journal.journal_path(serving_path).exists():
        return False
    try:
        swap_journal.finish_swaps(serving_path)
    except Exception:  # the publish's own error is the one to raise
        return swap_journal.journal_path(serving_path).exists()
    return False


def leftover_prefixes(serving_path: Path) -> tuple[str, ...]:
    """Name prefixes of the temporary files a publish of `serving_path` writes beside it (each
    `<file>.tmp-<run id>`, and DuckDB's `.wal` beside it)."""
    files = (serving_path, row_hashes.hashes_path(serving_path), scorecard_path(serving_path))
    return tuple(f"{Path(f).name}.tmp-" for f in files)


def remove_leftovers(serving_path: Path) -> list[Path]:
    """Remove what killed publishes of `serving_path` left beside it; return what went.

    A publish removes its temporary files when it ends, even failing (`publish`), but a
    killed process leaves them: a built serving file, the scorecard and row-hash files, and
    their write-ahead logs, a warehouse's worth of data each time. Only regular files named
    by `leftover_prefixes` are removed, never a symbolic link (nor what it points to) or a
    folder. Call it only while no publish of that file can be running: the tenant's run lock
    (`medspa.run_lock`) held, as every Dagster run of the tenant holds it.
    """
    serving_path = Path(serving_path)
    prefixes = leftover_prefixes(serving_path)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(serving_path.parent))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.name.startswith(prefixes) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def _settled(future: Future[Path | None]) -> Path | None:
    """The scorecard file a finished `prepare_scorecard` left (None if it failed: it removes
    its own file then), so that a failed publish can remove it."""
    try:
        return future.result()
    except BaseException:
        return None


def table_names(path: Path) -> Iterable[tuple[str, str]]:
    """(schema, table) pairs of a DuckDB file, read-only: used by reports and tests."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
    finally:
        con.close()
