"""Bring one published mart up to the warehouse's content, writing as little as possible.

A nightly publish used to copy every mart into a fresh file: at large scale that is 24 s,
most of it rewriting the 6.3 M-row `fct_messages` to add one day of messages. Instead the
new serving file starts as a byte copy of the previous one (`serving.publish`) and each mart
is brought up to date here:

- a mart that is new, small (< `PATCH_MIN_ROWS` rows in the warehouse) or whose columns or
  types changed is replaced whole (`create table as select`: DuckDB's own copy, audited by
  its row count as every mart was before; hashing both sides would add a third to a full
  publish);
- a large mart is patched: each row is reduced to a 64-bit hash of all its columns, the rows
  whose hash is only in the published table are deleted and the warehouse rows whose hash is
  only in the warehouse are inserted. When that would touch more than `PATCH_MAX_SHARE` of
  the rows, or when the patched table's row count and hash sum do not add up to the
  warehouse's (duplicate rows, which a set difference cannot count), the mart is replaced
  whole instead.

The caller's audit (`serving.publish.audit_serving`) re-reads every published mart and
compares its row count, and for every patched or kept mart its content fingerprint, with the
warehouse's: the proof that a table this module wrote equals the warehouse's does not depend
on this module being right.

The fingerprint is the sum of the rows' hashes (a 128-bit integer): independent of row order,
and unlike a XOR it does not cancel out a row that appears twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from safeio.sqlquote import quote_ident

#: Below this many warehouse rows a mart is copied whole: a patch's few statements cost more.
PATCH_MIN_ROWS = 2_000
#: A patch that deletes plus inserts more than this share of the rows is a rewrite anyway.
PATCH_MAX_SHARE = 0.25

_q = quote_ident


@dataclass(frozen=True)
class WrittenRows:
    """The rows of a mart whose key one dbt build wrote (`serving.keyed_sync`)."""

    model: str
    invocation_id: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    key_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fingerprint:
    """Row count and the sum of the rows' hashes of one table.

    `digest` None: not hashed. A mart copied whole by `create table as select` (DuckDB's own
    copy, as every publish did before patches) is audited by its row count; a mart this
    module patched or kept is audited by its content too. A mart patched by the keys its
    build wrote (`serving.keyed_sync`) carries `written` and the warehouse's count and hash
    sum of those rows (`written_rows`), which the audit compares with the built file's.
    """

    rows: int
    digest: int | None = None
    written: WrittenRows | None = None
    written_rows: Fingerprint | None = None
    #: False: the audit checks this mart without hashing every row, and keeps no row hashes.
    keep_hashes: bool = True


@dataclass(frozen=True)
class SyncResult:
    """How a mart was published, and the warehouse's fingerprint of it."""

    how: str  # "replaced" | "patched" | "keyed" | "unchanged"
    fingerprint: Fingerprint
    rows_deleted: int = 0
    rows_inserted: int = 0
    #: The dbt build of the warehouse table this mart now equals (incremental models only).
    build: str | None = None


Columns = list[tuple[str, str]]


def catalog_columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], Columns]:
    """(name, type) of each column of every table of `catalog`, in table order, keyed by
    (schema, table): one catalog query for all marts. Equal lists mean the same schema."""
    found: dict[tuple[str, str], Columns] = {}
    for schema, table, name, kind in con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? order by schema_name, table_name, column_index",
        [catalog],
    ).fetchall():
        found.setdefault((schema, table), []).append((name, kind))
    return found


def columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> Columns:
    """(name, type) of each column of one table, in table order."""
    return catalog_columns(con, catalog).get((schema, table), [])


def row_hash_sql(cols: Sequence[tuple[str, str]]) -> str:
    """The SQL expression hashing a whole row (every column, in order)."""
    return f"hash({', '.join(_q(name) for name, _ in cols)})"


def hash_total(con: duckdb.DuckDBPyConnection, relation: str, hash_expr: str = "h") -> Fingerprint:
    """Row count and sum of `hash_expr` over `relation`: a table's fingerprint, whether the
    hashes are computed here or were kept in a column `h` (patch temps, the hashes file)."""
    rows, digest = con.execute(
        f"select count(*), coalesce(sum(({hash_expr})::hugeint), 0) from {relation}"
    ).fetchone()
    return Fingerprint(int(rows), int(digest))


def fingerprint(
    con: duckdb.DuckDBPyConnection, relation: str, cols: Sequence[tuple[str, str]]
) -> Fingerprint:
    """Row count and hash sum of `relation` (a quoted, catalog-qualified name)."""
    return hash_total(con, relation, row_hash_sql(cols))


def relation(catalog: str, schema: str, table: str) -> str:
    """A quoted, catalog-qualified relation name for SQL text."""
    return f"{_q(catalog)}.{_q(schema)}.{_q(table)}"


def sync_mart(
    con: duckdb.DuckDBPyConnection,
    source: tuple[str, str, str],
    target: tuple[str, str, str],
    src_cols: Columns | None = None,
    old_cols: Columns | None = None,
    old_hashes: str | None = None,
    src_hashes: str | None = None,
) -> SyncResult:
    """Make table `target` equal `source`; both are (catalog, schema, table) in `con`.

    `con` is the serving file being built, with the warehouse attached read-only. The
    columns of both, when the caller has them (`catalog_columns`), save two catalog queries.
    `old_hashes`: a relation (r = rowid, h = row hash) of `target` as it is, written by the
    previous publish's audit (`serving.row_hashes`), so the published rows need no hashing.
    `src_hashes`: a relation (r = rowid, h = row hash) of `source` hashed beforehand
    (`serving.source_hashes`, while the previous file was being copied).
    """
    src_cols = columns(con, *source) if src_cols is None else src_cols
    old_cols = columns(con, *target) if old_cols is None else old_cols
    source_sql, target_sql = relation(*source), relation(*target)
    rows: int | None = None
    if old_cols == src_cols:
        (rows,) = con.execute(f"select count(*) from {source_sql}").fetchone()
        if rows >= PATCH_MIN_ROWS:
            patched = _patch(con, source_sql, target_sql, src_cols, rows, old_hashes, src_hashes)
            if patched is not None:
                return patched
    return replace_whole(con, source_sql, target_sql, rows)


def replace_whole(
    con: duckdb.DuckDBPyConnection, source: str, target: str, rows: int | None
) -> SyncResult:
    """A whole copy; `rows`: the source's row count when the caller already counted it."""
    con.execute(f"drop table if exists {target}")
    con.execute(f"create table {target} as select * from {source}")
    if rows is None:
        (rows,) = con.execute(f"select count(*) from {source}").fetchone()
    return SyncResult("replaced", Fingerprint(int(rows)))


def _patch(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    cols: Sequence[tuple[str, str]],
    rows: int,
    old_hashes: str | None = None,
    src_hashes: str | None = None,
) -> SyncResult | None:
    """Delete and insert the rows that differ; None when a whole copy is the better way.

    `src_hashes`: the source's (rowid, hash) pairs when the caller already hashed them."""
    h = row_hash_sql(cols)
    src = src_hashes or "temp._src"
    try:
        if src_hashes is None:
            con.execute(
                f"create or replace temp table _src as select rowid as r, {h} as h from {source}"
            )
        old = None
        if old_hashes is not None:
            con.execute(f"create or replace temp table _old as select r, h from {old_hashes}")
            old = hash_total(con, "temp._old")
            (target_rows,) = con.execute(f"select count(*) from {target}").fetchone()
            if old.rows != target_rows:  # not the hashes of this table as it is
                old = None
        if old is None:
            con.execute(
                f"create or replace temp table _old as select rowid as r, {h} as h from {target}"
            )
            old = hash_total(con, "temp._old")
        con.execute(
            f"create or replace temp table _gone as select r, h from _old anti join {src} using (h)"
        )
        con.execute(
            f"create or replace temp table _new as select r, h from {src} anti join _old using (h)"
        )
        gone, new = hash_total(con, "temp._gone"), hash_total(con, "temp._new")
        src_fp = hash_total(con, src)
        if gone.rows + new.rows > PATCH_MAX_SHARE * max(rows, 1):
            return None
        # A set difference cannot count duplicate rows: the totals must add up, or copy.
        patched_fp = Fingerprint(
            old.rows - gone.rows + new.rows,
            old.digest - gone.digest + new.digest,  # type: ignore[operator]
        )
        if patched_fp != src_fp:
            return None
        if gone.rows == 0 and new.rows == 0:
            return SyncResult("unchanged", src_fp)
        if gone.rows:
            con.execute(f"delete from {target} where rowid in (select r from _gone)")
        if new.rows:
            con.execute(
                f"insert into {target} select * from {source} where rowid in (select r from _new)"
            )
        return SyncResult("patched", src_fp, rows_deleted=gone.rows, rows_inserted=new.rows)
    finally:
        for temp in ("_src", "_old", "_gone", "_new"):
            con.execute(f"drop table if exists temp.{temp}")
