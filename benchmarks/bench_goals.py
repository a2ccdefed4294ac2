"""The performance goals table at one scale (`make bench SCALE=medium|large`).

Prints every goal with its measured value, its baseline from the same run and the ratio,
and writes the table as JSON to `<data dir>/bench/goals-<scale>.json`. Each step runs in its
own child process, already imported, reporting its wall and CPU seconds and its own peak RSS,
so a step's memory is its own and import costs are not counted. CPU seconds are printed too:
on a shared machine wall time swings with the neighbours, CPU time much less.
Goals this round does not measure yet are listed as "not measured".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: What the issue's goals table asks for: (key, what, baseline, goal text).
GOALS: tuple[tuple[str, str, str, str], ...] = (
    ("generate", "medspa generate", "-", "<= 2 GB peak (large); same files for the same seed"),
    ("step_memory", "every step at large (peak RSS)", "-", "<= 4 GB peak each"),
    ("ingest_full", "medspa ingest, full load", "DuckDB readers, same files", "<= 1.3x"),
    ("ingest_delta", "medspa ingest, one nightly delta", "-", "<= 10 s (large)"),
    ("dbt_run", "dbt run", "compiled SQL run directly", "<= 1.3x"),
    ("dbt_incremental", "dbt incremental after one day", "a full build", "<= 0.15x"),
    ("gx", "GX suites", "same expectations as plain SQL", "<= 1.5x"),
    ("run_full", "medspa run full", "sum of the steps alone", "<= 5 min, <= 4 GB"),
    ("run_delta", "medspa run nightly delta", "-", "<= 60 s wall"),
    ("site", "site build", "-", "<= 60 s"),
    ("scorecard_p95", "scorecard query, second process", "-", "p95 <= 20 ms"),
)

_CHILD = """
import json, resource, sys, time
{setup}
start, cpu = time.perf_counter(), time.process_time()
result = {call}
figures = {{"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "result": result}}
print("BENCH " + json.dumps(figures))
"""


def child(setup: str, call: str) -> dict[str, Any]:
    """Run `call` in a fresh Python after `setup` (imports); its timings and peak RSS."""
    code = _CHILD.format(setup=setup, call=call)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"benchmark step failed:\n{proc.stderr[-3000:]}")
    # dlt and DuckDB may print too: the step's figures are the line marked BENCH.
    marked = proc.stdout.rsplit("BENCH ", 1)
    if len(marked) < 2:
        raise RuntimeError(f"benchmark step printed no figures:\n{proc.stderr[-3000:]}")
    return json.loads(marked[1].splitlines()[0])


def generate(landing: Path, scale: str) -> dict[str, Any]:
    setup = (
        "from pathlib import Path\nfrom demo.config import ChainConfig\n"
        "from demo.run import generate\nimport demo.chain"
    )
    call = f"generate(Path({str(landing)!r}), ChainConfig.build({scale!r})).total_rows"
    return child(setup, call)


def advance(landing: Path) -> dict[str, Any]:
    setup = "from pathlib import Path\nfrom demo.run import advance"
    return child(setup, f"advance(Path({str(landing)!r}), 1).total_rows")


def ingest(data: Path, landing: Path) -> dict[str, Any]:
    setup = (
        "import dlt\nfrom ingestion.pipeline import ingest\nfrom medspa.settings import Settings"
    )
    call = (
        f"(lambda r: {{'ok': r.ok, 'rows': sum(t.rows_read for t in r.tables), "
        f"'phases': r.seconds}})(ingest(Settings.from_env({str(data)!r}, {str(landing)!r})))"
    )
    return child(setup, call)


def native(landing: Path) -> dict[str, Any]:
    setup = "from pathlib import Path\nfrom benchmarks.bench_ingest import duckdb_baseline"
    return child(setup, f"duckdb_baseline(Path({str(landing)!r}))[2]")


def measure(root: Path, scale: str) -> dict[str, dict[str, Any]]:
    """Generate, ingest (full, then one delta) and the native baseline, under `root`."""
    shutil.rmtree(root, ignore_errors=True)
    landing, data = root / "landing", root / "data"
    print(f"generating the {scale} chain ...", flush=True)
    gen = generate(landing, scale)
    print("DuckDB readers baseline ...", flush=True)
    base = native(landing)
    print("ingest, full load ...", flush=True)
    full = ingest(data, landing)
    print("one nightly delta ...", flush=True)
    advance(landing)
    delta = ingest(data, landing)
    return {"generate": gen, "native": base, "ingest_full": full, "ingest_delta": delta}


def goals_table(m: dict[str, dict[str, Any]], scale: str) -> list[dict[str, Any]]:
    """One row per goal: measured value, baseline, ratio, and whether the goal is met."""
    gen, base, full, delta = m["generate"], m["native"], m["ingest_full"], m["ingest_delta"]
    large = scale == "large"
    measured: dict[str, dict[str, Any]] = {
        "generate": {
            "value": f"{gen['peak_mb'] / 1024:.2f} GB peak, {gen['wall_s']:.0f} s "
            f"(cpu {gen['cpu_s']:.0f} s), {gen['result']:,} rows",
            "met": gen["peak_mb"] <= 2048 if large else None,
        },
        "step_memory": {
            "value": f"ingest {full['peak_mb'] / 1024:.2f} GB (other steps not measured)",
            "met": full["peak_mb"] <= 4096 if large else None,
        },
        "ingest_full": {
            "value": f"{full['wall_s']:.1f} s (cpu {full['cpu_s']:.1f} s)",
            "baseline": f"{base['wall_s']:.1f} s (cpu {base['cpu_s']:.1f} s)",
            "ratio": f"wall {full['wall_s'] / base['wall_s']:.2f}x, "
            f"cpu {full['cpu_s'] / base['cpu_s']:.2f}x",
            "met": full["wall_s"] <= 1.3 * base["wall_s"],
        },
        "ingest_delta": {
            "value": f"{delta['wall_s']:.1f} s (cpu {delta['cpu_s']:.1f} s), "
            f"{delta['result']['rows']:,} rows",
            "met": delta["wall_s"] <= 10 if large else None,
        },
    }
    rows = []
    for key, what, baseline, goal in GOALS:
        row = {"goal": key, "what": what, "baseline": baseline, "target": goal}
        row |= measured.get(key, {"value": "not measured", "met": None})
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], scale: str) -> str:
    lines = [
        f"goals at scale {scale}",
        "| what | baseline in the same run | goal | measured | ratio | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        lines.append(
            f"| {r['what']} | {r['baseline']} | {r['target']} | {r['value']} "
            f"| {r.get('ratio', '-')} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    from medspa.settings import Settings

    scale = os.environ.get("SCALE") or "medium"
    data_dir = Settings.from_env().data_dir
    measured = measure(data_dir / "bench" / scale, scale)
    rows = goals_table(measured, scale)
    print(render(rows, scale), flush=True)
    out = data_dir / "bench" / f"goals-{scale}.json"
    out.write_text(
        json.dumps(
            {"scale": scale, "machine": _machine(), "goals": rows, "raw": measured}, indent=2
        )
    )
    print(f"wrote {out}", flush=True)


def _machine() -> dict[str, Any]:
    """Where the figures were measured: they only compare within one machine and run."""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "memory_gb": round(mem_gb, 1), "load_avg": os.getloadavg()}


if __name__ == "__main__":
    main()
