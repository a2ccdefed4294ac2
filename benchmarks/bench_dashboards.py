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
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dashboards import build_site, charts

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


if __name__ == "__main__":
    main()
