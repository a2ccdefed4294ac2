"""Peer benchmarks: where one tenant stands among the others, without revealing any of them.

For each KPI, grain and final period, the 25th/50th/75th percentile of the tenants' chain-wide
values (scorecard rows with `location_id = '_all'`) and each tenant's own percentile rank. A
benchmark exists only where at least `MIN_PEERS` tenants contribute. Each tenant receives its
own file holding the peers' percentiles and its own rank only -- never another tenant's value
or name.

The percentiles are Harrell-Davis estimates: a weighted mean of every contributor's value
(weights from a Beta distribution centred on the percentile), not the usual interpolation
between the two nearest values. The usual one is exactly one tenant's value whenever the
percentile falls on a rank (with 5 tenants, p25/p50/p75 are the 2nd, 3rd and 4th values), so
a tenant would read its peers' figures off its own file. Here each published figure mixes all
values, and a tenant that knows its own value still has more unknowns than figures.

What this does not stop: tenants who pool their files. Each file holds the same three figures
(linear in the sorted values, with weights anyone can compute from the peer count) and its
tenant's own value and rank; with `peers - 3` tenants pooling, three unknowns remain for three
equations and the other values follow exactly (two of five peers suffice). The README says so.

Nor, on its own, a single tenant comparing two nights: the same period computed again from
other peers or values gives three more equations. The publishing step therefore publishes a
period from its first inputs only (`serving.benchmark_periods`); this module only computes.

The period is each KPI and grain's newest final period that enough tenants have, so a tenant
whose data lags does not pull the benchmark back, and KPI values depend only on data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from safeio.sqlquote import sql_str

#: Fewest tenants whose values a published percentile may be computed from.
MIN_PEERS = 5
TABLE = "kpi_benchmarks"
#: Digits a contributor's value is kept to: money to the cent up to 10^9, rates to 1e-12.
SIGNIFICANT_DIGITS = 12
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
)

select tenant, kpi, grain, period_start, value, pct_rank
from ranked
order by kpi, grain, value, tenant
"""


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz's method).

    Written out rather than taken from scipy, which the project does not depend on directly;
    accurate to about 1e-14 for the parameters used here (a, b >= 1.5 with 5 or more peers).
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on this side only
        return 1.0 - _incomplete_beta(1.0 - x, b, a)
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return math.exp(log_front) * fraction / a


def harrell_davis(sorted_values: Sequence[float], q: float) -> float:
    """The Harrell-Davis estimate of quantile `q` of ascending `sorted_values`.

    Weight of the i-th value (1-based, n values): I_{i/n}(a, b) - I_{(i-1)/n}(a, b) with
    a = (n + 1) q and b = (n + 1)(1 - q): every value weighs, the ones near the quantile most.
    """
    n = len(sorted_values)
    a, b = (n + 1) * q, (n + 1) * (1 - q)
    cdf = [_incomplete_beta(i / n, a, b) for i in range(n + 1)]
    return sum((cdf[i + 1] - cdf[i]) * v for i, v in enumerate(sorted_values))


@dataclass(frozen=True)
class Benchmark:
    """One (kpi, grain, period): its contributors, ascending by value, and the peers' figures.

    Kept whole (not only as per-tenant rows) so the publishing step can tell which tenants and
    values a benchmark was computed from, and withhold it when they differ from the first
    publish of that period (`serving.benchmark_periods`).
    """

    kpi: str
    grain: str
    period: dt.date
    #: (tenant, value, percent rank), ascending by value then tenant.
    members: tuple[tuple[str, float, float], ...]
    p25: float
    p50: float
    p75: float

    @property
    def key(self) -> tuple[str, str, dt.date]:
        return (self.kpi, self.grain, self.period)

    def rows(self) -> dict[str, tuple]:
        """tenant -> its row (kpi, grain, period, peers, p25, p50, p75, own, rank)."""
        head = (self.kpi, self.grain, self.period, len(self.members))
        figures = (self.p25, self.p50, self.p75)
        return {t: (*head, *figures, value, rank) for t, value, rank in self.members}


def canonical(value: float) -> float:
    """`value` to `SIGNIFICANT_DIGITS` significant digits.

    A KPI recomputed from unchanged data may differ in its last bits (a parallel sum adds in
    another order). A period is published only from the values it was first published from
    (`serving.benchmark_periods`), so such noise would withhold it; rounded, it is the same
    value, and the figures computed from it are the same to the bit.
    """
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def benchmarks(serving: Mapping[str, Path], min_peers: int = MIN_PEERS) -> list[Benchmark]:
    """Every (kpi, grain) benchmark of its newest final period with at least `min_peers`."""
    con = duckdb.connect()
    try:
        _load(con, serving)
        rows = con.execute(_BENCHMARKS, [min_peers]).fetchall()
    finally:
        con.close()
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for tenant, kpi, grain, period, value, rank in rows:  # ascending value within a group
        groups[(kpi, grain, period)].append((tenant, canonical(value), rank))
    out = []
    for (kpi, grain, period), members in groups.items():
        values = [value for _, value, _ in members]
        p25, p50, p75 = (harrell_davis(values, q) for q in (0.25, 0.5, 0.75))
        out.append(Benchmark(kpi, grain, period, tuple(members), p25, p50, p75))
    return sorted(out, key=lambda b: b.key)


def by_tenant(found: Sequence[Benchmark], tenants: Iterable[str]) -> dict[str, list[tuple]]:
    """tenant -> its rows of `found` (every tenant of `tenants` listed, maybe with none)."""
    out: dict[str, list[tuple]] = {t: [] for t in tenants}
    for benchmark in found:
        for tenant, row in benchmark.rows().items():
            out.setdefault(tenant, []).append(row)
    for tenant_rows in out.values():
        tenant_rows.sort(key=lambda r: (r[0], r[1]))
    return out


def compute(serving: Mapping[str, Path], min_peers: int = MIN_PEERS) -> dict[str, list[tuple]]:
    """tenant -> its benchmark rows (kpi, grain, period, peers, p25, p50, p75, own, rank)."""
    return by_tenant(benchmarks(serving, min_peers), serving)


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
