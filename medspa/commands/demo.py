"""`medspa demo`: seeded demo data when the landing folder is empty, then the nightly run.

Ends by saying where to look: the Dagster UI (`make dev`), `serving.duckdb` for BI tools and
SQL, and the static site.

One demo chain, without a tenant registry: it generates into the landing folder it then runs,
which a registry would replace by a tenant's own. Demo tenants are `medspa generate --tenants N`
and `medspa run --all-tenants` (`make demo-tenants`); with a registry (MEDSPA_TENANTS_FILE) the
command refuses (exit status 2) and says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`medspa run`'s options but the registry's (it ends in that run) plus the size of the
    chain to generate."""
    from demo.config import SCALES
    from medspa.commands import run

    run.add_arguments(parser, tenants=False)
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
    from medspa.commands.run import base_settings, execute
    from medspa.settings import PhiKeyError, resolve_phi_key

    settings = base_settings(args.data_dir, args.landing)
    if settings.tenants_file is not None:
        print(
            f"error: `medspa demo` runs one demo chain without a tenant registry "
            f"(MEDSPA_TENANTS_FILE is {settings.tenants_file}): for demo tenants run "
            "`medspa generate --tenants N --out DIR`, then "
            "`medspa run --tenants-file DIR/tenants.yml --all-tenants` (make demo-tenants)"
        )
        return 2
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
