"""`medspa history`: prune Dagster's run history now (`orchestration.run_pruning`).

The nightly run and the daemon's `run_history_sensor` prune once a day on their own; this
command does it at once, for a retention other than `MEDSPA_RUN_HISTORY_DAYS` (`--keep-days`)
or to see first what would go (`--dry-run`). Runs that hold an asset's or a check's latest
event, and each tenant's newest runs, are kept whatever their age. It waits for no run: runs
still going are never touched.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from medspa.cli import add_data_dir_option

    add_data_dir_option(parser)
    parser.add_argument(
        "--keep-days",
        type=int,
        default=None,
        metavar="N",
        help="delete finished runs older than N days (default: $MEDSPA_RUN_HISTORY_DAYS or 90)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )


def run(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from medspa.commands.run import base_settings, using_dagster_home
    from medspa.run_lock import RunLockedError, data_dir_lock
    from orchestration.run_pruning import RunPruningError, prune_run_history, record_pruned

    settings = base_settings(args.data_dir, None)
    keep_days = settings.run_history_days if args.keep_days is None else args.keep_days
    if args.keep_days is None and keep_days == 0:
        print("MEDSPA_RUN_HISTORY_DAYS=0: the run history is kept whole; nothing to prune")
        return 0
    if keep_days < 1:
        print(
            "error: --keep-days must be at least 1 (a run history kept whole: no --keep-days",
            file=sys.stderr,
        )
        print("and MEDSPA_RUN_HISTORY_DAYS=0)", file=sys.stderr)
        return 2
    home = settings.dagster_home
    if not (home / "history").is_dir():
        print(f"no Dagster run history at {home}: nothing to prune")
        return 0
    with using_dagster_home(home, install_config=not args.dry_run):  # a dry run writes nothing
        instance = DagsterInstance.from_config(str(home))
        try:
            with data_dir_lock(home, "`medspa history`"):
                report = prune_run_history(instance, keep_days, dry_run=args.dry_run)
                if not args.dry_run:
                    record_pruned(instance)
        except (RunLockedError, RunPruningError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            instance.dispose()
    for run_id in report.deleted:
        print(f"{'would delete' if args.dry_run else 'deleted'}: run {run_id}")
    print(report.to_text())
    return 0
