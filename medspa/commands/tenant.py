"""`medspa tenant remove NAME`: offboard a clinic that was removed from the tenant registry.

Taking a tenant out of `tenants.yml` stops its runs, and nothing more: its login can still read
its rows in PostgreSQL, its partition stays in Dagster (where the checks that list tenants keep
naming it) and its folder keeps its warehouse, raw PHI included. This command removes the rest,
in an order that can be run again after any failure:
1. PostgreSQL (with `MEDSPA_SERVING_URL`): its login, its rows of every served table, its
   policies and bookkeeping rows (`serving.pg_tenant_offboard`);
2. Dagster: its `tenant` partition and, with `--purge-history`, its finished runs
   (`orchestration.tenant_removal`);
3. with `--purge-data`: `<data-dir>/tenants/<name>/`, all of it; without, it says what it kept.
The tenant must be gone from the registry first (exit status 2 while it is listed): a schedule,
a sensor or `medspa run --all-tenants` reading the registry would otherwise start it again.
While it works it holds the tenant's run lock (`medspa.run_lock`), so it refuses, changing
nothing, while a run of the tenant that began before the registry changed is still going.
The landing folder is the clinic's and is never touched. `--dry-run` lists what is there.
Exit status 0 when done (or nothing was left), 1 when a step failed (run it again), 2 for a
usage error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from medspa.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from medspa.cli import add_data_dir_option

    subs = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    remove = subs.add_parser(
        "remove",
        help="offboard a tenant already removed from the registry: its PostgreSQL login, rows "
        "and policies, its Dagster partition (runs, data: on request)",
    )
    remove.add_argument("name", help="the tenant's name, as it was in the registry")
    add_data_dir_option(remove)
    remove.add_argument(
        "--tenants-file",
        default=None,
        type=Path,
        help="tenant registry tenants.yml (default: $MEDSPA_TENANTS_FILE); must no longer "
        "list the tenant",
    )
    remove.add_argument(
        "--dagster-home",
        default=None,
        type=Path,
        metavar="DIR",
        help="the Dagster instance (default: <data-dir>/dagster; in the Docker deployment "
        "/opt/dagster)",
    )
    remove.add_argument(
        "--purge-data",
        action="store_true",
        help="also delete <data-dir>/tenants/<name>/ whole: warehouse (raw PHI), serving "
        "files, quality results, site",
    )
    remove.add_argument(
        "--purge-history",
        action="store_true",
        help="also delete the tenant's finished Dagster runs now (else they go at the "
        "history's retention)",
    )
    remove.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, change nothing"
    )


def _usage_error(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why this tenant cannot be removed with these settings, or None."""
    from medspa.tenants import TENANT_NAME, TenantRegistryError, load_registry

    if not TENANT_NAME.match(args.name):
        return f"tenant name {args.name!r} must match [a-z0-9][a-z0-9_-]* (at most 40 characters)"
    if settings.tenants_file is None:
        return (
            "tenant remove needs the tenant registry (--tenants-file or MEDSPA_TENANTS_FILE), "
            "to make sure the tenant is no longer listed"
        )
    try:
        names = [t.name for t in load_registry(settings.tenants_file)]
    except TenantRegistryError as exc:
        return str(exc)
    if args.name in names:
        return (
            f"tenant {args.name!r} is still listed in {settings.tenants_file}: nothing was "
            "changed. Remove its entry first (so no schedule, sensor or `medspa run "
            "--all-tenants` starts it again), then run this again"
        )
    return None


@contextmanager
def _run_lock(tenant_dir: Path, dry_run: bool) -> Iterator[None]:
    """The tenant's run lock while it is removed (none for a dry run or a missing folder)."""
    from medspa.run_lock import data_dir_lock

    if dry_run or not tenant_dir.is_dir():
        yield
        return
    with data_dir_lock(tenant_dir, "`medspa tenant remove`"):
        yield


def _postgres(args: argparse.Namespace, settings: Settings) -> list[str]:
    from serving import pg_roles
    from serving.pg_tenant_offboard import remove_tenant

    if not settings.serving_url:
        return ["PostgreSQL: MEDSPA_SERVING_URL is not set; no serving database was looked at"]
    removal = remove_tenant(
        settings.serving_url,
        args.name,
        roles=pg_roles.ServingRoles(settings.serving_role_prefix),
        lock_timeout_s=settings.serving_lock_timeout_s,
        dry_run=args.dry_run,
    )
    return removal.lines()


def _dagster(args: argparse.Namespace, settings: Settings) -> list[str]:
    from dagster import DagsterInstance

    from medspa.commands.run import has_run_history, using_dagster_home
    from medspa.run_lock import RunLockedError, data_dir_lock
    from orchestration.tenant_removal import remove_from_instance

    home = args.dagster_home.expanduser().resolve() if args.dagster_home else settings.dagster_home
    if not has_run_history(home):
        return [f"Dagster: no instance at {home}; nothing to remove there"]
    with using_dagster_home(home, install_config=not args.dry_run):
        instance = DagsterInstance.from_config(str(home))
        try:
            # Runs are deleted under the lock a pruning of the same instance holds.
            pruning = nullcontext() if args.dry_run else data_dir_lock(home, "`medspa tenant`")
            with pruning:
                removal = remove_from_instance(
                    instance, args.name, purge_history=args.purge_history, dry_run=args.dry_run
                )
        except RunLockedError as exc:  # not the tenant's run: a pruning of the instance
            raise RuntimeError(str(exc)) from None
        finally:
            instance.dispose()
    return removal.lines()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _data(args: argparse.Namespace, tenant_dir: Path) -> list[str]:
    from medspa.run_lock import RUN_LOCK_NAME

    if tenant_dir.is_symlink():
        return [f"data: {tenant_dir} is a symbolic link, not a tenant folder; left as it is"]
    if not tenant_dir.is_dir():
        return [f"data: no folder {tenant_dir}"]
    held = sorted(
        p.name
        + ("/" if p.is_dir() else "")
        + (" (raw PHI)" if p.name == "warehouse.duckdb" else "")
        for p in tenant_dir.iterdir()
        if p.name != RUN_LOCK_NAME
    )
    what = f"{_size(tenant_dir) / 1e6:.1f} MB: {', '.join(held) or 'empty'}"
    if not args.purge_data:
        return [f"data: KEPT {tenant_dir} ({what}); --purge-data deletes it"]
    if args.dry_run:
        return [f"data: would delete {tenant_dir} ({what})"]
    shutil.rmtree(tenant_dir)
    return [f"data: deleted {tenant_dir} ({what})"]


def _remove(args: argparse.Namespace) -> int:
    from medspa.commands.run import base_settings
    from medspa.run_lock import RunLockedError
    from medspa.tenants import registry_tenant_dir

    settings = base_settings(args.data_dir, None, args.tenants_file)
    problem = _usage_error(args, settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    tenant_dir = registry_tenant_dir(settings.data_dir, args.name)
    lines: list[str] = []
    step = "its run lock"
    try:
        with _run_lock(tenant_dir, args.dry_run):
            step = "PostgreSQL"
            lines += _postgres(args, settings)
            step = "Dagster"
            lines += _dagster(args, settings)
            step = "its data folder"
            lines += _data(args, tenant_dir)
    except RunLockedError as exc:
        for line in lines:
            print(line)
        print(f"error: a run of tenant {args.name} is going on: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a step failed: say which, and what was already done
        from serving.pg_url import mask_secrets

        for line in lines:
            print(line)
        text = mask_secrets(str(exc), settings.serving_url) if settings.serving_url else str(exc)
        print(f"error: removing tenant {args.name} failed at {step}: {text}", file=sys.stderr)
        print("nothing after that step was changed; run the command again", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print(
        f"landing: not touched; the folder tenant {args.name}'s registry entry named is the "
        "clinic's own (archive or delete it as agreed with the clinic), as is the secret its "
        "phi_key_env named"
    )
    print(
        f"tenant {args.name}: "
        + ("dry run, nothing was changed" if args.dry_run else "removed as listed above")
    )
    return 0


def run(args: argparse.Namespace) -> int:
    return {"remove": _remove}[args.action](args)
