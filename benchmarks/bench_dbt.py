"""dbt on a realistic chain: full build, incremental build after one night, and dbt's overhead.

Figures (one run, same machine, same data):
- `dbt build --full-refresh` (models, seeds, data and unit tests) on a `medspa generate` chain
  (scale from MEDSPA_BENCH_SCALE, default medium) loaded with `medspa ingest`;
- `dbt run --full-refresh` (models only) and the incremental `dbt run` after
  `medspa generate --advance 1` + ingest: the incremental facts write only the rows that changed;
- baseline: the very SQL dbt compiled for those models, executed directly in DuckDB in
  dependency order (CREATE TABLE AS), i.e. the engine's share; ratio = dbt run / direct SQL.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks._pipeline import advance_one_day, load_demo_chain, run_dbt
from medspa.pseudonymize import hmac_pads
from medspa.settings import Settings
from safeio.sqlquote import quote_ident


def _dbt(settings: Settings, work: Path, *args: str) -> float:
    """Wall seconds of one dbt command."""
    return run_dbt(settings, work, *args)[0]


def _ordered_models(manifest: dict) -> list[dict]:
    """Model nodes of the project in dependency order (parents first)."""
    models = {
        k: n
        for k, n in manifest["nodes"].items()
        if n["resource_type"] == "model" and n["package_name"] == "medspa"
    }
    done: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or key not in models:
            return
        seen.add(key)
        for parent in models[key]["depends_on"]["nodes"]:
            visit(parent)
        done.append(key)

    for key in sorted(models):
        visit(key)
    return [models[k] for k in done]


def _direct_sql(settings: Settings, work: Path, warehouse: Path) -> tuple[float, int]:
    """Execute dbt's compiled SQL for every model straight in DuckDB; (seconds, models)."""
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    nodes = [n for n in _ordered_models(manifest) if n.get("compiled_code")]
    # same file name as the warehouse: compiled SQL names its catalog ("warehouse")
    copy = work / "direct" / settings.warehouse_path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("SET enable_progress_bar = false")
    ipad, opad = hmac_pads(settings.phi_key.encode("utf-8"))
    con.execute("SET VARIABLE medspa_hmac_ipad = from_hex(?)", [ipad])
    con.execute("SET VARIABLE medspa_hmac_opad = from_hex(?)", [opad])
    start = time.perf_counter()
    for node in nodes:
        relation = f"{quote_ident(node['schema'])}.{quote_ident(node['alias'])}"
        con.execute(f"create or replace table {relation} as ({node['compiled_code']})")
    seconds = time.perf_counter() - start
    con.close()
    return seconds, len(nodes)


def main() -> None:
    scale = os.environ.get("MEDSPA_BENCH_SCALE", "medium")
    with tempfile.TemporaryDirectory(prefix="bench_dbt_") as tmp:
        root = Path(tmp)
        settings = Settings.from_env(data_dir=root / "data", landing_dir=root / "landing")
        work = root / "dbt"
        loaded = load_demo_chain(settings, scale)
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        appointments = con.execute("select count(*) from raw_pms.appointments").fetchone()[0]
        lines = con.execute("select count(*) from raw_pos.invoice_lines").fetchone()[0]
        con.close()
        print(
            f"scale={scale}: {appointments:,} appointments, {lines:,} invoice lines "
            f"(generate + ingest {loaded:.1f} s)"
        )

        build = _dbt(settings, work, "build", "--full-refresh")
        print(f"dbt build --full-refresh (models + seeds + tests): {build:.1f} s")
        full = _dbt(settings, work, "run", "--full-refresh")
        print(f"dbt run --full-refresh (models only):             {full:.1f} s")
        snapshot = root / "after_full.duckdb"
        shutil.copy(settings.warehouse_path, snapshot)
        direct, n_models = _direct_sql(settings, work, snapshot)
        print(f"same compiled SQL straight in DuckDB ({n_models} models): {direct:.1f} s")
        print(
            f"ratio dbt run / direct SQL: {full / direct:.2f}x (dbt's parse, "
            f"contracts, transactions and adapter overhead)"
        )

        advance_one_day(settings)
        incremental = _dbt(settings, work, "run")
        print(f"dbt run after one nightly delta (incremental facts): {incremental:.1f} s")
        print(f"ratio incremental / full run: {incremental / full:.2f}x")


if __name__ == "__main__":
    main()
