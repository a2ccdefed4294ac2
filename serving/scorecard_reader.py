"""A long-lived reader of the published scorecard that follows every publish.

A program that answers scorecard lookups all day (a front-desk screen, an intranet page, a
chat bot) has two ways to read `scorecard.duckdb`:

- open the file for each lookup: always the latest publish, but every lookup pays for a new
  DuckDB instance (DuckDB registering its built-in functions, 8-15 ms on 2 cores) before its
  query; or
- keep one connection open: a lookup costs only its query, but the connection keeps reading
  the file it opened, so after the nightly publish it answers with yesterday's numbers.

`ScorecardReader` keeps one connection and reopens it only when the publish has swapped the
file. The publish never writes the file in place: it builds and audits a new file and renames
it over the old one (`serving.publish`), so a new publish is a new inode at the same path, and
one `stat` per lookup (microseconds) tells whether to reopen. The open connection still holds
the old inode, which the operating system keeps readable until it is closed, so a lookup that
races a publish reads one complete publish or the other, never a mix.

The file is attached read-only and sealed like every analyst's connection (no file or network
access, settings locked).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from safeio.sqlquote import sql_str
from serving.scorecard_file import SCORECARD_TABLES

#: One location's scorecard for one period, each KPI with what explains it.
LOOKUP_SQL = """
select s.*, t.label, t.unit, t.direction
from marts.kpi_scorecard as s
inner join marts.kpi_targets as t on s.kpi = t.kpi
where s.grain = {grain} and s.location_id = {location} and s.period_start = {period}
order by t.label
"""

GRAINS = ("week", "month")

#: The catalog the file is attached as (and made the default, so `marts.x` reads it).
CATALOG = "scorecard"


def _identity(path: Path) -> tuple[int, int, int, int]:
    """What changes when a publish swaps the file: inode, device, size, modification time."""
    st = os.stat(path)
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


class ScorecardReader:
    """Scorecard lookups on one open connection, reopened when a publish swaps the file.

    Thread-safe: lookups from several threads take turns on the one connection (a lookup is a
    few milliseconds; a program that needs more throughput runs one reader per thread).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.reopens = 0  # publishes followed since the first open
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened: tuple[int, int, int, int] | None = None

    def lookup(
        self, location_id: str, period_start: dt.date, grain: str = "week"
    ) -> list[tuple[Any, ...]]:
        """One location's (or `_all`'s) scorecard rows for the period starting `period_start`.

        The values go into the SQL as quoted literals, not bound parameters: the first
        parameter a DuckDB Python connection binds imports pandas and pyarrow (0.3-0.5 s).
        """
        if grain not in GRAINS:
            raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
        if not isinstance(location_id, str):
            raise TypeError(f"location_id must be a string, not {type(location_id).__name__}")
        if not isinstance(period_start, dt.date) or isinstance(period_start, dt.datetime):
            raise TypeError(f"period_start must be a date, not {type(period_start).__name__}")
        _check_period_start(period_start, grain)
        sql = LOOKUP_SQL.format(
            grain=sql_str(grain),
            location=sql_str(location_id),
            period=f"date {sql_str(period_start.isoformat())}",
        )
        return self.query(sql)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Any read-only SQL against the latest published scorecard file (its two tables)."""
        with self._lock:
            return self._connection().execute(sql).fetchall()

    def close(self) -> None:
        with self._lock:
            self._close()

    def __enter__(self) -> ScorecardReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection, reopened first when the file at `path` is another publish's.

        The identity is read before opening: if a publish lands between the two, the reader
        holds the newer file under the older identity and reopens once more on the next
        lookup, which costs one open and never serves a stale file twice.
        """
        try:
            current = _identity(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no published scorecard at {self.path}: run `medspa run` (its publish step "
                "writes scorecard.duckdb beside serving.duckdb)"
            ) from None
        if self._con is None or current != self._opened:
            con = _open_sealed(self.path)
            if self._con is not None:
                self.reopens += 1
            self._close()
            self._con, self._opened = con, current
        return self._con

    def _close(self) -> None:
        if self._con is not None:
            self._con.close()
        self._con, self._opened = None, None


def _open_sealed(path: Path) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB instance with `path` attached read-only, then sealed.

    Attached rather than opened: `duckdb.connect(path)` returns the instance this process
    already holds for that path, which is the connection to yesterday's file while it is still
    open. The seal (no file or network access, settings locked) can only follow the attach.
    One thread: a point lookup needs no worker pool, and starting one is most of an open.
    A file without the scorecard's tables is refused (serving.duckdb has them too, and works).
    """
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        con.execute(f"attach {sql_str(str(path))} as {CATALOG} (read_only)")
        con.execute(f"use {CATALOG}")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        found = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                f"where database_name = {sql_str(CATALOG)} and schema_name = 'marts'"
            ).fetchall()
        }
        missing = [t for t in SCORECARD_TABLES if t not in found]
        if missing:
            raise ValueError(
                f"{path} has no marts.{', marts.'.join(missing)}: not a scorecard file"
            )
    except BaseException:
        con.close()
        raise
    return con


def _check_period_start(period_start: dt.date, grain: str) -> None:
    """Refuse a date no period of `grain` starts on: it would find no rows, which reads as
    "no data that week" when the caller meant the week holding that date."""
    if grain == "week" and period_start.isoweekday() != 1:
        monday = period_start - dt.timedelta(days=period_start.isoweekday() - 1)
        raise ValueError(
            f"{period_start} is a {period_start:%A}: weeks start on Monday (the week holding "
            f"it starts {monday})"
        )
    if grain == "month" and period_start.day != 1:
        raise ValueError(
            f"{period_start} is not the first of a month: months start on the 1st "
            f"({period_start.replace(day=1)})"
        )
