"""Patch an incremental fact by the keys its nightly build wrote, hashing none of its other rows.

A row-hash patch (`serving.mart_sync`) must hash every row of the warehouse's table to find
the few that changed: at large scale 6.3 M messages (about 2.7 s) plus the audit's read-back of
as many. For a dbt model built with delete+insert on a unique key, dbt's own state already says
which rows can differ: the strategy records the keys each incremental build wrote in
`dbt_state.written_keys`, and `dbt_state.model_builds` links every build to the one before it
(`dbt_project/macros/test_scope.sql`; why that evidence is complete: docs/incremental-tests.md).

Such a build deletes every row whose key is in its batch and inserts the batch; it touches no
other row, and only dbt writes these tables. So when the published mart is the table as build P
left it (the previous publish recorded P beside its row hashes, `serving.row_hashes`, and that
record is only read while `serving.duckdb` is the very file it was written with) and the
warehouse's newest build B was incremental and built right after P, the warehouse's table is
the published one minus the rows with a key B wrote plus B's rows with those keys. The patch
does exactly that, by key. When B is P itself the mart is kept as it is.

The audit (`serving.publish.audit_serving`) checks such a mart by its row count and by the
count and hash sum of its rows with a written key, read back from the built file against the
warehouse's. In every other case (no record, another build in between, a full refresh, a
changed schema, more than `PATCH_MAX_SHARE` of the rows written, a model with a pre-hook that
may delete other rows) the mart takes the row-hash path as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from safeio.sqlquote import quote_ident
from serving.mart_sync import (
    PATCH_MAX_SHARE,
    Fingerprint,
    SyncResult,
    WrittenRows,
    hash_total,
    replace_whole,
)

#: Where dbt keeps its build records in the warehouse (never published).
STATE_SCHEMA = "dbt_state"

_q = quote_ident


@dataclass(frozen=True)
class Build:
    """The newest dbt build of one incremental model, as `dbt_state.model_builds` holds it."""

    invocation_id: str
    previous_invocation_id: str | None
    incremental: bool


def newest_builds(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, Build]:
    """The newest build of every model dbt recorded in `catalog` (empty without a record)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name in ('model_builds', 'written_keys')",
        [catalog, STATE_SCHEMA],
    ).fetchone()[0]
    if found != 2:
        return {}
    rows = con.execute(
        f"""select model_name, max_by(invocation_id, build_seq),
            max_by(previous_invocation_id, build_seq), max_by(incremental, build_seq)
        from {_q(catalog)}.{STATE_SCHEMA}.model_builds group by model_name"""
    ).fetchall()
    return {name: Build(inv, prev, bool(inc)) for name, inv, prev, inc in rows}


def key_expression(keys: Sequence[str]) -> str:
    """A row's key as `dbt_state.written_keys` holds it: the same text as the dbt macro
    `written_key_expression` (each part cast to varchar, null as '', joined by '|')."""
    return " || '|' || ".join(f"coalesce(cast({_q(k)} as varchar), '')" for k in keys)


def key_predicate(con: duckdb.DuckDBPyConnection, written: WrittenRows, keys_sql: str) -> str:
    """SQL selecting the rows whose key is among `keys_sql`'s. A single varchar key is
    compared as it is (a plain semi join, no string built per row) unless a written key is
    '' (a null key, as the dbt macro writes it): then the macro's expression."""
    if len(written.keys) == 1 and written.key_types == ("VARCHAR",):
        (empty,) = con.execute(
            f"select count(*) from ({keys_sql}) as k where written_key = ''"
        ).fetchone()
        if not empty:
            return f"{_q(written.keys[0])} in ({keys_sql})"
    return f"{key_expression(written.keys)} in ({keys_sql})"


def written_keys_sql(catalog: str, model: str, invocation_id: str) -> str:
    """The keys build `invocation_id` of `model` wrote (its marker row left out)."""
    return (
        f"select written_key from {_q(catalog)}.{STATE_SCHEMA}.written_keys "
        f"where model_name = '{_literal(model)}' and invocation_id = '{_literal(invocation_id)}' "
        "and written_key is not null"
    )


def _literal(value: str) -> str:
    return value.replace("'", "''")


def written_fingerprint(
    con: duckdb.DuckDBPyConnection, relation: str, written: WrittenRows, catalog: str
) -> Fingerprint:
    """Row count and hash sum of the rows of `relation` whose key `written` names."""
    keys = written_keys_sql(catalog, written.model, written.invocation_id)
    return hash_total(
        con,
        f"(select * from {relation} where {key_predicate(con, written, keys)})",
        f"hash({', '.join(_q(c) for c in written.columns)})",
    )


def sync_by_build(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    model: tuple[str, Sequence[str]],
    build: Build,
    published: str,
    columns: Sequence[tuple[str, str]],
) -> SyncResult | None:
    """A mart of an incremental model (`model`: its name and unique key) whose published
    table is build `published`'s: kept when the warehouse's newest build is that one, patched
    by key when it is the next one; None (the row-hash path) otherwise."""
    (rows,) = con.execute(f"select count(*) from {source}").fetchone()
    if build.invocation_id == published:
        (kept,) = con.execute(f"select count(*) from {target}").fetchone()
        if kept == rows:
            return SyncResult("unchanged", Fingerprint(int(rows), keep_hashes=False))
        return None
    if not (build.incremental and build.previous_invocation_id == published):
        return None
    name, keys = model
    return keyed_sync(con, source, target, name, keys, build, columns, int(rows))


def keyed_sync(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    model: str,
    keys: Sequence[str],
    build: Build,
    columns: Sequence[tuple[str, str]],
    rows: int,
) -> SyncResult | None:
    """Bring `target` (the published mart as build `build.previous_invocation_id` left it) up
    to `source` by the keys `build` wrote. None (before anything is written) when more
    than `PATCH_MAX_SHARE` of the rows were written: the row-hash path decides then. A patched
    table whose row count does not come out as the warehouse's is copied whole.

    `con` is the serving file being built with the warehouse attached as `wh`.
    """
    types = dict(columns)
    written = WrittenRows(
        model,
        build.invocation_id,
        tuple(keys),
        tuple(name for name, _ in columns),
        tuple(types.get(k, "") for k in keys),
    )
    keys_sql = written_keys_sql("wh", model, build.invocation_id)
    try:
        con.execute(f"create or replace temp table _keys as select distinct * from ({keys_sql})")
        (n_keys,) = con.execute("select count(*) from temp._keys").fetchone()
        if n_keys > PATCH_MAX_SHARE * max(rows, 1):
            return None
        where = key_predicate(con, written, "select written_key from temp._keys")
        con.execute(f"create or replace temp table _batch as select * from {source} where {where}")
        batch = hash_total(con, "temp._batch", f"hash({', '.join(_q(c) for c in written.columns)})")
        (deleted,) = con.execute(f"delete from {target} where {where}").fetchone()
        if batch.rows:
            con.execute(f"insert into {target} select * from temp._batch")
        (got,) = con.execute(f"select count(*) from {target}").fetchone()
        if got != rows:  # something else changed the table: copy it whole
            return replace_whole(con, source, target, rows)
        return SyncResult(
            "keyed",
            Fingerprint(rows, None, written=written, written_rows=batch, keep_hashes=False),
            rows_deleted=int(deleted),
            rows_inserted=batch.rows,
        )
    finally:
        for temp in ("_keys", "_batch"):
            con.execute(f"drop table if exists temp.{temp}")
