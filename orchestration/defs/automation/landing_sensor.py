"""Sensor: start the nightly job when new extract files land.

The cursor maps each extract file seen (path relative to the landing folder) to its size and
modification time, so a file re-delivered with new content counts as new. All files that
arrived since the last tick form one batch and one run, keyed by a hash of the batch: a
sensor re-evaluating the same batch cannot start it twice. Files still being written (modified
less than `SETTLE_SECONDS` ago) wait for the next tick, so a batch is not split mid-copy.
Off by default: turned on in the UI once the clinic's exporters write to the landing folder
(on first start it would run at once for every file already there).
"""

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import dagster as dg

from ingestion.contract import load_contract
from ingestion.landing import scan_landing
from medspa.settings import Settings

SETTLE_SECONDS = 30.0


def landed_files(landing_dir: Path, settled_before: float) -> dict[str, str]:
    """rel_path -> "size:mtime_ns" of every contract extract old enough to be complete."""
    found = {}
    for f in scan_landing(landing_dir, load_contract()).files:
        stat = f.path.stat()
        if stat.st_mtime <= settled_before:
            found[f.rel_path] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return found


def new_batch(current: dict[str, str], seen: dict[str, str]) -> list[str]:
    """Files that are new or changed since the cursor, sorted."""
    return sorted(p for p, sig in current.items() if seen.get(p) != sig)


def batch_run_key(batch: list[str], current: dict[str, str]) -> str:
    digest = hashlib.sha256("\n".join(f"{p}={current[p]}" for p in batch).encode()).hexdigest()
    return f"landing-{digest[:16]}"


def build_landing_sensor(
    job: dg.JobDefinition | Any,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs the nightly job once per batch of new extract files.",
    )
    def landing_files_sensor(context: dg.SensorEvaluationContext):
        settings = Settings.from_env()
        seen = json.loads(context.cursor) if context.cursor else {}
        current = landed_files(settings.landing_dir, time.time() - SETTLE_SECONDS)
        batch = new_batch(current, seen)
        if not batch:
            return dg.SkipReason(f"no new extract files in {settings.landing_dir}")
        context.update_cursor(json.dumps({**seen, **current}, sort_keys=True))
        return dg.RunRequest(
            run_key=batch_run_key(batch, current),
            tags={"medspa/new_files": str(len(batch))},
        )

    return landing_files_sensor
