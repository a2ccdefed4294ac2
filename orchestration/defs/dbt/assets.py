"""dbt models as Dagster assets, split in two at the quality gate.

`dbt_core` builds seeds, staging, intermediate and marts/core; `dbt_kpi_marts` builds
marts/kpi and marts/ops. A check can only stop what runs after it, so the split is what lets a
blocking check on the raw tables or the core facts (GX suites, quarantine share, dbt tests)
keep the KPI marts -- and hence the published serving file -- from being built on bad data.

Both run `dbt build` (models + tests, tests become asset checks) with the run's own target
folder under the data directory, and the arguments and environment `medspa.dbt_invocation`
gives every caller of dbt.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from medspa.dbt_invocation import dbt_environment
from orchestration.defs.dbt.translator import TRANSLATOR
from orchestration.manifest import MANIFEST_PATH, ensure_manifest
from orchestration.progress import StepTimer, with_step_metadata
from orchestration.resources import MedspaSettings, dbt_step_call
from orchestration.tenancy import TENANT_PARTITIONS

#: Folders built after the gate, as dbt fqn selectors (dagster-dbt evaluates `path:` against
#: the working directory, not the project, so a path selector would silently match nothing).
GATED_FOLDERS = (("marts", "kpi"), ("marts", "ops"))
GATED_SELECT = " ".join(f"fqn:medspa.{a}.{b}" for a, b in GATED_FOLDERS)


def load_manifest() -> dict[str, Any]:
    """The prebuilt manifest (`make manifest`), built once here when it is missing."""
    return json.loads(ensure_manifest(MANIFEST_PATH).read_text(encoding="utf-8"))


MANIFEST = load_manifest()


def _is_gated(node: dict[str, Any]) -> bool:
    return tuple(node.get("fqn", [])[1:3]) in GATED_FOLDERS


def _has_nodes(gated: bool) -> bool:
    """Whether a side of the split selects anything (an empty @dbt_assets is an error)."""
    return any(
        n["resource_type"] in ("model", "seed", "snapshot") and _is_gated(n) == gated
        for n in MANIFEST["nodes"].values()
    )


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, medspa: MedspaSettings
) -> Iterator:
    timer = StepTimer()
    settings = medspa.settings(context)
    targets = settings.data_dir / "dbt_target"
    target = targets / f"{context.op_def.name}-{context.run_id[:8]}"
    _prune(targets, keep=KEEP_TARGETS)
    _reuse_partial_parse(targets, target)
    if settings.demo_key_on_real_data:
        context.log.warning(
            "MEDSPA_PHI_KEY is not set: this non-demo data is pseudonymised with the public "
            "demo key"
        )
    call = dbt_step_call(settings, target)
    with dbt_environment(call.env):
        invocation = dbt.cli(call.args, context=context, target_path=target)
    yield from with_step_metadata(invocation.stream(), timer)


#: dbt artifacts (run_results.json, logs) kept per data directory: the newest few runs' steps.
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


def _prune(targets: Path, keep: int) -> None:
    """Drop all but the newest `keep` target folders, so nightly runs do not pile up."""
    if not targets.is_dir():
        return
    folders = sorted((p for p in targets.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in folders[: max(len(folders) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)


def _make(name: str, gated: bool) -> dg.AssetsDefinition:
    select_kwargs = {"select": GATED_SELECT} if gated else {"exclude": GATED_SELECT}

    @dbt_assets(
        manifest=MANIFEST,
        dagster_dbt_translator=TRANSLATOR,
        name=name,
        partitions_def=TENANT_PARTITIONS,
        **select_kwargs,
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, medspa: MedspaSettings):
        yield from _build(context, dbt, medspa)

    return _assets


DBT_ASSETS: list[dg.AssetsDefinition] = [
    _make(name, gated)
    for name, gated in (("dbt_core", False), ("dbt_kpi_marts", True))
    if _has_nodes(gated)
]
