"""`medspa demo`: seeded demo data when the landing folder is empty, then the nightly run.

Ends by saying where to look: the Dagster UI (`make dev`), `serving.duckdb` for BI tools and
SQL, and the static site.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`medspa run`'s options (it ends in that run) plus the size of the chain to generate."""
    from demo.config import SCALES
    from medspa.commands import run

    run.add_arguments(parser)
    parser.add_argument(
        "--scale",
        choices=list(SCALES),
        default="small",
        help="size of the generated demo chain (default: small)",
    )


def landing_is_empty(landing: Path) -> bool:
    return not landing.is_dir() or not any(p.is_file() for p in landing.rglob("*"))


def run(args: argparse.Namespace) -> int:
    from demo.config import ChainConfig
    from demo.run import generate
    from medspa.commands.run import execute
    from medspa.settings import PhiKeyError, Settings, resolve_phi_key

    settings = Settings.from_env(args.data_dir, args.landing)
    try:
        # Before generating: a bad key would otherwise stop the run after the files are written.
        resolve_phi_key(settings.phi_key)
    except PhiKeyError as exc:
        print(f"error: {exc}")
        return 2
    if landing_is_empty(settings.landing_dir):
        print(f"landing folder {settings.landing_dir} is empty: generating the demo chain")
        report = generate(settings.landing_dir, ChainConfig.build(args.scale))
        print(f"wrote {report.total_rows:,} rows in {len(report.files)} files")
    summary, settings = execute(
        settings.data_dir, settings.landing_dir, args.verbose, progress=True
    )
    print(summary.to_text())
    print()
    print("Dagster UI:       make dev   (then http://127.0.0.1:3000)")
    print(f"serving.duckdb:   {settings.serving_path}")
    print(f"dashboards site:  {settings.site_dir / 'index.html'}")
    return 0 if summary.success else 1
