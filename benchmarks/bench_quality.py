"""Quality suites in DuckDB (GX SQL route) versus the pandas route, on one raw table.

The appointments suite runs twice on the same synthetic `raw_pms.appointments` table, each in a
fresh process so peak memory is comparable:
- sql    (what `quality.runner` does): GX's SQL datasource; DuckDB computes every metric;
- pandas (the baseline GX documents for DuckDB): read the table into a DataFrame, validate it.
Printed: seconds (GX import excluded), peak RSS, and the ratios pandas / sql.
Rows: `MEDSPA_BENCH_QUALITY_ROWS` (default 1,000,000).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROWS = int(os.environ.get("MEDSPA_BENCH_QUALITY_ROWS", "1000000"))
SUITE = "raw_pms__appointments"


def build_table(path: Path, rows: int) -> None:
    """A contract-shaped appointments table with realistic value spreads (few defects)."""
    from ingestion.raw_schema import ensure_raw_tables

    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con)
        con.execute(
            f"""
            insert into raw_pms.appointments (
                appointment_id, patient_id, location_id, provider_id, service_id,
                booking_channel, booked_at, scheduled_start, scheduled_end, status, updated_at
            )
            select
                'A' || i,
                'P' || (i % 50000),
                'L' || (i % 5),
                'PR' || (i % 40),
                'S' || (i % 30),
                (['phone', 'online', 'in_person', 'sms', 'instagram', 'other'])[1 + i % 6],
                timestamptz '2024-01-01 08:00:00+00' + to_minutes(i),
                timestamptz '2024-01-02 09:00:00+00' + to_minutes(i),
                timestamptz '2024-01-02 10:00:00+00' + to_minutes(i),
                (['booked', 'confirmed', 'completed', 'cancelled', 'no_show'])[1 + i % 5],
                timestamptz '2024-01-03 00:00:00+00' + to_minutes(i)
            from range({rows}) as t(i)
            """
        )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(route: str, db_path: Path) -> dict[str, float]:
    from quality import gx_duckdb
    from quality.suites import raw_suites

    gx = gx_duckdb.import_gx()
    spec = next(s for s in raw_suites() if s.name == SUITE)
    rss_after_import = _peak_rss_mb()
    started = time.perf_counter()
    if route == "sql":
        from quality.runner import run_suite

        result = run_suite(spec, db_path)
        failed = len(result.failures)
    else:
        with duckdb.connect(str(db_path), read_only=True) as con:
            frame = con.execute(spec.base_query).df()
        context = gx_duckdb.ephemeral_context(gx)
        batch = (
            context.data_sources.add_pandas("frame")
            .add_dataframe_asset("appointments")
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        same_rows = [e for e in spec.expectations if e.query is None]
        suite = gx.ExpectationSuite(
            name=SUITE,
            expectations=[getattr(gx.expectations, e.kind)(**e.kwargs) for e in same_rows],
        )
        failed = sum(not r.success for r in batch.validate(suite).results)
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_after_import_mb": rss_after_import,
        "failed": failed,
    }


def _measure(route: str, db_path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_quality", "--child", route, str(db_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_quality_") as tmp:
        db_path = Path(tmp) / "warehouse.duckdb"
        started = time.perf_counter()
        build_table(db_path, ROWS)
        built = time.perf_counter() - started
        print(f"built raw_pms.appointments with {ROWS:,} rows in {built:.1f} s")
        sql = _measure("sql", db_path)
        pandas = _measure("pandas", db_path)
    for name, m in (("sql (DuckDB)", sql), ("pandas (baseline)", pandas)):
        print(
            f"{name:18} {m['seconds']:7.2f} s   peak RSS {m['peak_rss_mb']:7.0f} MB "
            f"(after GX import {m['rss_after_import_mb']:.0f} MB)   "
            f"failed expectations {m['failed']}"
        )
    extra_sql = sql["peak_rss_mb"] - sql["rss_after_import_mb"]
    extra_pandas = pandas["peak_rss_mb"] - pandas["rss_after_import_mb"]
    print(f"time ratio pandas / sql: {pandas['seconds'] / sql['seconds']:.1f}x")
    print(
        f"memory beyond GX import: sql {extra_sql:.0f} MB, pandas {extra_pandas:.0f} MB "
        f"(ratio {extra_pandas / max(extra_sql, 1):.1f}x)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], Path(sys.argv[3]))))
    else:
        main()
