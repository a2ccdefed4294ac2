"""`medspa ingest`: load a landing folder into the warehouse's raw layer (dlt -> DuckDB).

Prints the per-table summary. Exit status: 0 when everything could be loaded (quarantined
rows and schema drift are warnings), 1 when a file or system could not be loaded at all,
2 when a required table has no extract (nothing was loaded).

With a tenant registry it loads one tenant's landing folder into that tenant's warehouse
(`--tenant NAME`, or the registry's only tenant), found as `medspa run --tenant` finds them
(`medspa.tenants.command_tenant`); `--landing` is refused then, the registry says where it is.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from medspa.cli import add_data_dir_option, add_tenant_options

    add_data_dir_option(parser)
    parser.add_argument(
        "--landing",
        default=None,
        help="landing folder <system>/<table>/<extract_id>.<csv|csv.gz|parquet|jsonl> "
        "(default: $MEDSPA_LANDING_DIR or <data-dir>/landing; not with a tenant registry, "
        "whose `landing:` says it)",
    )
    add_tenant_options(parser)
    parser.add_argument(
        "--system",
        action="append",
        dest="systems",
        default=None,
        help="load only this source system (repeatable; default: all)",
    )


def run(args: argparse.Namespace) -> int:
    from ingestion.contract import load_contract
    from ingestion.pipeline import MissingRequiredTablesError, ingest
    from ingestion.progress import TableProgress
    from medspa.commands.run import base_settings
    from medspa.run_lock import RunLockedError, data_dir_lock
    from medspa.tenants import TenantRegistryError, command_tenant

    base = base_settings(args.data_dir, args.landing, getattr(args, "tenants_file", None))
    try:
        _, settings = command_tenant(
            base, getattr(args, "tenant", None), landing_option=args.landing
        )
    except TenantRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings.check_landing()  # a configured landing folder that is missing: before any file
    tables = [t for t in load_contract().tables if not args.systems or t.system in args.systems]
    try:
        # a run of the same data dir writes the same warehouse: one writer at a time
        with data_dir_lock(settings.data_dir, "`medspa ingest`"):
            report = ingest(
                settings.ingest_settings(),
                systems=args.systems,
                progress=TableProgress(len(tables), "loaded"),
            )
    except RunLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MissingRequiredTablesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.to_text())
    return 0 if report.ok else 1
