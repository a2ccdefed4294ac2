"""`medspa run --all-tenants`: every tenant's nightly run, a bounded number at a time.

Each tenant runs in its own subprocess (`medspa run --tenant NAME`), the same job and
partition the schedule would start, so a crash, a blocked check or a PhiKeyError in one tenant
cannot stop the others, and two tenants never share a process (nor its environment, which dbt
reads). At most `--parallel` run at once: tenants use separate DuckDB files, so they do not
contend for a writer, only for cores. The exit status is 1 when any tenant failed, after a
per-tenant summary; each tenant's own report is in `<its data dir>/logs/last_cli_run.txt`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TenantOutcome:
    """How one tenant's subprocess ended."""

    tenant: str
    exit_code: int
    seconds: float
    report: Path

    @property
    def status(self) -> str:
        return {0: "published", 1: "failed/blocked", 2: "refused"}.get(self.exit_code, "crashed")


def tenant_command(args: argparse.Namespace, tenant: str, tenants_file: Path) -> list[str]:
    """The `medspa run` command line that runs one tenant (same data dir and registry)."""
    command = [sys.executable, "-m", "medspa.cli", "run", "--tenants-file", str(tenants_file)]
    command += ["--tenant", tenant]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    return command


def run_one(command: list[str], tenant: str, report: Path) -> TenantOutcome:
    """Run one tenant's subprocess; its console output goes to its own report file."""
    from safeio.private import private_dir

    private_dir(report.parent)
    started = time.perf_counter()
    with open(report, "w", encoding="utf-8") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    return TenantOutcome(tenant, code, time.perf_counter() - started, report)


def run_tenants(
    args: argparse.Namespace, names: list[str], tenants_file: Path, data_dirs: dict[str, Path]
) -> list[TenantOutcome]:
    """Every tenant's run, at most `args.parallel` at a time; outcomes in registry order."""
    parallel = max(1, int(args.parallel))
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [
            pool.submit(
                run_one,
                tenant_command(args, name, tenants_file),
                name,
                data_dirs[name] / "logs" / "last_cli_run.txt",
            )
            for name in names
        ]
        return [f.result() for f in futures]


def summary_text(outcomes: list[TenantOutcome], wall_seconds: float) -> str:
    lines = [f"{'tenant':<24} {'status':<16} {'seconds':>8}  report"]
    for o in outcomes:
        lines.append(f"{o.tenant:<24} {o.status:<16} {o.seconds:>8.1f}  {o.report}")
    failed = sum(o.exit_code != 0 for o in outcomes)
    serial = sum(o.seconds for o in outcomes)
    lines.append(
        f"{len(outcomes) - failed} of {len(outcomes)} tenants published, {failed} failed; "
        f"wall {wall_seconds:.1f} s (sum of tenant runs {serial:.1f} s)"
    )
    return "\n".join(lines)


def run_all_tenants(args: argparse.Namespace) -> int:
    from medspa.commands.run import base_settings
    from medspa.tenants import (
        TenantRegistryError,
        refuse_shared_keys,
        resolve_tenants,
        tenant_settings,
    )

    base = base_settings(args.data_dir, args.landing, args.tenants_file)
    if base.tenants_file is None:
        print("error: --all-tenants needs a registry (--tenants-file or MEDSPA_TENANTS_FILE)")
        return 2
    try:
        tenants = resolve_tenants(base, base.tenants_file)
        keyed = {}
        for tenant in tenants:
            try:
                keyed[tenant.name] = tenant_settings(base, tenant)
            except TenantRegistryError:
                continue  # a missing key fails that tenant's own run, not the others'
        refuse_shared_keys(keyed)  # joinable pseudonyms across tenants: run none
    except TenantRegistryError as exc:
        print(f"error: {exc}")
        return 2
    _add_partitions(base, [t.name for t in tenants])
    started = time.perf_counter()
    outcomes = run_tenants(
        args,
        [t.name for t in tenants],
        base.tenants_file,
        {t.name: t.data_dir(base.data_dir) for t in tenants},
    )
    print(summary_text(outcomes, time.perf_counter() - started))
    pages_ok = _benchmarks(base)
    return 0 if pages_ok and all(o.exit_code == 0 for o in outcomes) else 1


def _benchmarks(base: object) -> bool:
    """The peer benchmarks over the tenants' published files and each tenant's peer pages
    rendered again (what job `peer_benchmarks` does); False when a site failed to render."""
    from orchestration.defs.publish.benchmarks import publish_benchmarks

    outcome = publish_benchmarks(base)  # type: ignore[arg-type]
    published = sum(1 for n in outcome.rows.values() if n)
    print(
        f"peer benchmarks: {published} of {len(outcome.rows)} tenants received benchmarks; "
        f"{len(outcome.refreshed)} site(s) re-rendered"
    )
    for name, failure in sorted(outcome.failures.items()):
        print(f"peer pages of {name} failed: {failure}")
    return not outcome.failures


def _add_partitions(base: object, names: list[str]) -> None:
    """Register every tenant's partition once, before the subprocesses race to do it."""
    from dagster import DagsterInstance

    from medspa.commands.run import _dagster_home
    from orchestration.tenancy import TENANT_PARTITIONS

    home = base.dagster_home  # type: ignore[attr-defined]
    with _dagster_home(home):
        instance = DagsterInstance.from_config(str(home))
        try:
            existing = set(instance.get_dynamic_partitions(TENANT_PARTITIONS.name))
            new = [n for n in names if n not in existing]
            if new:
                instance.add_dynamic_partitions(TENANT_PARTITIONS.name, new)
        finally:
            instance.dispose()
