"""dbt on a realistic chain: full build, incremental build after one night, and dbt's overhead.

Figures (one run, same machine, same data), each as wall and CPU seconds (the machine may be
shared, so CPU is the steadier figure; DuckDB runs on 2 threads, so CPU may exceed wall):
- `dbt build --full-refresh` (models, seeds, data and unit tests) on a `medspa generate` chain
  (scale from MEDSPA_BENCH_SCALE, default medium) loaded with `medspa ingest`;
- `dbt run --full-refresh` (models only) and the incremental `dbt run` after
  `medspa generate --advance 1` + ingest: big staging models merge the newer loads only and
  the incremental facts compute only the rows whose inputs changed (macros/loads.sql);
- baseline: the very SQL dbt compiled for those models, executed directly in DuckDB in
  dependency order (CREATE TABLE AS), i.e. the engine's share; ratio = dbt run / direct SQL.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
from pathlib import Path

import duckdb

from benchmarks._pipeline import advance_one_day, demo_chain_workspace, run_dbt_timed
from medspa.pseudonymize import hmac_pads
from medspa.settings import Settings
from safeio.sqlquote import quote_ident


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
    seconds, _, n_models = _direct_sql_timed(settings, work, warehouse)
    return seconds, n_models


def _direct_sql_timed(settings: Settings, work: Path, warehouse: Path) -> tuple[float, float, int]:
    """`_direct_sql` with the CPU seconds of this process (DuckDB's threads) as well:
    (wall seconds, CPU seconds, models)."""
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
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for node in nodes:
        relation = f"{quote_ident(node['schema'])}.{quote_ident(node['alias'])}"
        # as dbt materialises it: a view stays a view (DuckDB will not replace one by a table)
        kind = "view" if node["config"].get("materialized") == "view" else "table"
        con.execute(f"create or replace {kind} {relation} as ({node['compiled_code']})")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    con.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, len(nodes)


def main() -> None:
    sizes = {"appointments": "raw_pms.appointments", "invoice lines": "raw_pos.invoice_lines"}
    with demo_chain_workspace("bench_dbt_", "medium", sizes) as (root, settings, work):
        build = run_dbt_timed(settings, work, "build", "--full-refresh")
        print(f"dbt build --full-refresh (models + seeds + tests): {_s(build.wall, build.cpu)}")
        full = run_dbt_timed(settings, work, "run", "--full-refresh")
        print(f"dbt run --full-refresh (models only):             {_s(full.wall, full.cpu)}")
        snapshot = root / "after_full.duckdb"
        shutil.copy(settings.warehouse_path, snapshot)
        direct, direct_cpu, n_models = _direct_sql_timed(settings, work, snapshot)
        print(f"same compiled SQL straight in DuckDB ({n_models} models): {_s(direct, direct_cpu)}")
        print(
            f"ratio dbt run / direct SQL: {full.wall / direct:.2f}x wall, "
            f"{full.cpu / direct_cpu:.2f}x CPU (dbt's start-up, parse, transactions, docs "
            f"and adapter overhead)"
        )

        advance_one_day(settings)
        incremental = run_dbt_timed(settings, work, "run")
        print(f"dbt run after one nightly delta: {_s(incremental.wall, incremental.cpu)}")
        print(f"  slowest models: {incremental.slowest()}")
        print(
            f"ratio incremental / full run: {incremental.wall / full.wall:.2f}x wall, "
            f"{incremental.cpu / full.cpu:.2f}x CPU"
        )


def _s(wall: float, cpu: float) -> str:
    return f"{wall:.1f} s wall, {cpu:.1f} s CPU"


if __name__ == "__main__":
    main()
