"""The time a load is numbered by: the machine's clock, but never at or before an earlier load.

Two things order loads by their time. The file ledger's `load_id` (`raw_meta.loaded_files`)
decides which load of a table is its latest (the quarantine gate judges that one), and every
raw row's `_dlt_load_id` tells the incremental dbt models which rows are newer than the ones
they were built from (`macros/loads.sql`: "newer" is a larger id). Both used to be read off the
wall clock. A clock set back a day numbered that night's rows below the models' watermarks, so
no incremental model ever read them, with every check passing; a clock a year ahead did the
same to every night after it was corrected. KPIs must depend on the data only, so a load is
numbered one microsecond after the latest earlier one whenever the clock says otherwise, and
the load report says the clock is behind.

A row's stamp is the load's time as Unix seconds with six decimals: the form dlt's own load
ids have (`1765432100.123456`, which earlier versions wrote on rows), so old and new stamps
compare as text in time order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

import duckdb

#: the ledger's load id: the load's UTC time, sortable as text
LOAD_ID_FORMAT = "%Y%m%dT%H%M%S.%fZ"
_TICK = dt.timedelta(microseconds=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class LoadTime:
    """When a load counts as having happened, and how it is written down."""

    at: dt.datetime
    #: the machine's clock was at or before an earlier load: `at` is that load's + 1 µs
    clock_behind: bool = False

    @property
    def load_id(self) -> str:
        """The file ledger's id of the load."""
        return self.at.strftime(LOAD_ID_FORMAT)

    @property
    def row_stamp(self) -> str:
        """The `_dlt_load_id` every row this load writes carries."""
        micros = (self.at - _EPOCH) // _TICK
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def next_load_time(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> LoadTime:
    """`now`, or 1 µs after the latest load recorded in the warehouse when `now` is not later.

    The latest load is the larger of the ledger's newest load id and the newest load dlt
    recorded in any `raw_*` dataset (`_dlt_loads`: the stamps of rows written before loads were
    numbered here); both tables are small.
    """
    latest = [_ledger_latest(con), *_dlt_latest(con)]
    floor = max((t for t in latest if t is not None), default=None)
    if floor is None or now > floor:
        return LoadTime(now)
    return LoadTime(floor + _TICK, clock_behind=True)


def _ledger_latest(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    found = con.execute(
        "select 1 from information_schema.tables "
        "where table_schema = 'raw_meta' and table_name = 'loaded_files'"
    ).fetchone()
    if found is None:
        return None
    (latest,) = con.execute("select max(load_id) from raw_meta.loaded_files").fetchone()
    if latest is None:
        return None
    return dt.datetime.strptime(latest, LOAD_ID_FORMAT).replace(tzinfo=dt.UTC)


def _dlt_latest(con: duckdb.DuckDBPyConnection) -> list[dt.datetime | None]:
    """The newest load dlt recorded in each `raw_*` dataset, rounded up to the microsecond
    (its ids are Unix seconds as text, read as decimals: a float would round them)."""
    schemas = [
        schema
        for (schema,) in con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = '_dlt_loads' and starts_with(table_schema, 'raw_')"
        ).fetchall()
    ]
    out: list[dt.datetime | None] = []
    for schema in schemas:
        quoted = '"' + schema.replace('"', '""') + '"'
        (latest,) = con.execute(f"select max(load_id) from {quoted}._dlt_loads").fetchone()
        try:
            seconds = Decimal(latest)
        except (InvalidOperation, TypeError):
            out.append(None)
            continue
        micros = int((seconds * 1_000_000).to_integral_value(rounding=ROUND_CEILING))
        out.append(_EPOCH + micros * _TICK)
    return out
