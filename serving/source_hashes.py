"""Hash the warehouse side of the large marts while the previous serving file is copied.

A nightly publish starts its new file as a byte copy of the published one (`serving.publish`):
at large scale 1.1 GB, about 2 s of the kernel copying pages, during which the publish used
to wait. The first thing each row-hash patch (`serving.mart_sync`) then did was to hash every
row of the warehouse's table, which needs only the warehouse, not the copy. So the copy now
runs on a thread of its own (`FileCopy`: the kernel's copy holds no GIL) while the build's
DuckDB connection, an in-memory database with the warehouse attached read-only, hashes the
large marts' warehouse rows (`hash_sources`); the copy is attached once it is complete.

What is hashed here is exactly what the patch hashed itself before (every column, the
warehouse's rowid beside it), from the same attached warehouse, which nothing writes while
a publish runs; the patch and the audit that checks it are unchanged.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from safeio.sqlquote import quote_ident
from serving import mart_sync
from serving.mart_sync import Columns, relation, row_hash_sql


class FileCopy:
    """`source` copied to `target` on a thread; `wait()` says whether the copy is complete."""

    def __init__(self, source: Path, target: Path) -> None:
        self._source, self._target = source, target
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="serving-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            shutil.copyfile(self._source, self._target)
            # Written to disk here, beside the hashing, rather than by the fsync of the
            # build's first checkpoint, which would otherwise wait for the whole copy.
            fd = os.open(self._target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException as exc:  # reported by wait(); the publish then starts afresh
            self._error = exc

    def wait(self) -> bool:
        """Block until the copy ends; False when it failed (the target is then not usable)."""
        self._thread.join()
        return self._error is None


def hash_sources(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    marts: Sequence[tuple[str, str]],
    columns: Mapping[tuple[str, str], Columns],
) -> dict[str, str]:
    """Hash the rows of each (schema, table) of `marts` in `catalog` that has at least
    `PATCH_MIN_ROWS` rows into a temp table (r = rowid, h = row hash); returns table name ->
    that temp relation. Smaller marts are copied whole, never patched: nothing to hash."""
    found: dict[str, str] = {}
    for i, (schema, name) in enumerate(marts):
        cols = columns.get((schema, name))
        if not cols:
            continue
        source = relation(catalog, schema, name)
        (rows,) = con.execute(f"select count(*) from {source}").fetchone()
        if rows < mart_sync.PATCH_MIN_ROWS:
            continue
        temp = f"_src_{i}"
        con.execute(
            f"create or replace temp table {quote_ident(temp)} as "
            f"select rowid as r, {row_hash_sql(cols)} as h from {source}"
        )
        found[name] = f"temp.{quote_ident(temp)}"
    return found


def drop_all(con: duckdb.DuckDBPyConnection, prepared: Mapping[str, str]) -> None:
    """Drop the temp tables `hash_sources` made."""
    for temp in prepared.values():
        con.execute(f"drop table if exists {temp}")
