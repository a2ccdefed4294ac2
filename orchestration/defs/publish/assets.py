"""`serving` (write-audit-publish) and `site`, the last two assets of the nightly job.

`serving` depends on every mart and seed, so in a full run Dagster starts it only after they
were built and every blocking check on them and upstream (GX suites, quarantine share, dbt
tests) passed. But `serving` can also run without those checks: materialized alone from the UI,
or in an automatic retry that re-executes only the failed step onward. So before building
anything it reads, for every check on `serving` and the assets it is built from, the check's
latest evaluation for this tenant -- in this run or an earlier one -- and refuses to publish
while a blocking check's latest evaluation failed, until a later evaluation passes. Those same
latest evaluations are what `ops.check_results` publishes.

A check cannot see a model that dbt never finished: a model that errored (a SQL error, out of
memory or disk) leaves no failed test, and the models built on it are skipped with their
tests, so their checks' latest evaluations are still last night's passes. Nor a subset run of
some marts (picked by hand), after which the marts built on them still hold older rows. So
`serving` also refuses to publish unless every mart is *current*: its table is the one the
pipeline's last good build of it wrote, from the code and inputs the warehouse holds now, with
its tests passed -- exactly what a nightly would leave out as unchanged
(`orchestration/defs/dbt/unchanged.py`). Otherwise it names the marts behind and stops,
and the previous serving file stays. Then it builds `serving.duckdb.tmp-<run>`, audits it and
swaps it in (`serving.publish`).
"""

import functools

import dagster as dg
import duckdb

from medspa.settings import Settings, resolve_phi_key
from orchestration import run_events, run_log
from orchestration.defs.dbt import unchanged
from orchestration.defs.dbt.assets import MANIFEST
from orchestration.defs.dbt.translator import TRANSLATOR
from orchestration.defs.raw.checks import QUARANTINE_CHECK
from orchestration.progress import StepTimer
from orchestration.resources import MedspaSettings, require_warehouse
from orchestration.tenancy import TENANT_PARTITIONS, tenant_of
from quality import quarantine
from serving import pg_docs, publish

MART_RELATIONS = publish.mart_relations(MANIFEST)
#: The marts' descriptions (the dbt docs), written into serving.duckdb as its comments.
MART_DOCS = pg_docs.docs_from_manifest(MANIFEST)
MART_KEYS = [
    TRANSLATOR.get_asset_key({"resource_type": "model", "name": r.name}) for r in MART_RELATIONS
]


class BlockingCheckFailed(RuntimeError):
    """A blocking check's latest evaluation failed; the previous serving file stays published."""


class MartsNotCurrent(RuntimeError):
    """Some marts are not what the last good build of their current code and inputs wrote; the
    previous serving file stays published."""


def marts_not_current(settings: Settings) -> list[str]:
    """The marts whose table is not as the pipeline's last good build of their current code and
    inputs left it (no record: failed, skipped or built outside the pipeline; a record of other
    inputs: a parent rebuilt or raw data loaded since). Empty when every mart is current."""
    plan = unchanged.plan_for_warehouse(
        MANIFEST, settings.warehouse_path, resolve_phi_key(settings.phi_key)
    )
    current = set(plan.left_out)
    return sorted(r.name for r in MART_RELATIONS if r.name not in current)


def _refuse_marts_not_current(settings: Settings) -> None:
    require_warehouse(settings)
    behind = marts_not_current(settings)
    if behind:
        shown = ", ".join(behind[:8]) + (f" and {len(behind) - 8} more" if len(behind) > 8 else "")
        raise MartsNotCurrent(
            f"not publishing: {len(behind)} mart(s) are not as the last good dbt build of their "
            f"current code and inputs left them ({shown}): a model failed or was skipped, was "
            "built outside the pipeline, or its inputs changed since; materialize them with "
            "their upstream models, or run the nightly job, first (Materialize stale and "
            "missing reaches one more layer of models per run)"
        )


SERVING_KEY = dg.AssetKey("serving")


@functools.cache
def gate_checks() -> tuple[dg.AssetCheckKey, ...]:
    """Every check a tenant's nightly evaluates before it publishes, in the code location.

    That is every check on a tenant-partitioned asset that is not built from `serving` (those
    judge what was published, after it was): also checks on tables no mart reads (a raw
    table's quarantine share blocks the publish as much as any other). Read from the code
    location's definitions, not from the run's job: a run of `serving` alone has a job whose
    graph holds `serving` only, and would otherwise judge nothing.
    """
    from orchestration.definitions import defs  # imports this module: looked up at run time

    graph = defs.resolve_asset_graph()
    after = dg.AssetSelection.assets(SERVING_KEY).downstream(include_self=False).resolve(graph)
    return tuple(
        sorted(
            (
                k
                for k in graph.asset_check_keys
                if k.asset_key not in after
                and graph.get(k.asset_key).partitions_def == TENANT_PARTITIONS
            ),
            key=lambda k: k.to_user_string(),
        )
    )


def _ops_data(context: dg.AssetExecutionContext, settings: Settings) -> publish.OpsData:
    """The gate and what `ops` publishes: each check's latest evaluation for the tenant."""
    instance, run_id = context.instance, context.run_id
    outcomes = run_events.latest_check_outcomes(
        instance, run_id, list(gate_checks()), tenant_of(context)
    )
    blocked = run_events.failed_blocking(outcomes)
    if blocked:
        names = ", ".join(f"{c.asset}:{c.check_name}" for c in blocked)
        raise BlockingCheckFailed(
            f"not publishing: blocking check(s) failed: {names} (each check's result says what "
            "it found and what lifts it)"
        )
    quarantine_checks = [k for k in gate_checks() if k.name == QUARANTINE_CHECK]
    unchecked = run_events.loaded_since_checked(
        instance, outcomes, quarantine_checks, tenant_of(context)
    )
    if unchecked:
        raise BlockingCheckFailed(
            "not publishing: raw table(s) loaded since their quarantine check last ran (a run "
            "that selects one raw table loads its whole system): "
            f"{', '.join(unchecked)}; run the nightly, or materialize these tables with their "
            "checks"
        )
    _refuse_marts_not_current(settings)
    record = run_log.record_of(
        instance, run_id, published=True, demo_key_on_real_data=settings.demo_key_on_real_data
    )
    try:  # the warehouse's log is what serving publishes; the row below covers a busy file
        run_log.write_record(settings.warehouse_path, record)
    except duckdb.Error as exc:
        context.log.warning(f"run log not updated in the warehouse ({type(exc).__name__})")
    return publish.OpsData(
        check_results=[
            (c.check_name, c.asset, c.severity, c.passed, c.description, c.evaluated_at, c.run_id)
            for c in outcomes
        ],
        run_log_row=record.row(),
        quarantine_replaced=quarantine.replaced_rows(settings.warehouse_path),
    )


@dg.asset(
    key="serving",
    deps=MART_KEYS,
    group_name="publish",
    kinds={"duckdb"},
    partitions_def=TENANT_PARTITIONS,
    description="serving.duckdb: marts + ops only, swapped in atomically after every check.",
)
def serving(context: dg.AssetExecutionContext, medspa: MedspaSettings) -> dg.MaterializeResult:
    timer = StepTimer()
    settings = medspa.settings(context)
    ops = _ops_data(context, settings)
    how: dict[str, publish.SyncResult] = {}
    counts = publish.publish(
        settings.warehouse_path,
        settings.serving_path,
        context.run_id,
        MART_RELATIONS,
        ops,
        report=how,
        docs=MART_DOCS,
    )
    context.log.info(f"published {len(counts)} marts to {settings.serving_path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.serving_path)),
            "marts": len(counts),
            "dagster/row_count": sum(counts.values()),
            "rows_per_mart": counts,
            # How each mart reached the file: copied whole, patched row by row (by row hash, or
            # by the keys its dbt build wrote), or kept.
            "marts_replaced": sum(r.how == "replaced" for r in how.values()),
            "marts_patched": sum(r.how == "patched" for r in how.values()),
            "marts_patched_by_key": sum(r.how == "keyed" for r in how.values()),
            "marts_unchanged": sum(r.how == "unchanged" for r in how.values()),
            "rows_patched": sum(r.rows_deleted + r.rows_inserted for r in how.values()),
            "check_results": len(ops.check_results),
            **timer.metadata(),
        }
    )


@dg.asset(
    key="site",
    deps=[serving],
    group_name="publish",
    kinds={"html"},
    partitions_def=TENANT_PARTITIONS,
    description="The dashboards rendered from serving.duckdb into <data-dir>/site.",
)
def site(context: dg.AssetExecutionContext, medspa: MedspaSettings) -> dg.MaterializeResult:
    # charts load a renderer: only when the site is built
    from dashboards.site import build_site

    timer = StepTimer()
    settings = medspa.settings(context)
    # Peer benchmarks exist only across a registry's tenants (a single clinic has no peers).
    peers = settings.peer_benchmarks_path if settings.tenants_file is not None else None
    report = build_site(settings.serving_path, settings.site_dir, peers=peers)
    if not report.ok:
        failures = "; ".join(str(f) for f in report.pages_failed)
        raise RuntimeError(f"{len(report.pages_failed)} page(s) failed to build: {failures}")
    context.log.info(f"site built in {settings.site_dir}: {len(report.pages_built)} pages")
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(settings.site_dir / "index.html")),
            "pages": len(report.pages_built),
            "files": len(report.files_written),
            **timer.metadata(),
        }
    )
