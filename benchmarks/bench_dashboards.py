"""How long the static site takes to build, what share is drawing charts, and what threads buy.

Builds the shipped pages from one serving DB in one process, after a warm-up build:
baseline (every chart drawn to SVG by vl-convert one at a time), threaded (charts drawn on
4 threads, as build_site does) and cached (SVGs from the in-process cache: SQL + Jinja +
markdown + writing only). Uses MEDSPA_BENCH_SERVING if set (e.g. a published
serving.duckdb), else the full-shape test fixture.
"""

from __future__ import annotations

import importlib.util
import os
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dashboards import build_site, charts
from dashboards.site import sealed_reader
from serving.scorecard_file import scorecard_path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "dashboards" / "dash_serving_fixture.py"


def _fixture_db(folder: Path) -> Path:
    spec = importlib.util.spec_from_file_location("dash_serving_fixture", FIXTURE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_serving_db(folder / "serving.duckdb")


def _count_charts(site: Path) -> int:
    pages = site.rglob("*.html")
    return sum(p.read_text(encoding="utf-8").count('<figure class="chart"') for p in pages)


def _timed_build(serving: Path, site: Path, workers: int | None, clear_cache: bool) -> float:
    if clear_cache:
        charts._svg_cache.clear()
    if workers is not None:
        charts._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vl-convert")
    start = time.perf_counter()
    build_site(serving, site)
    return time.perf_counter() - start


#: What a location manager's scorecard asks for: one location's KPIs in one week, with
#: labels and targets (the location page's `scores` query, parameterised).
SCORECARD_SQL = """
select s.*, t.label, t.unit, t.direction
from marts.kpi_scorecard as s
inner join marts.kpi_targets as t on s.kpi = t.kpi
where s.grain = 'week' and s.location_id = ? and s.period_start = ?
order by t.label
"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def scorecard_latencies(serving: Path, repeats: int = 200) -> dict[str, Any]:
    """Milliseconds per scorecard query from a process that is not the publisher.

    Each `open+query` sample is what a fresh reader pays: open serving.duckdb read-only and
    sealed (as the site and analysts do), with one thread (a point lookup needs no worker
    pool), run the query, fetch, close; `open_scorecard_file` samples do the same with the
    scorecard file published beside it (`serving.scorecard_file`), when there is one. `query`
    samples reuse one open connection. Locations and weeks are drawn (seeded) from the last
    26 weeks.
    """
    # One sealed reader per process at a time: DuckDB shares the open database (and its
    # locked configuration) between connections of one process.
    con = sealed_reader(serving)
    try:
        locations = [
            r[0]
            for r in con.execute(
                "select distinct location_id from marts.kpi_scorecard order by 1"
            ).fetchall()
        ]
        weeks = [
            r[0]
            for r in con.execute(
                "select distinct period_start from marts.kpi_scorecard where grain = 'week' "
                "order by 1 desc limit 26"
            ).fetchall()
        ]
    finally:
        con.close()
    rng = random.Random(17)
    draws = [[rng.choice(locations), rng.choice(weeks)] for _ in range(repeats)]
    fresh = _fresh_open_latencies(serving, draws)
    card = scorecard_path(serving)
    fresh_card = _fresh_open_latencies(card, draws) if card.is_file() else []
    warm: list[float] = []
    con = sealed_reader(serving)
    try:
        for params in draws:
            start = time.perf_counter()
            con.execute(SCORECARD_SQL, params).fetchall()
            warm.append((time.perf_counter() - start) * 1000)
    finally:
        con.close()
    figures = {
        "p50_open_query_ms": _percentile(fresh, 0.5),
        "p95_open_query_ms": _percentile(fresh, 0.95),
        "p50_query_ms": _percentile(warm, 0.5),
        "p95_query_ms": _percentile(warm, 0.95),
        "rows_per_query": _rows_per_query(serving, draws),
        "repeats": repeats,
    }
    if fresh_card:  # the same lookups opening scorecard.duckdb (serving.scorecard_file)
        figures["p50_open_scorecard_file_ms"] = _percentile(fresh_card, 0.5)
        figures["p95_open_scorecard_file_ms"] = _percentile(fresh_card, 0.95)
    return figures


def _fresh_open_latencies(path: Path, draws: list[list[Any]]) -> list[float]:
    """Milliseconds per lookup when each one opens `path` (sealed, one thread) and closes it."""
    samples: list[float] = []
    for params in draws:
        start = time.perf_counter()
        reader = sealed_reader(path, threads=1)
        reader.execute(SCORECARD_SQL, params).fetchall()
        reader.close()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _rows_per_query(serving: Path, draws: list[list[Any]]) -> float:
    con = sealed_reader(serving)
    try:
        rows = sum(len(con.execute(SCORECARD_SQL, p).fetchall()) for p in draws)
    finally:
        con.close()
    return rows / max(len(draws), 1)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = os.environ.get("MEDSPA_BENCH_SERVING")
        serving = Path(env) if env else _fixture_db(folder)
        report = build_site(serving, folder / "site")  # warm-up: imports, vl-convert start
        serial = _timed_build(serving, folder / "site", workers=1, clear_cache=True)
        threaded = _timed_build(serving, folder / "site", workers=4, clear_cache=True)
        warm = _timed_build(serving, folder / "site", workers=None, clear_cache=False)
        n_charts = _count_charts(folder / "site")
        print(f"serving db: {'MEDSPA_BENCH_SERVING' if env else 'test fixture'}")
        print(f"pages built: {len(report.pages_built)}, failed: {len(report.pages_failed)}")
        print(f"charts (inline SVG): {n_charts}")
        print(f"baseline, charts drawn one at a time: {serial:.2f} s")
        print(f"charts drawn on 4 threads:            {threaded:.2f} s")
        print(f"charts cached (SQL+Jinja+write only): {warm:.2f} s")
        print(f"speed-up threads vs baseline: {serial / threaded:.2f}x")
        if n_charts:
            print(
                f"chart drawing: {(serial - warm) / n_charts * 1000:.0f} ms per chart serially, "
                f"{(serial - warm) / serial:.0%} of the baseline build"
            )
        lat = scorecard_latencies(serving)
        print(
            f"scorecard query, fresh read-only connection: p50 {lat['p50_open_query_ms']:.1f} ms, "
            f"p95 {lat['p95_open_query_ms']:.1f} ms; open connection: p95 "
            f"{lat['p95_query_ms']:.1f} ms ({lat['rows_per_query']:.0f} rows)"
        )
        if "p95_open_scorecard_file_ms" in lat:
            print(
                f"scorecard query opening scorecard.duckdb: p50 "
                f"{lat['p50_open_scorecard_file_ms']:.1f} ms, "
                f"p95 {lat['p95_open_scorecard_file_ms']:.1f} ms"
            )


if __name__ == "__main__":
    main()
