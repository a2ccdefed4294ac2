"""Quality suites in DuckDB (GX SQL route) versus the pandas route, on one raw table.

The appointments suite runs twice on the same synthetic `raw_pms.appointments` table, each in a
fresh process so peak memory is comparable:
- sql    (what `quality.runner` does): GX's SQL datasource; DuckDB computes every metric;
- pandas (the baseline GX documents for DuckDB): read the table into a DataFrame, validate it.
Printed: seconds (GX import excluded), peak RSS, and the ratios pandas / sql.
Rows: `MEDSPA_BENCH_QUALITY_ROWS` (default 1,000,000).

With `MEDSPA_BENCH_QUALITY_WAREHOUSE=<warehouse.duckdb>` (e.g. a demo run's), every raw and mart
suite also runs through the pipeline's GX runner and as the same expectations in plain SQL
(`plain_sql_failures`), each in a fresh process with GX imported first: wall and CPU of both,
their ratio, whether both found the same failures, and GX's own cost per expectation
((GX CPU - plain SQL CPU) / expectations).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from quality.spec import ExpectationSpec, SuiteSpec
from safeio.sqlquote import quote_ident, sql_str

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


def _literal(value: object) -> str:
    """A kwargs value as a SQL literal (dates and timestamps typed, strings quoted)."""
    if isinstance(value, dt.datetime):
        return f"timestamptz {sql_str(value.isoformat())}"
    if isinstance(value, dt.date):
        return f"date {sql_str(value.isoformat())}"
    if isinstance(value, str):
        return sql_str(value)
    return repr(value)


def _in_list(values: Iterable[object]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


def _violations(exp: ExpectationSpec) -> str:
    """The aggregate counting the rows that break one expectation (0 = it passes)."""
    k = exp.kwargs
    if exp.kind == "ExpectColumnValuesToNotBeNull":
        return f"count(*) - count({quote_ident(k['column'])})"
    if exp.kind == "ExpectColumnValuesToBeNull":
        return f"count({quote_ident(k['column'])})"
    if exp.kind == "ExpectColumnValuesToBeUnique":
        col = quote_ident(k["column"])
        return f"count({col}) - count(distinct {col})"
    if exp.kind == "ExpectCompoundColumnsToBeUnique":
        cols = ", ".join(quote_ident(c) for c in k["column_list"])
        return f"count(*) - count(distinct ({cols}))"
    if exp.kind == "ExpectColumnValuesToBeInSet":
        col = quote_ident(k["column"])
        return f"count(*) filter (where {col} not in {_in_list(k['value_set'])})"
    if exp.kind == "ExpectColumnValuesToBeBetween":
        col = quote_ident(k["column"])
        outside = [f"{col} < {_literal(k['min_value'])}"] if k.get("min_value") is not None else []
        if k.get("max_value") is not None:
            outside.append(f"{col} > {_literal(k['max_value'])}")
        return f"count(*) filter (where {' or '.join(outside)})"
    if exp.kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = quote_ident(k["column_A"]), quote_ident(k["column_B"])
        op = ">=" if k.get("or_equal") else ">"
        return f"count(*) filter (where not ({a} {op} {b}))"  # null pairs are ignored
    raise ValueError(f"no plain-SQL form for {exp.kind}")


def plain_sql_failures(specs: Sequence[SuiteSpec], db_path: Path) -> set[tuple[str, str]]:
    """The suites' expectations as hand-written SQL: (suite, expectation key) of each failure.

    The baseline GX is measured against: per query group one `select` of one aggregate per
    expectation (what an engineer writing the checks by hand would run), plus a `limit 0`
    describe for the column-set expectation. Same warehouse, same read-only connection kind.
    """
    failed: set[tuple[str, str]] = set()
    with duckdb.connect(str(db_path), read_only=True) as con:
        for spec in specs:
            for query, group in spec.queries().items():
                source = f"(\n{query}\n) as check_rows"
                columns = {d[0] for d in con.execute(f"select * from {source} limit 0").description}
                sized = [e for e in group if e.kind != "ExpectTableColumnsToMatchSet"]
                failed.update(
                    (spec.name, e.key)
                    for e in group
                    if e.kind == "ExpectTableColumnsToMatchSet"
                    and set(e.kwargs["column_set"]) - columns
                )
                if not sized:
                    continue
                counts = con.execute(
                    "select " + ", ".join(_violations(e) for e in sized) + f" from {source}"
                ).fetchone()
                failed.update((spec.name, e.key) for e, n in zip(sized, counts, strict=True) if n)
    return failed


def gx_failures(specs: Sequence[SuiteSpec], db_path: Path) -> set[tuple[str, str]]:
    """What `quality.runner.run_suites` (the pipeline's GX route) reports as failed."""
    from quality.runner import run_suites

    results = run_suites(specs, db_path)
    return {(r.suite, e.key) for r in results for e in r.failures}


def all_suites() -> list[SuiteSpec]:
    from quality.suites import mart_suites, raw_suites

    return [*raw_suites(), *mart_suites()]


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


def gx_against_plain_sql(warehouse: Path) -> dict[str, float]:
    """Every suite through GX and as plain SQL on `warehouse`; figures of both, printed."""
    from benchmarks import _goal_steps as steps

    n = sum(len(s.expectations) for s in all_suites())
    gx, sql = steps.gx_suites(warehouse), steps.plain_sql_suites(warehouse)
    for name, m in (("GX suites", gx), ("plain SQL", sql)):
        print(
            f"{name:10} wall {m['wall_s']:6.2f} s  cpu {m['cpu_s']:6.2f} s  "
            f"peak {m['peak_mb']:5.0f} MB  failed expectations {len(m['result'])}"
        )
    figures = {
        "expectations": n,
        "wall_ratio": gx["wall_s"] / sql["wall_s"],
        "cpu_ratio": gx["cpu_s"] / sql["cpu_s"],
        "gx_ms_per_expectation": 1000 * (gx["cpu_s"] - sql["cpu_s"]) / n,
        "same_failures": gx["result"] == sql["result"],
    }
    print(
        f"GX / plain SQL: wall {figures['wall_ratio']:.2f}x, cpu {figures['cpu_ratio']:.2f}x; "
        f"GX's own cost {figures['gx_ms_per_expectation']:.1f} ms CPU per expectation "
        f"({n} expectations); same failures: {'yes' if figures['same_failures'] else 'NO'}"
    )
    return figures


def main() -> None:
    warehouse = os.environ.get("MEDSPA_BENCH_QUALITY_WAREHOUSE")
    if warehouse:
        print(f"all suites on {warehouse}")
        gx_against_plain_sql(Path(warehouse))
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
