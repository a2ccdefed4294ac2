"""`medspa site`: render the dashboards from serving.duckdb into a static site.

Reads only the published serving file (read-only), never the warehouse. Exit code 1 when a
page failed to build (the other pages are still written), so CI notices a broken page.

With a tenant registry it renders one tenant's site from that tenant's serving file and peer
benchmarks (`--tenant NAME`, or the registry's only tenant), found as `medspa run --tenant`
finds them (`medspa.tenants.command_tenant`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medspa.cli import add_data_dir_option, add_tenant_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir_option(parser)
    add_tenant_options(parser)
    parser.add_argument(
        "--serving",
        type=Path,
        default=None,
        help="serving database (default: serving.duckdb in the data dir, or the tenant's)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="site folder (default: site/ in the data dir, or the tenant's)",
    )
    parser.add_argument(
        "--pages", type=Path, default=None, help="pages folder (default: the shipped pages)"
    )


def run(args: argparse.Namespace) -> int:
    from dashboards import build_site
    from medspa.commands.run import base_settings
    from medspa.tenants import TenantRegistryError, command_tenant

    base = base_settings(args.data_dir, None, getattr(args, "tenants_file", None))
    try:
        _, settings = command_tenant(base, getattr(args, "tenant", None))
    except TenantRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    serving = args.serving or settings.serving_path
    out = args.out or settings.site_dir
    try:
        report = build_site(serving, out, pages_dir=args.pages, peers=settings.peer_benchmarks_path)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"built {len(report.pages_built)} page(s) into {report.site_dir}")
    if report.flash_email_path:
        print(f"weekly flash email: {report.flash_email_path}")
    for failure in report.pages_failed:
        print(f"failed: {failure}")
    print(f"open file://{(report.site_dir / 'index.html').resolve()}")
    return 0 if report.ok else 1
