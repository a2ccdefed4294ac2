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
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medspa.settings import Settings


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


def files_loaded(warehouse: Path) -> int | None:
    """How many landing files the warehouse has loaded (0 without a warehouse); None when it
    cannot be read (another run holds it, or it is damaged)."""
    if not warehouse.exists():
        return 0
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            found = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'raw_meta' and table_name = 'loaded_files'"
            ).fetchone()[0]
            if not found:
                return 0
            return int(con.execute("select count(*) from raw_meta.loaded_files").fetchone()[0])
    except duckdb.Error:
        return None


def refuse_foreign_warehouse(settings: Settings) -> str | None:
    """Why the demo chain must not be generated into this data dir, or None.

    The demo generates into an empty landing folder and runs: over a warehouse that already
    loaded other extracts (a clinic's, loaded with `--landing` from elsewhere) it would merge a
    fake chain into the real one (the same ids, `LOC01`, replace real rows) and publish it.
    """
    loaded = files_loaded(settings.warehouse_path)
    if loaded == 0:
        return None
    held = "cannot be read" if loaded is None else f"has already loaded {loaded} landing file(s)"
    return (
        f"the warehouse {settings.warehouse_path} {held}, and the landing folder "
        f"{settings.landing_dir} is empty: the demo chain would be merged into that data. Run "
        "the demo in a data dir of its own (MEDSPA_DATA_DIR=/tmp/medspa-demo make demo, or "
        "`medspa demo --data-dir DIR`); nothing was changed"
    )


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
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if landing_is_empty(settings.landing_dir):
        refusal = refuse_foreign_warehouse(settings)
        if refusal is not None:
            print(f"error: {refusal}", file=sys.stderr)
            return 2
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
