"""dbt-duckdb plugin: every dbt session reads and writes time in UTC, whatever the server's zone.

A DuckDB session takes its `TimeZone` from the process (the `TZ` variable, else the system's
zone), and several models depend on it: a `timestamptz` cast to `date` or `timestamp`, and
`dateadd`/`datediff` on instants, work in the session's calendar. Left to the server, a warehouse
built on a machine set to America/New_York published other numbers than one built in UTC (the
reactivation rate of a month, lead response minutes across a DST change, the calendar's first
day), and a server whose zone changed mixed both in its incremental models. The models convert
to each location's own zone explicitly where a local day is meant (`macros/time.sql`); every
other conversion is meant in UTC, the loader's session zone too (`ingestion.pipeline`).

`SET GLOBAL` once per database handle: dbt-duckdb runs each model on a cursor of that handle,
and cursors start from the global settings, so no statement is added per model.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

#: The session time zone of every dbt connection.
SESSION_TIME_ZONE = "UTC"


class Plugin(BasePlugin):
    """Pins the `TimeZone` of the database dbt opens to `SESSION_TIME_ZONE`."""

    def configure_connection(self, conn: Any) -> None:
        conn.execute(f"SET GLOBAL TimeZone = '{SESSION_TIME_ZONE}'")
