"""Peer benchmarks: where one tenant stands among the others, without revealing any of them.

For each KPI, grain and final period, the 25th/50th/75th percentile of the tenants' chain-wide
values (scorecard rows with `location_id = '_all'`) and each tenant's own percentile rank. A
benchmark exists only where at least `MIN_PEERS` tenants contribute: with fewer, a percentile
could be one tenant's value that the others can single out. Each tenant receives its own file
holding the peers' percentiles and its own rank only -- never another tenant's value or name.

The period is each KPI and grain's newest final period that enough tenants have, so a tenant
whose data lags does not pull the benchmark back, and KPI values depend only on data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from safeio.sqlquote import sql_str

#: Fewest tenants whose values a published percentile may be computed from.
MIN_PEERS = 5
TABLE = "kpi_benchmarks"
CHAIN_WIDE = "_all"

_COLUMNS = (
    "kpi varchar, grain varchar, period_start date, peers integer, p25 double, p50 double, "
    "p75 double, own_value double, own_percentile_rank double"
)


def _load(con: duckdb.DuckDBPyConnection, serving: Mapping[str, Path]) -> None:
    """Every tenant's final chain-wide KPI values into one temporary table (tenant, kpi, ...)."""
    con.execute(
        "create temp table peer_values (tenant varchar, kpi varchar, grain varchar, "
        "period_start date, value double)"
    )
    for tenant, path in sorted(serving.items()):
        if not Path(path).is_file():
            continue  # a tenant never published yet contributes nothing
        con.execute(f"attach {sql_str(str(path))} as src (read_only)")
        try:
            con.execute(
                "insert into peer_values select ?, kpi, grain, period_start, value "
                "from src.marts.kpi_scorecard where is_final and location_id = ? "
                "and value is not null",
                [tenant, CHAIN_WIDE],
            )
        finally:
            con.execute("detach src")


_BENCHMARKS = """
with counted as (
    select kpi, grain, period_start, count(*) as peers
    from peer_values
    group by kpi, grain, period_start
),

latest as (
    select kpi, grain, max(period_start) as period_start
    from counted
    where peers >= ?
    group by kpi, grain
),

ranked as (
    select
        v.tenant,
        v.kpi,
        v.grain,
        v.period_start,
        v.value,
        percent_rank() over (partition by v.kpi, v.grain order by v.value) as pct_rank
    from peer_values as v
    inner join latest using (kpi, grain, period_start)
),

stats as (
    select
        kpi,
        grain,
        period_start,
        count(*) as peers,
        quantile_cont(value, 0.25) as p25,
        quantile_cont(value, 0.5) as p50,
        quantile_cont(value, 0.75) as p75
    from ranked
    group by kpi, grain, period_start
)

select
    r.tenant,
    s.kpi,
    s.grain,
    s.period_start,
    s.peers,
    s.p25,
    s.p50,
    s.p75,
    r.value as own_value,
    r.pct_rank as own_percentile_rank
from stats as s
inner join ranked as r using (kpi, grain, period_start)
order by r.tenant, s.kpi, s.grain
"""


def compute(serving: Mapping[str, Path], min_peers: int = MIN_PEERS) -> dict[str, list[tuple]]:
    """tenant -> its benchmark rows (kpi, grain, period, peers, p25, p50, p75, own, rank)."""
    con = duckdb.connect()
    try:
        _load(con, serving)
        rows = con.execute(_BENCHMARKS, [min_peers]).fetchall()
    finally:
        con.close()
    by_tenant: dict[str, list[tuple]] = {t: [] for t in serving}
    for tenant, *row in rows:
        by_tenant[tenant].append(tuple(row))
    return by_tenant


def write(path: Path, rows: list[tuple]) -> None:
    """One tenant's benchmarks into `path` (replaced atomically: a reader sees old or new)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"create table {TABLE} ({_COLUMNS})")
        if rows:
            con.executemany(f"insert into {TABLE} values ({', '.join('?' * 9)})", rows)
    finally:
        con.close()
    tmp.replace(path)
