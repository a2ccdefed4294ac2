"""Pipeline steps the dbt benchmarks share: a generated, ingested chain and timed dbt runs.

dbt runs in a subprocess so every measurement starts with clean adapter state, exactly as
`medspa transform` would; the CLI steps run through `python -m medspa.cli` for the same reason.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from medspa.dbt_invocation import dbt_environment, dbt_invocation, private_spill_dir
from medspa.settings import Settings, resolve_phi_key
from orchestration.defs.dbt import unchanged
from orchestration.manifest import dbt_executable, load_manifest


def medspa(*args: str) -> None:
    """One `medspa` CLI command in a subprocess; raises when it fails."""
    subprocess.run([sys.executable, "-m", "medspa.cli", *args], check=True, capture_output=True)


def load_demo_chain(settings: Settings, scale: str) -> float:
    """Generate the demo chain at `scale` into the landing folder and ingest it; wall seconds."""
    start = time.perf_counter()
    medspa("generate", "--out", str(settings.landing_dir), "--scale", scale)
    ingest(settings)
    return time.perf_counter() - start


@contextmanager
def demo_chain_workspace(
    prefix: str, default_scale: str, sizes: dict[str, str]
) -> Iterator[tuple[Path, Settings, Path]]:
    """A throw-away workspace holding a generated, ingested demo chain: (root, settings, dbt dir).

    The scale comes from MEDSPA_BENCH_SCALE (else `default_scale`). Prints the scale, the row
    count of each `sizes` table (label -> raw table) and the load time first, so every figure
    the benchmark prints after it can be read against the size of the data it ran on.
    """
    scale = os.environ.get("MEDSPA_BENCH_SCALE", default_scale)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        settings = Settings.from_env(data_dir=root / "data", landing_dir=root / "landing")
        loaded = load_demo_chain(settings, scale)
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            counts = {
                label: con.execute(f"select count(*) from {table}").fetchone()[0]
                for label, table in sizes.items()
            }
        finally:
            con.close()
        described = ", ".join(f"{count:,} {label}" for label, count in counts.items())
        print(f"scale={scale}: {described} (generate + ingest {loaded:.1f} s)")
        yield root, settings, root / "dbt"


def advance_one_day(settings: Settings) -> None:
    """Write the next nightly delta extract and ingest it."""
    medspa("generate", "--out", str(settings.landing_dir), "--advance", "1")
    ingest(settings)


def ingest(settings: Settings) -> None:
    medspa("ingest", "--data-dir", str(settings.data_dir), "--landing", str(settings.landing_dir))


def run_dbt(settings: Settings, work: Path, *args: str) -> tuple[float, list[dict[str, Any]]]:
    """One dbt command against the settings' warehouse: (wall seconds, run_results entries)."""
    timed = run_dbt_timed(settings, work, *args)
    return timed.wall, timed.results


def run_dbt_as_pipeline(
    settings: Settings, work: Path, *args: str, leave_out: bool = True
) -> tuple[float, list[dict[str, Any]], int]:
    """One dbt command as the pipeline's dbt step runs it: the models whose code and inputs
    are unchanged since their last good build left out (`leave_out`), and the fingerprints of
    the models built recorded after it (`orchestration/defs/dbt/unchanged.py`). Returns (wall
    seconds, run_results entries, models left out); the wall time includes the plan and the
    record."""
    start = time.perf_counter()
    plan = unchanged.plan_for_warehouse(
        load_manifest(),
        settings.warehouse_path,
        resolve_phi_key(settings.phi_key),
        leave_out=leave_out,
    )
    extra_args, extra_env = unchanged.selection(plan)
    with dbt_environment(extra_env):
        timed = run_dbt_timed(settings, work, *args, *extra_args)
    outcome = unchanged.build_outcome(load_manifest(), timed.results)
    unchanged.record_outcome(settings.warehouse_path, outcome, plan.fingerprints, "bench")
    return time.perf_counter() - start, timed.results, len(plan.left_out)


@dataclass(frozen=True)
class DbtTiming:
    """One dbt command's wall and CPU seconds (the machine may be shared: CPU is the steadier
    figure) and its run_results entries."""

    wall: float
    cpu: float
    results: list[dict[str, Any]]

    def slowest(self, n: int = 5) -> str:
        """The `n` nodes with the longest execution time, as `name seconds` pairs."""
        ranked = sorted(self.results, key=lambda r: -r["execution_time"])[:n]
        return ", ".join(f"{_node_name(r)} {r['execution_time']:.1f}" for r in ranked)

    def seconds_by_node(self) -> dict[str, float]:
        """Execution seconds per node name (model, seed, hook)."""
        return {_node_name(r): r["execution_time"] for r in self.results}


def _node_name(result: dict[str, Any]) -> str:
    return result["unique_id"].split(".")[-1]


def run_dbt_timed(settings: Settings, work: Path, *args: str) -> DbtTiming:
    """One dbt command in a subprocess: wall seconds, CPU seconds (user + system of the child,
    all its threads) and run_results entries."""
    private_spill_dir(settings)
    call = dbt_invocation(settings, args[0], target_path=work / "target", log_path=work / "logs")
    env = {**os.environ, **call.env}
    # dbt as the pipeline runs it: the project's launcher (`medspa.dbt_launcher`), not plain dbt
    cmd = [dbt_executable(), *call.args, *args[1:]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {args[0]} failed:\n{proc.stdout[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return DbtTiming(seconds, cpu, results)
