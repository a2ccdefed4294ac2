"""The row hashes of the published file's large marts, kept beside it for the next publish.

To patch a large mart (`serving.mart_sync`) a publish needs a hash of every row on both
sides: the warehouse's and the published table's. The audit already reads every row of the
built file to prove it equals the warehouse; writing those hashes (with each row's `rowid`)
into `serving.rowhashes.duckdb` costs little more, and the next publish, whose file starts as
a byte copy of the published one (same rowids), reads them instead of hashing 6 M rows again.

The file is only trusted for the serving file it was written with: it records that file's
size, modification time and inode (kept by the atomic rename that publishes it). If anything
else replaced or touched serving.duckdb since, the hashes are ignored and the publish hashes
the published table itself, as without this file. It holds hashes and rowids, no values.

It also names, per mart built by an incremental dbt model, the dbt build (invocation id) whose
table the published mart equals (`published_builds`): the next publish patches such a mart by
the keys the following build wrote (`serving.keyed_sync`), trusted under the same condition.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

from safeio.sqlquote import sql_str

#: The catalog name the hashes file is attached as (by the build and by the audit).
CATALOG = "rowhashes"


def hashes_path(serving_path: Path) -> Path:
    """Where the hashes of `serving_path` live: beside it."""
    return Path(serving_path).with_name(f"{Path(serving_path).stem}.rowhashes.duckdb")


def file_token(path: Path) -> tuple[int, int, int]:
    """What identifies one version of a file: size, modification time (ns) and inode."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ino


def attach_if_valid(con: duckdb.DuckDBPyConnection, serving_path: Path) -> bool:
    """Attach the hashes file read-only as `CATALOG` if it belongs to `serving_path` as it is
    now; True when attached. A missing, damaged or stale file is ignored (False)."""
    path = hashes_path(serving_path)
    if not (path.is_file() and Path(serving_path).is_file()):
        return False
    try:
        con.execute(f"attach {sql_str(path)} as {CATALOG} (read_only)")
    except duckdb.Error:
        return False
    try:
        row = con.execute(
            f"select size, mtime_ns, inode from {CATALOG}.main.serving_file"
        ).fetchone()
    except duckdb.Error:
        row = None
    if row is None or tuple(row) != file_token(serving_path):
        con.execute(f"detach {CATALOG}")
        return False
    return True


def hashed_marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The marts whose hashes the attached hashes file holds (one catalog query for all)."""
    return {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = ? and schema_name = 'main'",
            [CATALOG],
        ).fetchall()
    }


def published_builds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Mart -> the dbt build its published table equals, from the attached hashes file
    (empty when that file predates the record)."""
    try:
        rows = con.execute(f"select mart, invocation_id from {CATALOG}.main.published_builds")
    except duckdb.Error:
        return {}
    return dict(rows.fetchall())


def adopt_copy(serving_path: Path) -> bool:
    """Trust the hashes file beside `serving_path` again after the data dir was copied whole
    (`cp -a`, `shutil.copytree`): True when adopted.

    A copy keeps the serving file's bytes, size and modification time but gets a new inode,
    which voids the hashes, so the next publish hashes every large published mart itself (at
    the large chain 11.5-17.6 s instead of 5.9-6.7 s). Only the inode may differ: a file of
    another size or time is another file, and its hashes stay void. The benchmark uses this to
    repeat a night from one saved state as a night in place would meet it.
    """
    path = hashes_path(serving_path)
    if not (path.is_file() and Path(serving_path).is_file()):
        return False
    size, mtime_ns, inode = file_token(serving_path)
    con = duckdb.connect(str(path))
    try:
        row = con.execute("select size, mtime_ns from serving_file").fetchone()
        if row is None or tuple(row) != (size, mtime_ns):
            return False
        con.execute("update serving_file set inode = ?", [inode])
        con.execute("checkpoint")
    finally:
        con.close()
    return True


def stamp(path: Path, serving_file: Path, builds: Mapping[str, str] | None = None) -> None:
    """Record which serving file the hashes in `path` belong to (after its audit), and the
    dbt build each incremental model's mart in it equals (`builds`: mart -> invocation id)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create or replace table serving_file (size bigint, mtime_ns bigint, inode bigint)"
        )
        con.execute("insert into serving_file values (?, ?, ?)", list(file_token(serving_file)))
        con.execute(
            "create or replace table published_builds (mart varchar, invocation_id varchar)"
        )
        if builds:
            con.executemany("insert into published_builds values (?, ?)", sorted(builds.items()))
        con.execute("checkpoint")
    finally:
        con.close()
