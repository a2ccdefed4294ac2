"""Pipeline steps the dbt benchmarks share: a generated, ingested chain and timed dbt runs.

dbt runs in a subprocess so every measurement starts with clean adapter state, exactly as
`medspa transform` would; the CLI steps run through `python -m medspa.cli` for the same reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from medspa.dbt_invocation import dbt_invocation
from medspa.settings import Settings


def medspa(*args: str) -> None:
    """One `medspa` CLI command in a subprocess; raises when it fails."""
    subprocess.run([sys.executable, "-m", "medspa.cli", *args], check=True, capture_output=True)


def load_demo_chain(settings: Settings, scale: str) -> float:
    """Generate the demo chain at `scale` into the landing folder and ingest it; wall seconds."""
    start = time.perf_counter()
    medspa("generate", "--out", str(settings.landing_dir), "--scale", scale)
    ingest(settings)
    return time.perf_counter() - start


def advance_one_day(settings: Settings) -> None:
    """Write the next nightly delta extract and ingest it."""
    medspa("generate", "--out", str(settings.landing_dir), "--advance", "1")
    ingest(settings)


def ingest(settings: Settings) -> None:
    medspa("ingest", "--data-dir", str(settings.data_dir), "--landing", str(settings.landing_dir))


def run_dbt(settings: Settings, work: Path, *args: str) -> tuple[float, list[dict[str, Any]]]:
    """One dbt command against the settings' warehouse: (wall seconds, run_results entries)."""
    call = dbt_invocation(settings, args[0], target_path=work / "target", log_path=work / "logs")
    env = {**os.environ, **call.env}
    cmd = [sys.executable, "-m", "dbt.cli.main", *call.args, *args[1:]]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {args[0]} failed:\n{proc.stdout[-3000:]}")
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return seconds, results
