"""DuckDB column types of serving.duckdb -> the PostgreSQL types BI tools read best.

Money is `decimal(18,2)` in the marts and stays exact as `numeric(18,2)`; ratios and other
measures are DuckDB `double` -> `double precision`; instants (`timestamp with time zone`)
-> `timestamptz`; dates, booleans, integers and text map one to one. A DuckDB `timestamp`
without zone is a clinic's local wall-clock time (`*_local`): it stays `timestamp`, because
turning it into an instant would invent a time zone. Nested types (lists, structs, maps) are
refused with the column named, rather than flattened silently.
"""

from __future__ import annotations

import re

_SIMPLE = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "TIME": "time",
    "DOUBLE": "double precision",
    "FLOAT": "double precision",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(38,0)",
    "INTERVAL": "interval",
    "UUID": "uuid",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)\Z")

#: Columns BI tools filter the scorecard and detail marts by, in index order.
FILTER_COLUMNS = ("grain", "location_id", "kpi", "period_start")


class UnsupportedType(ValueError):
    """A serving column whose DuckDB type has no faithful PostgreSQL equivalent here."""


def pg_type(duckdb_type: str, where: str) -> str:
    """The PostgreSQL type for a DuckDB `information_schema.columns.data_type`."""
    upper = duckdb_type.upper().strip()
    if upper in _SIMPLE:
        return _SIMPLE[upper]
    match = _DECIMAL.fullmatch(upper)
    if match:
        precision, scale = int(match[1]), int(match[2])
        # Money (scale 2) is numeric(18,2) everywhere, whatever precision a sum() inferred
        # (DuckDB widens to 38 digits); a value that did not fit would fail the COPY loudly.
        return "numeric(18,2)" if scale == 2 else f"numeric({precision},{scale})"
    raise UnsupportedType(f"{where}: DuckDB type {duckdb_type} cannot be published to PostgreSQL")


def index_columns(columns: list[str]) -> list[list[str]]:
    """Indexes for one table: the usual BI filters it has, most selective path first."""
    present = [c for c in FILTER_COLUMNS if c in columns]
    indexes: list[list[str]] = []
    if len(present) >= 2:  # the KPI marts; facts are read whole or by their own keys
        indexes.append(present)
        if "kpi" in present and present[0] != "kpi":
            # "one KPI over time, all locations": the trend charts' filter.
            indexes.append(["kpi", *[c for c in present if c != "kpi"]])
    return indexes
