"""How long the static site takes to build, and what share of it is drawing charts.

Builds the shipped pages twice from the same serving DB in one process: cold (every chart
compiled to SVG by vl-convert) and warm (SVGs come from the in-process cache, so the second
build measures SQL + Jinja + markdown + writing only). The ratio says how much of a nightly
site build is chart rendering. Uses MEDSPA_BENCH_SERVING if set (e.g. a published
serving.duckdb), else the full-shape test fixture.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = os.environ.get("MEDSPA_BENCH_SERVING")
        serving = Path(env) if env else _fixture_db(folder)
        charts._svg_cache.clear()
        start = time.perf_counter()
        report = build_site(serving, folder / "site")
        cold = time.perf_counter() - start
        start = time.perf_counter()
        build_site(serving, folder / "site")
        warm = time.perf_counter() - start
        n_charts = _count_charts(folder / "site")
        print(f"serving db: {'MEDSPA_BENCH_SERVING' if env else 'test fixture'}")
        print(f"pages built: {len(report.pages_built)}, failed: {len(report.pages_failed)}")
        print(f"charts (inline SVG): {n_charts}")
        print(f"cold build (charts rendered): {cold:.2f} s")
        print(f"warm build (charts cached):   {warm:.2f} s")
        print(f"ratio cold / warm: {cold / warm:.1f}x")
        if n_charts:
            print(
                f"chart rendering: {(cold - warm) / n_charts * 1000:.0f} ms per chart, "
                f"{(cold - warm) / cold:.0%} of a cold build"
            )


if __name__ == "__main__":
    main()
