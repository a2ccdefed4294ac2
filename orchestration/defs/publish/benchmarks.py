"""`kpi_benchmarks`: where each tenant stands among its peers (`serving.peer_benchmarks`).

The one asset not partitioned by tenant: it reads every tenant's published `serving.duckdb`
(read-only) and writes each tenant its own `<tenant dir>/peer_benchmarks.duckdb` with the
peers' percentiles and its own rank only. It runs in its own job (`peer_benchmarks`), after the
tenants' nightly runs (`medspa run --all-tenants` runs it at the end; in the UI, materialise
it once the nightly backfill is done), so it never holds up a tenant's publish.

Each tenant's site was built in its own run, before the benchmarks existed, so right after
writing a tenant's file the pages that read it (weekly flash and its email, the benchmarks
page, the home page) are rendered again from that tenant's own `serving.duckdb` and file only
(`dashboards.refresh`): the site a clinic opens the next morning is complete, and no page ever
sees another tenant's data.

Each (kpi, grain, period) is published from the peers and values of its first publish only
(`serving.benchmark_periods`): when they differ later (a tenant gone, added or missing for a
night, a peer's value restated) that benchmark is withheld rather than published anew, since
two sets of figures for one period let a tenant solve for its peers' values.

With `MEDSPA_SERVING_URL` set, each tenant's file is also served in PostgreSQL as its rows of
`marts.kpi_benchmarks` (`serving.pg_tenants.publish_tenant_benchmarks`), under the same
row-level security as its marts: a tenant's BI login sees its own standing, nobody else's.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import dagster as dg

from medspa.run_lock import RunLockedError, data_dir_lock
from medspa.settings import Settings
from medspa.tenants import resolve_tenants
from orchestration.resources import MedspaSettings
from serving import benchmark_periods, peer_benchmarks
from serving.pg_docs import TableDoc


@dataclass
class BenchmarkOutcome:
    """Per tenant: benchmark rows written, and which sites were refreshed or failed to."""

    rows: dict[str, int] = field(default_factory=dict)
    refreshed: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    #: Benchmarks not published because their inputs differ from their period's first publish.
    withheld: list[str] = field(default_factory=list)


def _refresh_site(tenant: Settings) -> str | None:
    """Re-render the tenant's peer pages; a failure as text (None when fine or no site)."""
    from dashboards.refresh import refresh_peer_pages  # loads the chart renderer

    if not (tenant.site_dir / "index.html").is_file() or not tenant.serving_path.is_file():
        return None  # never published: its first full build reads the benchmarks itself
    try:
        report = refresh_peer_pages(
            tenant.serving_path, tenant.site_dir, tenant.peer_benchmarks_path
        )
    except Exception as exc:  # one tenant's broken site must not cost the others theirs
        return f"{type(exc).__name__}: {exc}"
    return "; ".join(str(f) for f in report.pages_failed) or None


def _serve_in_postgres(
    base: Settings, tenant_name: str, tenant: Settings, docs: Mapping[str, TableDoc]
) -> str | None:
    """The tenant's benchmarks as its rows of PostgreSQL's `marts.kpi_benchmarks`; a
    failure as text (None when served, or when no PostgreSQL target is configured)."""
    if not base.serving_url:
        return None
    from serving import pg_roles, pg_tenants

    try:
        pg_tenants.publish_tenant_benchmarks(
            tenant.peer_benchmarks_path,
            base.serving_url,
            tenant_name,
            docs,
            lock_timeout_s=base.serving_lock_timeout_s,
            roles=pg_roles.ServingRoles(base.serving_role_prefix),
        )
    except Exception as exc:  # one tenant's failure must not cost the others theirs
        return f"PostgreSQL: {type(exc).__name__}: {exc}"
    return None


def _served_docs(base: Settings) -> Mapping[str, TableDoc]:
    """The dbt descriptions PostgreSQL comments are made of, read once for every tenant."""
    if not base.serving_url:
        return {}
    from orchestration.defs.dbt.assets import MANIFEST
    from serving import pg_docs

    return pg_docs.docs_from_manifest(MANIFEST)


def publish_benchmarks(base: Settings) -> BenchmarkOutcome:
    """Benchmarks over every registry tenant into each one's file, then its peer pages."""
    if base.tenants_file is None:
        return BenchmarkOutcome()  # one clinic, no registry: it has no peers to compare with
    folders: dict[str, Path] = {
        t.name: t.data_dir(base.data_dir) for t in resolve_tenants(base, base.tenants_file)
    }
    found = peer_benchmarks.benchmarks({n: d / "serving.duckdb" for n, d in folders.items()})
    # Recorded before any file or row is written: a period is published from its first inputs
    # only, or a tenant comparing two nights' rows could solve for its peers' values.
    kept, withheld = benchmark_periods.freeze(
        found, benchmark_periods.ledgers(base.data_dir, base.serving_url)
    )
    results = peer_benchmarks.by_tenant(kept, folders)
    outcome = BenchmarkOutcome(
        rows={name: len(rows) for name, rows in results.items()},
        withheld=[str(w) for w in withheld],
    )
    docs = _served_docs(base)
    for name, rows in results.items():
        if not folders[name].is_dir():
            continue
        tenant = replace(base, data_dir=folders[name])  # its paths only, no key needed
        try:
            # The tenant's own run writes the same site folder (its site step builds a new
            # one and swaps it in): pages re-rendered into the folder it is replacing would be
            # lost, or land in the new one half-written. Its run lock keeps them apart; a
            # tenant whose run is going on is left for the next benchmarks run.
            with data_dir_lock(folders[name], "the peer benchmarks job"):
                failure = _write_and_refresh(base, name, tenant, rows, docs)
        except RunLockedError as exc:
            failure = str(exc)
        if failure:
            outcome.failures[name] = failure
        elif tenant.site_dir.is_dir():
            outcome.refreshed.append(name)
    return outcome


def _write_and_refresh(
    base: Settings,
    name: str,
    tenant: Settings,
    rows: list[tuple],
    docs: Mapping[str, TableDoc],
) -> str | None:
    """One tenant's benchmarks file, its PostgreSQL rows and its peer pages; failures as text."""
    peer_benchmarks.write(tenant.peer_benchmarks_path, rows)
    served = _serve_in_postgres(base, name, tenant, docs)
    failures = [f for f in (_refresh_site(tenant), served) if f]
    return "; ".join(failures) or None


@dg.asset(
    key="kpi_benchmarks",
    deps=["serving", "site"],
    group_name="publish",
    kinds={"duckdb", "html"},
    description="Per tenant: p25/p50/p75 of each KPI across tenants (only where at least "
    f"{peer_benchmarks.MIN_PEERS} contribute) and the tenant's own percentile rank; then "
    "each tenant's weekly flash, email and benchmarks page are rendered again.",
)
def kpi_benchmarks(context: dg.AssetExecutionContext, medspa: MedspaSettings):
    base = medspa.base_settings()
    if base.tenants_file is None:
        context.log.info("no tenant registry: one clinic has no peers; nothing to compute")
    outcome = publish_benchmarks(base)
    context.log.info(
        f"peer benchmarks for {len(outcome.rows)} tenant(s); "
        f"{len(outcome.refreshed)} site(s) re-rendered"
    )
    for text in outcome.withheld:
        context.log.warning(f"peer benchmark withheld, {text}")
    if outcome.failures:
        raise RuntimeError(
            "peer benchmarks failed to render or serve for "
            + "; ".join(f"{name}: {text}" for name, text in sorted(outcome.failures.items()))
        )
    return dg.MaterializeResult(
        metadata={
            "tenants": len(outcome.rows),
            "benchmarks_per_tenant": max(outcome.rows.values(), default=0),
            "min_peers": peer_benchmarks.MIN_PEERS,
            "sites_refreshed": len(outcome.refreshed),
            "withheld": len(outcome.withheld),
        }
    )


PEER_BENCHMARKS = dg.define_asset_job(
    name="peer_benchmarks",
    selection=dg.AssetSelection.assets(kpi_benchmarks),
    description="Peer benchmarks across all tenants (after their nightly runs).",
)
