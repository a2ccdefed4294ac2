"""`medspa status`: is every tenant's nightly publishing? For a person, and for a monitor.

It reads Dagster's run history (`orchestration.tenant_status`), never the warehouse, so it
answers while a run holds the warehouse and takes no lock. Exit status 0 when every tenant
checked is healthy (published within `--max-age-hours`, and its newest nightly published) and
nothing stops the next nightly (`orchestration.scheduler_status`: a Dagster daemon that stopped
within that window, the nightly schedule turned off while the daemon runs), 1 when not, 2 for a
usage or configuration error. Run it from outside the thing it watches -- a monitor, a
Kubernetes CronJob, a cron line on another machine -- since a stopped daemon or a removed cron
line is exactly what it must catch; `--json` gives the same verdicts to a program.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.scheduler_status import SchedulerStatus
    from orchestration.tenant_status import TenantStatus


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from medspa.cli import add_data_dir_option
    from quality.freshness import MART_MAX_AGE

    add_data_dir_option(parser)
    parser.add_argument(
        "--tenants-file",
        default=None,
        type=Path,
        help="tenant registry tenants.yml (default: $MEDSPA_TENANTS_FILE; none = one tenant)",
    )
    parser.add_argument("--tenant", default=None, help="only this tenant of the registry")
    parser.add_argument(
        "--dagster-home",
        default=None,
        type=Path,
        metavar="DIR",
        help="the Dagster instance to read (default: <data-dir>/dagster, where `medspa run` and "
        "`make dev` keep it; in the Docker deployment /opt/dagster)",
    )
    parser.add_argument(
        "--max-age-hours",
        type=float,
        default=MART_MAX_AGE.total_seconds() / 3600,
        metavar="H",
        help="a tenant whose newest publish is older is stale "
        f"(default: {MART_MAX_AGE.total_seconds() / 3600:g}, the marts' freshness window)",
    )
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")


def run(args: argparse.Namespace) -> int:
    from medspa.commands.run import base_settings, error_text
    from medspa.machine_errors import machine_error
    from medspa.tenants import TenantRegistryError, resolve_tenants

    if not args.max_age_hours > 0:
        print("error: --max-age-hours must be more than 0", file=sys.stderr)
        return 2
    settings = base_settings(args.data_dir, None, args.tenants_file)
    try:
        tenants = resolve_tenants(settings, settings.tenants_file)
        names = [t.name for t in tenants]
        # the status reads no key: a tenant's data dir without its key variable in this shell
        data_dirs = {
            t.name: settings.data_dir if t.implicit else t.data_dir(settings.data_dir)
            for t in tenants
        }
    except TenantRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.tenant is not None:
        if args.tenant not in names:
            print(
                f"error: no tenant {args.tenant!r} in the registry; known: {', '.join(names)}",
                file=sys.stderr,
            )
            return 2
        names = [args.tenant]
    home = args.dagster_home.expanduser().resolve() if args.dagster_home else settings.dagster_home
    try:
        scheduler, statuses = _statuses(
            home, names, dt.timedelta(hours=args.max_age_hours), {n: data_dirs[n] for n in names}
        )
    except Exception as exc:
        trouble = machine_error(exc)
        if trouble is None:
            raise
        # no verdict can be given: exit 1, as for an unhealthy tenant, so a monitor alerts
        print(
            f"error: cannot read the run history in {home} ({error_text(trouble)}): a full "
            "disk or an unreadable file; free the space or fix the permission, then ask again",
            file=sys.stderr,
        )
        return 1
    healthy = sum(s.healthy for s in statuses)
    everything_fine = healthy == len(statuses) and not (scheduler and scheduler.problems)
    if args.json:
        print(
            json.dumps(
                {
                    "healthy": everything_fine,
                    "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "dagster_home": str(home),
                    "scheduler": scheduler.to_dict() if scheduler else None,
                    "tenants": [s.to_dict() for s in statuses],
                },
                indent=2,
            )
        )
    else:
        if scheduler is not None:
            print(scheduler.to_text())
        for status in statuses:
            print(status.to_text())
        stopped = scheduler is not None and bool(scheduler.problems)
        scheduler_word = "; the scheduler is NOT (above)" if stopped else ""
        print(
            f"{healthy} of {len(statuses)} tenant(s) healthy{scheduler_word} "
            f"(run history read from {home})"
        )
    return 0 if everything_fine else 1


def _statuses(
    home: Path, tenants: list[str], max_age: dt.timedelta, data_dirs: dict[str, Path]
) -> tuple[SchedulerStatus | None, list[TenantStatus]]:
    """The scheduler's `SchedulerStatus` (None when the instance has no history) and each
    tenant's `TenantStatus`, from the instance at `home` (read only: no config is installed
    there, nothing is written)."""
    from dagster import DagsterInstance

    from medspa.commands.run import has_run_history, using_dagster_home
    from medspa.run_lock import lock_held
    from orchestration.scheduler_status import scheduler_status
    from orchestration.tenant_status import empty_status, tenant_status

    now = time.time()
    if not has_run_history(home):
        return None, [empty_status(tenant, home, max_age) for tenant in tenants]
    with using_dagster_home(home, install_config=False):
        instance = DagsterInstance.from_config(str(home))
        try:
            return scheduler_status(instance, now, max_age), [
                tenant_status(
                    instance, tenant, now, max_age, run_lock_held=lock_held(data_dirs[tenant])
                )
                for tenant in tenants
            ]
        finally:
            instance.dispose()
