"""`kpi_benchmarks`: where each tenant stands among its peers (`serving.peer_benchmarks`).

The one asset not partitioned by tenant: it reads every tenant's published `serving.duckdb`
(read-only) and writes each tenant its own `<tenant dir>/peer_benchmarks.duckdb` with the
peers' percentiles and its own rank only. It runs in its own job (`peer_benchmarks`), after the
tenants' nightly runs (`medspa run --all-tenants` runs it at the end; in the UI, materialise
it once the nightly backfill is done), so it never holds up a tenant's publish.
"""

from pathlib import Path

import dagster as dg

from medspa.settings import Settings
from medspa.tenants import resolve_tenants
from orchestration.resources import MedspaSettings
from serving import peer_benchmarks

BENCHMARK_FILE = "peer_benchmarks.duckdb"


def publish_benchmarks(base: Settings) -> dict[str, int]:
    """Compute the benchmarks over every registry tenant; tenant -> rows written to its file."""
    folders: dict[str, Path] = {
        t.name: t.data_dir(base.data_dir) for t in resolve_tenants(base, base.tenants_file)
    }
    results = peer_benchmarks.compute({n: d / "serving.duckdb" for n, d in folders.items()})
    for name, rows in results.items():
        if folders[name].is_dir():
            peer_benchmarks.write(folders[name] / BENCHMARK_FILE, rows)
    return {name: len(rows) for name, rows in results.items()}


@dg.asset(
    key="kpi_benchmarks",
    deps=["serving"],
    group_name="publish",
    kinds={"duckdb"},
    description="Per tenant: p25/p50/p75 of each KPI across tenants (only where at least "
    f"{peer_benchmarks.MIN_PEERS} contribute) and the tenant's own percentile rank.",
)
def kpi_benchmarks(context: dg.AssetExecutionContext, medspa: MedspaSettings):
    written = publish_benchmarks(medspa.base_settings())
    context.log.info(f"peer benchmarks for {len(written)} tenant(s)")
    return dg.MaterializeResult(
        metadata={
            "tenants": len(written),
            "benchmarks_per_tenant": max(written.values(), default=0),
            "min_peers": peer_benchmarks.MIN_PEERS,
        }
    )


PEER_BENCHMARKS = dg.define_asset_job(
    name="peer_benchmarks",
    selection=dg.AssetSelection.assets(kpi_benchmarks),
    description="Peer benchmarks across all tenants (after their nightly runs).",
)
