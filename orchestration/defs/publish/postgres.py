"""`serving_postgres`: the audited marts published into PostgreSQL for Metabase and Power BI.

Downstream of `serving`, so it starts only after serving.duckdb was built, audited and swapped
in, i.e. after every blocking check passed; a failed `serving` (a blocked run) means this asset
never runs and PostgreSQL keeps the previous data. It re-checks the run's blocking checks
anyway, then loads serving.duckdb into fresh schemas and swaps them in (`serving.postgres`).
Without `MEDSPA_SERVING_URL` it does nothing and says so (no materialization), so `make demo`
needs no PostgreSQL. With a tenant registry every tenant's run publishes into the same database,
replacing only that tenant's rows (`serving.pg_tenants`). Its check compares the version
PostgreSQL serves (for the run's tenant) with the run that built the current serving.duckdb.
"""

import dagster as dg

from orchestration import run_events
from orchestration.defs.dbt.assets import MANIFEST
from orchestration.resources import MedspaSettings
from orchestration.tenancy import TENANT_PARTITIONS, tenant_of
from serving import pg_docs, pg_roles, pg_tenants, postgres
from serving.pg_url import server_label

SKIP_REASON = "MEDSPA_SERVING_URL is not set: PostgreSQL serving target skipped"


@dg.asset(
    key="serving_postgres",
    deps=["serving"],
    group_name="publish",
    kinds={"postgres"},
    partitions_def=TENANT_PARTITIONS,
    output_required=False,
    description="Audited marts + ops in PostgreSQL (MEDSPA_SERVING_URL), swapped in atomically.",
)
def serving_postgres(context: dg.AssetExecutionContext, medspa: MedspaSettings):
    settings = medspa.settings(context)
    if not settings.serving_url:
        context.log.info(SKIP_REASON)
        return
    blocked = run_events.failed_blocking(
        run_events.check_outcomes(context.instance, context.run_id)
    )
    if blocked:
        names = ", ".join(f"{c.asset}:{c.check_name}" for c in blocked)
        raise RuntimeError(f"not publishing to PostgreSQL: blocking check(s) failed: {names}")
    options = {
        "lock_timeout_s": settings.serving_lock_timeout_s,
        "bi_password": settings.bi_password,
        "roles": pg_roles.ServingRoles(settings.serving_role_prefix),
        "log": context.log.warning,
    }
    docs = pg_docs.docs_from_manifest(MANIFEST)
    if settings.tenants_file is not None:
        # One database for every tenant: this run replaces its own tenant's rows only.
        result = pg_tenants.publish_tenant_postgres(
            settings.serving_path,
            settings.serving_url,
            tenant_of(context),
            context.run_id,
            docs,
            **options,
        )
    else:
        result = postgres.publish_postgres(
            settings.serving_path, settings.serving_url, context.run_id, docs, **options
        )
    context.log.info(
        f"published {len(result.rows)} tables to {server_label(settings.serving_url)} "
        f"in {result.seconds:.2f} s (swap {result.swap_seconds * 1000:.0f} ms)"
    )
    yield dg.MaterializeResult(
        metadata={
            "url": server_label(settings.serving_url),
            "tenant": tenant_of(context) if settings.tenants_file is not None else "none",
            "version": result.version,
            "dagster/row_count": sum(result.rows.values()),
            "rows_per_table": result.rows,
            "duration_s": round(result.seconds, 3),
            "swap_ms": round(result.swap_seconds * 1000, 1),
            "swap_attempts": result.swap_attempts,
            "notes": "; ".join(result.notes) or "none",
        }
    )


@dg.asset_check(
    asset=serving_postgres,
    name="served_version_is_built_version",
    description="PostgreSQL serves the version of the run that built the current serving.duckdb.",
)
def served_version_is_built_version(
    context: dg.AssetCheckExecutionContext, medspa: MedspaSettings
) -> dg.AssetCheckResult:
    settings = medspa.settings(context)
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("serving"), asset_partitions=[tenant_of(context)]
        ),
        limit=1,
    ).records
    built_version = records[0].run_id if records else None
    served = None
    if settings.serving_url and settings.tenants_file is not None:
        served = pg_tenants.served_versions(settings.serving_url).get(tenant_of(context))
    elif settings.serving_url:
        served = postgres.served_version(settings.serving_url)
    return dg.AssetCheckResult(
        passed=served is not None and served == built_version,
        metadata={"served": served or "none", "built": built_version or "none"},
    )
