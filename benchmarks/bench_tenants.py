"""Tenants in parallel: all tenants' nightly runs, two at a time, against running them serially.

N small seeded demo tenants (`MEDSPA_BENCH_TENANTS`, default 6; use 3 on a busy machine) are
run with `medspa run --all-tenants` twice, each time into a fresh data dir: `--parallel 1`
(the baseline: the serial sum of the tenants' runs) and `--parallel 2` (what `dagster.yaml`'s
`max_concurrent_runs: 2` allows). The ratio wall(parallel) / wall(serial) is the figure; on two
cores the goal is at most 0.65. Each tenant runs in its own process, so the gain comes from
overlapping one tenant's I/O and single-threaded steps (dbt's `threads: 1`, GX) with another's.

Speed must not cost correctness: every `marts` table of each tenant's `serving.duckdb` from
the parallel run must equal the serial run's, cell for cell (`benchmarks.serving_diff`).
The figures are printed and written to `<data dir>/bench/tenants.json`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.serving_diff import diff_marts, table_count
from demo.config import ChainConfig
from demo.tenants import REGISTRY_NAME, generate_tenants, tenant_name
from medspa.settings import Settings

GOAL_RATIO = 0.65
#: A tenant's line in the `--all-tenants` summary: name, status, seconds, report path.
_TENANT_LINE = re.compile(
    r"^(?P<tenant>\S+)\s+(?P<status>published|failed/blocked|refused|crashed)\s+"
    r"(?P<seconds>\d+(?:\.\d+)?)\s"
)


@dataclass(frozen=True)
class AllTenantsRun:
    """One `medspa run --all-tenants`: its wall time and each tenant's own run time."""

    parallel: int
    wall_seconds: float
    tenant_seconds: dict[str, float]

    @property
    def sum_of_tenant_runs(self) -> float:
        return sum(self.tenant_seconds.values())


def tenant_seconds(summary: str) -> dict[str, float]:
    """tenant -> seconds of its run, from the `--all-tenants` summary table."""
    found = {}
    for line in summary.splitlines():
        m = _TENANT_LINE.match(line)
        if m:
            found[m.group("tenant")] = float(m.group("seconds"))
    return found


def _all_tenants(registry: Path, data_dir: Path, parallel: int) -> AllTenantsRun:
    command = [sys.executable, "-m", "medspa.cli", "run", "--tenants-file", str(registry)]
    command += ["--all-tenants", "--parallel", str(parallel), "--data-dir", str(data_dir)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"--parallel {parallel}: a tenant failed\n{done.stdout[-2000:]}")
    return AllTenantsRun(parallel, wall, tenant_seconds(done.stdout))


def compare_tenants(serial_data: Path, parallel_data: Path, tenants: list[str]) -> dict[str, int]:
    """tenant -> marts tables compared; raises naming every tenant whose results differ."""
    compared, differing = {}, {}
    for name in tenants:
        left = serial_data / "tenants" / name / "serving.duckdb"
        right = parallel_data / "tenants" / name / "serving.duckdb"
        found = diff_marts(left, right)
        if found:
            differing[name] = found
        compared[name] = table_count(left)
    if differing:
        lines = [f"{n}: {d}" for n, found in differing.items() for d in found]
        raise AssertionError("parallel results differ from serial:\n" + "\n".join(lines))
    return compared


def main() -> None:
    count = int(os.environ.get("MEDSPA_BENCH_TENANTS", "6"))
    with tempfile.TemporaryDirectory(prefix="bench_tenants_") as tmp:
        root = Path(tmp)
        generate_tenants(root / "landings", count, ChainConfig.build("small"))
        registry = root / "landings" / REGISTRY_NAME
        serial = _all_tenants(registry, root / "serial", parallel=1)
        parallel = _all_tenants(registry, root / "parallel", parallel=2)
        names = [tenant_name(i) for i in range(1, count + 1)]
        for run in (serial, parallel):
            if sorted(run.tenant_seconds) != sorted(names):
                raise RuntimeError(f"--parallel {run.parallel}: summary lists {run.tenant_seconds}")
        compared = compare_tenants(root / "serial", root / "parallel", names)
    ratio = parallel.wall_seconds / serial.wall_seconds
    ratio_to_sum = parallel.wall_seconds / serial.sum_of_tenant_runs
    print(f"tenants: {count}, cores: {os.cpu_count()}, load (1 min) now: {os.getloadavg()[0]:.1f}")
    for run in (serial, parallel):
        print(
            f"--parallel {run.parallel}: wall {run.wall_seconds:.1f} s, "
            f"sum of the tenants' run times {run.sum_of_tenant_runs:.1f} s"
        )
    print(f"ratio wall(parallel) / wall(serial): {ratio:.2f} (goal <= {GOAL_RATIO})")
    print(
        f"ratio wall(parallel) / sum of the serial tenant runs: {ratio_to_sum:.2f} "
        f"(goal <= {GOAL_RATIO})"
    )
    tables = sum(compared.values())
    print(f"results: {len(compared)} tenants' marts equal cell for cell ({tables} tables)")
    out = Settings.from_env().data_dir / "bench" / "tenants.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = {
        "tenants": count,
        "cores": os.cpu_count(),
        "load_1m_at_end": round(os.getloadavg()[0], 2),
        **{
            key: asdict(run) | {"sum_of_tenant_runs": round(run.sum_of_tenant_runs, 1)}
            for key, run in (("serial", serial), ("parallel", parallel))
        },
        "ratio": round(ratio, 3),
        "ratio_to_sum_of_serial_runs": round(ratio_to_sum, 3),
        "goal_ratio": GOAL_RATIO,
        "results_equal": True,
        "marts_tables_compared": compared,
    }
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"figures written to {out}")
