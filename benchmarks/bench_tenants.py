"""Tenants in parallel: all tenants' nightly runs, two at a time, against running them serially.

N small seeded demo tenants (`MEDSPA_BENCH_TENANTS`, default 6; use 3 on a busy machine) are
run with `medspa run --all-tenants` twice, each time into a fresh data dir: `--parallel 1`
(the baseline: the serial sum of the tenants' runs) and `--parallel 2` (what `dagster.yaml`'s
`max_concurrent_runs: 2` allows). The ratio wall(parallel) / wall(serial) is the figure; on two
cores the goal is at most 0.65. Each tenant runs in its own process, so the gain comes from
overlapping one tenant's I/O and single-threaded steps (dbt's `threads: 1`, GX) with another's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo.config import ChainConfig
from demo.tenants import REGISTRY_NAME, generate_tenants


def _all_tenants(registry: Path, data_dir: Path, parallel: int) -> tuple[float, str]:
    command = [sys.executable, "-m", "medspa.cli", "run", "--tenants-file", str(registry)]
    command += ["--all-tenants", "--parallel", str(parallel), "--data-dir", str(data_dir)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"--parallel {parallel}: a tenant failed\n{done.stdout[-2000:]}")
    return wall, done.stdout


def main() -> None:
    count = int(os.environ.get("MEDSPA_BENCH_TENANTS", "6"))
    with tempfile.TemporaryDirectory(prefix="bench_tenants_") as tmp:
        root = Path(tmp)
        generate_tenants(root / "landings", count, ChainConfig.build("small"))
        registry = root / "landings" / REGISTRY_NAME
        serial, out1 = _all_tenants(registry, root / "serial", parallel=1)
        parallel, out2 = _all_tenants(registry, root / "parallel", parallel=2)
    print(out1.splitlines()[-2])
    print(out2.splitlines()[-2])
    print(f"tenants: {count}, cores: {os.cpu_count()}, load (1 min) now: {os.getloadavg()[0]:.1f}")
    print(f"serial (--parallel 1): {serial:.1f} s  = the sum of {count} tenant runs")
    print(
        f"parallel (--parallel 2): {parallel:.1f} s  ratio {parallel / serial:.2f} (goal <= 0.65)"
    )
