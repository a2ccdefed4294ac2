"""dbt models as Dagster assets: one `dbt build` per run, tests as asset checks.

One multi-asset, `dbt_build`, covers seeds, staging, intermediate, marts/core, marts/kpi and
marts/ops, and runs them as ONE `dbt build` (models + tests, tests become asset checks) with the
run's own target folder under the data directory and the arguments and environment
`medspa.dbt_invocation` gives every caller of dbt.

Why one invocation and not a step per layer: the quality gate is kept by two things that do not
need a second dbt process. The blocking checks on the raw tables (GX suites, the quarantine
share) run in their own steps beside this one: Dagster does not hold back a step for blocking
checks on assets that the step itself checks, and this one evaluates dbt's source tests on
the raw tables. dbt then builds from the rows that loaded (quarantined rows never reach the
raw tables), and a failed raw check stops `serving`, which runs after them. A
dbt test at `error` severity stops its model's descendants inside `dbt build` itself (dbt skips
them), so a KPI mart is never built on a core fact that failed its tests; the test is also a
blocking asset check, which keeps `serving` from publishing anything in that run. A second dbt
process cost its own start-up, import of dbt and partial parse (about 4 s a night at the large
chain), and its models could not start before the last core test had finished.

A run of the whole graph leaves out the models whose code and inputs are those of their last
good build (`orchestration/defs/dbt/unchanged.py`), and starts no dbt at all when that is every
model: each is reported as an output whose metadata says `left_out`, so the steps below it run
and its freshness check stays green. A run of models picked by hand builds every one of them,
and the run config `ops: {dbt_build: {config: {rebuild_unchanged: true}}}` builds everything.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from medspa.dbt_invocation import dbt_environment
from medspa.phi_key_guard import check_key_in_use
from medspa.settings import Settings, resolve_phi_key
from orchestration.defs.dbt import unchanged
from orchestration.defs.dbt.check_descriptions import described_results
from orchestration.defs.dbt.translator import TRANSLATOR
from orchestration.manifest import load_manifest
from orchestration.progress import StepTimer, with_step_metadata
from orchestration.resources import MedspaSettings, dbt_step_call, require_warehouse
from orchestration.tenancy import TENANT_PARTITIONS

#: The prebuilt manifest (`make manifest`), built here first when it is missing or stale.
MANIFEST = load_manifest()


class DbtBuildConfig(dg.Config):
    """Options of the dbt step, set in the launchpad's run config."""

    rebuild_unchanged: bool = Field(
        default=False,
        description="Build every selected model, even those whose code and inputs are "
        "unchanged since their last good build (left out by default).",
    )


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    medspa: MedspaSettings,
    config: DbtBuildConfig,
) -> Iterator:
    timer = StepTimer()
    settings = medspa.settings(context)
    targets = settings.data_dir / "dbt_target"
    target = targets / f"{context.op_def.name}-{context.run_id[:8]}"
    _make_room(targets, target, keep=KEEP_TARGETS)
    _reuse_partial_parse(targets, target)
    if settings.demo_key_on_real_data:
        context.log.warning(
            "this non-demo data is pseudonymised with the public demo key (MEDSPA_PHI_KEY "
            "unset, or a `demo: true` tenant without its own key)"
        )
    # The run's set-up refused another key if the warehouse existed then; a first run's
    # warehouse was created by its ingest since: its key is recorded here, before any model
    # is built with it (a build under another key is then refused, medspa.phi_key_guard).
    require_warehouse(settings)
    check_key_in_use(settings.warehouse_path, resolve_phi_key(settings.phi_key))
    call = dbt_step_call(settings, target)
    plan = _plan(context, settings, leave_out=not config.rebuild_unchanged)
    yield from _left_out_outputs(context, plan, timer)
    if len(plan.left_out) == plan.models:
        # every model and seed is as its last good build left it, so every raw table is too
        # (each is some model's parent): the source tests would repeat their last verdicts
        context.log.info("dbt: nothing to build, dbt not started")
        return
    extra_args, extra_env = unchanged.selection(plan)
    args, env = [*call.args, *extra_args], {**call.env, **extra_env}
    try:
        with dbt_environment(env):
            invocation = dbt.cli(args, context=context, target_path=target)
        specs = {spec.key: spec.description for spec in context.assets_def.check_specs}
        yield from with_step_metadata(described_results(invocation.stream(), specs), timer)
    finally:
        _record(context, settings, plan, target)


def _plan(
    context: dg.AssetExecutionContext, settings: Settings, *, leave_out: bool
) -> unchanged.BuildPlan:
    """The fingerprint of every model as of the end of this step, and the models it leaves out
    (none when models were picked by hand, or `leave_out` is false)."""
    built = None
    if context.is_subset:
        keys = context.selected_asset_keys
        built = [
            uid
            for uid, node in MANIFEST["nodes"].items()
            if node["resource_type"] in unchanged.BUILT_TYPES
            and dg.AssetKey([node["name"]]) in keys
        ]
    return unchanged.plan_for_warehouse(
        MANIFEST,
        settings.warehouse_path,
        resolve_phi_key(settings.phi_key),
        built=built,
        leave_out=leave_out and built is None,
    )


def _left_out_outputs(
    context: dg.AssetExecutionContext, plan: unchanged.BuildPlan, timer: StepTimer
) -> Iterator:
    """One output per model left out, saying so in its metadata (with the step's start and
    its seconds so far, as every materialization carries).

    An output, not an observation: Dagster skips every step downstream of an output a step
    does not yield (serving, the site), as it does below a model that dbt skipped. Its data
    version is the one Dagster derives from the model's code version and its inputs' data
    versions, all unchanged, so nothing downstream turns stale; its freshness check counts
    tonight as an update, which it is (the table is confirmed current)."""
    if not plan.left_out:
        return
    context.log.info(
        f"dbt: {len(plan.left_out)} of {plan.models} models left out, their code and inputs "
        f"unchanged since their last good build: {', '.join(plan.left_out)}"
    )
    for name in plan.left_out:
        yield dg.Output(
            None,
            output_name=context.assets_def.get_output_name_for_asset_key(dg.AssetKey([name])),
            metadata={
                "left_out": "code and inputs unchanged since its last good build",
                "built_by_run": plan.recorded_runs.get(name, ""),
                **timer.metadata(),
            },
        )


def _record(
    context: dg.AssetExecutionContext, settings: Settings, plan: unchanged.BuildPlan, target: Path
) -> None:
    """Record the fingerprints of the models this step built and whose tests passed.

    A selection by hand can build a model on a parent that is behind its raw rows: such a
    model is not recorded and its incremental state is reset, as a failed one's is, so the
    next run rebuilds it whole from current parents (`unchanged.built_on_stale_parents`)."""
    results = target / "run_results.json"
    if not results.exists():
        return
    outcome = unchanged.build_outcome(MANIFEST, json.loads(results.read_text())["results"])
    if context.is_subset:
        outcome, notice = unchanged.outcome_of_selection(
            MANIFEST, settings.warehouse_path, resolve_phi_key(settings.phi_key), outcome
        )
        if notice:
            context.log.warning(f"dbt: {notice}")
    unchanged.record_outcome(settings.warehouse_path, outcome, plan.fingerprints, context.run_id)


#: dbt artifacts (run_results.json, logs) kept per data directory: the newest six runs.
KEEP_TARGETS = 6


PARTIAL_PARSE = "partial_parse.msgpack"


def _reuse_partial_parse(targets: Path, target: Path) -> None:
    """Start the step's dbt from the newest parse of an earlier step on this data directory.

    dagster-dbt seeds a new target folder with the parse `make manifest` left in the project,
    but that parse saw another profile (warehouse path, DuckDB limits), so dbt discards it and
    parses the whole project again: about 5 s per dbt step on a 2-core machine. An earlier
    step of the same data directory ran with the same profile. dbt still checks the copied
    file (profile, variables, environment, every file's checksum) and re-parses whatever
    changed, so a stale copy costs time, never correctness.
    """
    if (target / PARTIAL_PARSE).exists() or not targets.is_dir():
        return
    earlier = [p / PARTIAL_PARSE for p in targets.iterdir() if (p / PARTIAL_PARSE).is_file()]
    if earlier:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(max(earlier, key=lambda p: p.stat().st_mtime), target / PARTIAL_PARSE)


def _make_room(targets: Path, target: Path, keep: int) -> None:
    """Drop all but the newest `keep - 1` earlier target folders, so that with this step's own
    (`target`, made next or already there from a retried attempt) `keep` remain: nightly runs
    do not pile up."""
    if not targets.is_dir():
        return
    earlier = sorted(
        (p for p in targets.iterdir() if p.is_dir() and p != target),
        key=lambda p: p.stat().st_mtime,
    )
    for old in earlier[: max(len(earlier) - (keep - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)


@dbt_assets(
    manifest=MANIFEST,
    dagster_dbt_translator=TRANSLATOR,
    name="dbt_build",
    partitions_def=TENANT_PARTITIONS,
)
def dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    medspa: MedspaSettings,
    config: DbtBuildConfig,
):
    """Every dbt model, seed and data test of the project (or the subset selected in the UI)."""
    yield from _build(context, dbt, medspa, config)


DBT_ASSETS: list[dg.AssetsDefinition] = [dbt_build]
