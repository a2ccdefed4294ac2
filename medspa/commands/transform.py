"""`medspa transform`: run `dbt build` (staging -> marts, with tests) against the warehouse.

dbt runs in-process through `dbtRunner` with the arguments and environment of
`medspa.dbt_invocation` (the same ones Dagster runs and parses the manifest with, so dbt does
not re-parse). The summary names models and tests, never row values: test failures on staging
could otherwise echo PHI.

With a tenant registry it builds one tenant's warehouse (`--tenant NAME`, or the registry's only
tenant) with that tenant's own pseudonymisation key, found as `medspa run --tenant` finds it
(`medspa.tenants.command_tenant`). A tenant's folder given as `--data-dir` is refused: built
with MEDSPA_PHI_KEY instead, every pseudonym in it would change.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence

from medspa.cli import add_data_dir_option, add_tenant_options
from medspa.dbt_invocation import dbt_environment, dbt_invocation, private_spill_dir
from medspa.phi_key_guard import check_key_in_use
from medspa.run_lock import RunLockedError, data_dir_lock
from medspa.settings import PhiKeyError, Settings, resolve_phi_key
from medspa.tenants import TenantRegistryError, command_tenant
from safeio.private import private_umask


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir_option(parser)
    add_tenant_options(parser)
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental model (staging, facts, KPI marts) from scratch",
    )
    parser.add_argument(
        "--select", "-s", nargs="+", default=None, help="dbt node selection (default: everything)"
    )


def run_dbt_build(
    settings: Settings, *, full_refresh: bool = False, select: Sequence[str] | None = None
) -> tuple[bool, Counter[str], list[str]]:
    """Run `dbt build`; return (success, count per status, names of failed nodes)."""
    from dbt.cli.main import dbtRunner

    from medspa.dbt_log_lines import skip_unwritten_events, skip_unwritten_lines

    skip_unwritten_lines()
    skip_unwritten_events()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # another key than the models were built with: refused before dbt (PhiKeyChangedError)
    check_key_in_use(settings.warehouse_path, resolve_phi_key(settings.phi_key))
    private_spill_dir(settings)
    call = dbt_invocation(settings, "build", full_refresh=full_refresh, select=select)
    # owner-only files (private_umask): DuckDB's write-ahead log beside the warehouse holds
    # the rows being written, raw PHI included
    with dbt_environment(call.env), private_umask():
        result = dbtRunner().invoke(call.args)
    statuses: Counter[str] = Counter()
    failed: list[str] = []
    node_results = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        statuses[status] += 1
        node_results.append({"unique_id": node_result.node.unique_id, "status": status})
        if status in {"error", "fail"}:
            failed.append(node_result.node.unique_id)
    release_dbt_database()
    reset_failed_and_stale_builds(settings, node_results, selected=bool(select))
    return bool(result.success), statuses, failed


def release_dbt_database() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after `dbtRunner` ends,
    as dbt-duckdb itself closes it before opening another: until then no other connection of
    this process can open the warehouse (DuckDB refuses a second configuration of one file)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
        if environment is not None:
            environment.close()


def reset_failed_and_stale_builds(
    settings: Settings, node_results: list[dict[str, str]], *, selected: bool
) -> None:
    """Reset the incremental state of the models this build failed, and (with `--select`) of
    those it built on a parent that was not current, as the pipeline's dbt step does: the next
    build of each is a whole one (`orchestration.defs.dbt.unchanged.record_outcome`)."""
    from orchestration.defs.dbt import unchanged
    from orchestration.manifest import load_manifest

    manifest = load_manifest()
    outcome = unchanged.build_outcome(manifest, node_results)
    if selected:
        outcome, notice = unchanged.outcome_of_selection(
            manifest, settings.warehouse_path, resolve_phi_key(settings.phi_key), outcome
        )
        if notice:
            print(notice, file=sys.stderr)
    # nothing is recorded: the pipeline's step records what it builds (every dbt invocation
    # forgets the records of what it selected as it starts)
    unchanged.record_outcome(
        settings.warehouse_path, unchanged.BuildOutcome(frozenset(), outcome.failed), {}, ""
    )


def run(args: argparse.Namespace) -> int:
    from medspa.commands.run import base_settings

    base = base_settings(args.data_dir, None, getattr(args, "tenants_file", None))
    try:
        tenant, settings = command_tenant(base, getattr(args, "tenant", None))
    except TenantRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.warehouse_path.exists():
        ingest = "medspa ingest" if tenant.implicit else f"medspa ingest --tenant {tenant.name}"
        print(f"no warehouse at {settings.warehouse_path}: run `{ingest}` first")
        return 2
    try:
        resolve_phi_key(settings.phi_key)  # an empty or short key fails before dbt starts
    except PhiKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings.warn_if_demo_key_on_real_data()
    try:
        # a run of the same data dir writes the same warehouse: one writer at a time
        with data_dir_lock(settings.data_dir, "`medspa transform`"):
            ok, statuses, failed = run_dbt_build(
                settings, full_refresh=args.full_refresh, select=args.select
            )
    except (RunLockedError, PhiKeyError) as exc:  # another run; another key than the models'
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lines, code = build_report(ok, statuses, failed, args.select)
    print("\n".join(lines))
    return code


def build_report(
    ok: bool, statuses: Counter[str], failed: list[str], select: Sequence[str] | None
) -> tuple[list[str], int]:
    """What `medspa transform` prints after dbt, and its exit status.

    A `--select` that matched nothing is an error (status 2), not a build that succeeded: dbt
    only warns that the selection "does not match any enabled nodes" and succeeds, so a typo
    in a model's name would otherwise pass as `dbt build: ok`.
    """
    if ok and select and not statuses:
        chosen = " ".join(select)
        return [
            f"error: --select {chosen} matches no dbt model, seed, snapshot or test "
            "(a typo? a model is named after its .sql file under dbt_project/models)"
        ], 2
    summary = ", ".join(f"{status}={n}" for status, n in sorted(statuses.items()))
    lines = [f"dbt build: {'ok' if ok else 'FAILED'} ({summary or 'nothing ran'})"]
    lines += [f"  failed: {unique_id}" for unique_id in failed]
    return lines, 0 if ok else 1
