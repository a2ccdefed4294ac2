"""`medspa site`: render the dashboards from serving.duckdb into a static site.

Reads only the published serving file (read-only), never the warehouse. Exit code 1 when a
page failed to build (the other pages are still written), so CI notices a broken page.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from medspa.cli import add_data_dir_option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir_option(parser)
    parser.add_argument(
        "--serving",
        type=Path,
        default=None,
        help="serving database (default: DATA_DIR/serving.duckdb)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="site folder (default: DATA_DIR/site)"
    )
    parser.add_argument(
        "--pages", type=Path, default=None, help="pages folder (default: the shipped pages)"
    )


def run(args: argparse.Namespace) -> int:
    from dashboards import build_site
    from medspa.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    serving = args.serving or settings.serving_path
    out = args.out or settings.site_dir
    try:
        report = build_site(serving, out, pages_dir=args.pages, peers=settings.peer_benchmarks_path)
    except FileNotFoundError as exc:
        print(f"error: {exc}")
        return 1
    print(f"built {len(report.pages_built)} page(s) into {report.site_dir}")
    if report.flash_email_path:
        print(f"weekly flash email: {report.flash_email_path}")
    for failure in report.pages_failed:
        print(f"failed: {failure}")
    print(f"open file://{(report.site_dir / 'index.html').resolve()}")
    return 0 if report.ok else 1
