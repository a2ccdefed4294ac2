"""Orchestration: what the prebuilt manifest and the atomic publish buy, measured here.

1. Loading the code location (`import orchestration.definitions`, what `dagster dev`, the
   webserver and every run's process pay) with the manifest built ahead of time, against the
   baseline of parsing dbt on each load (`dbt parse` + the same import).
2. Publishing serving.duckdb: how long readers are locked out. Baseline: rewriting the marts
   inside the live serving file (readers fail on the lock for the whole rewrite). Ours: build
   `serving.duckdb.tmp-<run>` beside it, audit, `os.replace()` (readers see old or new).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from medspa.dbt_invocation import dbt_env
from medspa.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings
from orchestration.manifest import dbt_executable
from safeio.sqlquote import sql_str
from serving import publish

MART_ROWS = 1_000_000


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def bench_code_location(tmp: Path) -> None:
    settings = Settings.from_env(tmp / "data")
    env = {**os.environ, **dbt_env(settings)}
    load = _timed([sys.executable, "-c", "import orchestration.definitions"], env, REPO_ROOT)
    parse = _timed(
        [dbt_executable(), "parse", "--no-partial-parse", "--target-path", str(tmp / "t")],
        env,
        DBT_PROJECT_DIR,
    )
    print(f"code location load, prebuilt manifest: {load:6.1f} s")
    print(f"baseline, dbt parse on every load:     {load + parse:6.1f} s  (parse {parse:.1f} s)")
    print(f"ratio baseline / ours:                 {(load + parse) / load:6.2f}x")


def _warehouse(path: Path) -> list[publish.MartRelation]:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        f"create table marts.kpi_scorecard as select i as id, 'kpi_' || (i % 40) as kpi, "
        f"random() as value from range({MART_ROWS}) t(i)"
    )
    con.close()
    return [publish.MartRelation("marts", "kpi_scorecard")]


def bench_publish(tmp: Path) -> None:
    warehouse = tmp / "warehouse.duckdb"
    relations = _warehouse(warehouse)
    serving = tmp / "serving.duckdb"
    publish.publish(warehouse, serving, "warmup", relations, publish.OpsData())

    start = time.perf_counter()
    con = duckdb.connect(str(serving))  # in place: readers are locked out from here ...
    con.execute(f"attach {sql_str(warehouse)} as wh (read_only)")
    con.execute(
        "create or replace table marts.kpi_scorecard as select * from wh.marts.kpi_scorecard"
    )
    con.close()  # ... to here
    in_place = time.perf_counter() - start

    tmp_file = tmp / "serving.duckdb.tmp-bench"
    start = time.perf_counter()
    counts = publish.build_serving(warehouse, tmp_file, relations, publish.OpsData())
    publish.audit_serving(tmp_file, counts)
    built = time.perf_counter() - start
    start = time.perf_counter()
    os.replace(tmp_file, serving)  # the only moment a reader could notice
    swap = time.perf_counter() - start
    print(f"publish {MART_ROWS:,} mart rows: write + audit {built:.2f} s, swap {swap * 1e6:.0f} µs")
    print(f"readers locked out, in-place rewrite (baseline): {in_place:.2f} s")
    print(f"readers locked out, build + os.replace (ours):   {swap * 1e6:.0f} µs")
    print(f"ratio baseline / ours:                           {in_place / max(swap, 1e-9):,.0f}x")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_orch_") as d:
        bench_publish(Path(d))
        bench_code_location(Path(d))


if __name__ == "__main__":
    main()
