"""How long the static site takes to build and where the time goes (drawing, SQL, the rest).

Builds the shipped pages from one serving DB in one process, after a warm-up build, with
the chart drawing (`dashboards.charts._draw`, the SVG renderer) and the page queries
(`dashboards.queries.run_queries`) timed on their way through; "the rest" is Jinja,
markdown, the layout and writing the files. Uses MEDSPA_BENCH_SERVING if set (e.g. a
published serving.duckdb), else the full-shape test fixture.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from dashboards import build_site, charts
from dashboards import site as site_module
from dashboards.site import sealed_reader
from serving.scorecard_file import scorecard_path
from serving.scorecard_reader import ScorecardReader

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


class _Stopwatch:
    """Wraps a module function and adds up the seconds spent in it (and the calls)."""

    def __init__(self, module: Any, name: str) -> None:
        self.module, self.name, self.real = module, name, getattr(module, name)
        self.seconds, self.calls = 0.0, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.real(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1

    def __enter__(self) -> _Stopwatch:
        setattr(self.module, self.name, self)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.real)


def timed_build(serving: Path, site: Path) -> dict[str, float]:
    """One full build: total seconds, seconds drawing charts and running page SQL, charts."""
    with _Stopwatch(charts, "_draw") as draw, _Stopwatch(site_module, "run_queries") as sql:
        start = time.perf_counter()
        build_site(serving, site)
        total = time.perf_counter() - start
    return {"total": total, "draw": draw.seconds, "sql": sql.seconds, "charts": draw.calls}


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
    samples reuse one open connection. `reader` samples are a `ScorecardReader` (one open
    connection that follows each publish) on a copy of the scorecard file that is swapped for a
    new copy, as a publish swaps it, before every `PUBLISH_EVERY`th lookup: those lookups pay
    for the reopen. Locations and weeks are drawn (seeded) from the last 26 weeks.
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
    followed = _following_reader_latencies(card, draws) if card.is_file() else None
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
    if followed is not None:
        samples, reopens = followed
        figures["p50_reader_ms"] = _percentile(samples, 0.5)
        figures["p95_reader_ms"] = _percentile(samples, 0.95)
        figures["max_reader_ms"] = max(samples)
        figures["reader_reopens"] = reopens
    return figures


#: A following reader's lookups see a publish (the file swapped) before every this many.
PUBLISH_EVERY = 50


def _following_reader_latencies(card: Path, draws: list[list[Any]]) -> tuple[list[float], int]:
    """Milliseconds per `ScorecardReader.lookup`, with the file swapped every PUBLISH_EVERY
    lookups (a copy renamed over it, untimed, as a publish renames its audited file); and how
    many times the reader reopened."""
    samples: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        live = Path(tmp) / "scorecard.duckdb"
        shutil.copyfile(card, live)
        with ScorecardReader(live) as reader:
            for i, (location, week) in enumerate(draws):
                if i and i % PUBLISH_EVERY == 0:
                    shutil.copyfile(card, live.with_suffix(".next"))
                    os.replace(live.with_suffix(".next"), live)
                start = time.perf_counter()
                reader.lookup(location, week)
                samples.append((time.perf_counter() - start) * 1000)
            reopens = reader.reopens
    return samples, reopens


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
        report = build_site(serving, folder / "site")  # warm-up: imports, first queries
        t = timed_build(serving, folder / "site")
        n_charts = _count_charts(folder / "site")
        print(f"serving db: {'MEDSPA_BENCH_SERVING' if env else 'test fixture'}")
        print(f"pages built: {len(report.pages_built)}, failed: {len(report.pages_failed)}")
        print(f"charts (inline SVG): {n_charts}")
        rest = t["total"] - t["draw"] - t["sql"]
        print(
            f"site build: {t['total']:.2f} s = drawing {t['draw']:.2f} s + page SQL "
            f"{t['sql']:.2f} s + Jinja/markdown/layout/writing {rest:.2f} s"
        )
        if t["charts"]:
            print(f"chart drawing: {t['draw'] / t['charts'] * 1000:.2f} ms per chart")
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
        if "p95_reader_ms" in lat:
            print(
                f"scorecard lookup, ScorecardReader following {lat['reader_reopens']} publishes: "
                f"p50 {lat['p50_reader_ms']:.1f} ms, p95 {lat['p95_reader_ms']:.1f} ms, "
                f"max {lat['max_reader_ms']:.1f} ms"
            )


if __name__ == "__main__":
    main()
