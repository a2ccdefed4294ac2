"""Sensor: start the nightly job when new extract files land.

Each tenant's landing folder is watched on its own: a batch of new files starts a run of that
tenant's partition only. The cursor maps each tenant to the extract files seen (path relative
to its landing folder) with their size and modification time, so a file re-delivered with new
content counts as new. All files of a tenant that arrived since the last tick form one batch
and one run, keyed by a hash of the batch: a
sensor re-evaluating the same batch cannot start it twice. A tenant's batch waits while any
file of its folder is still being written (modified less than `SETTLE_SECONDS` ago, an extract
or a `.part` file alike): a night's delivery is many files written one after another over
minutes, and a run started on the first ones would publish invoices without their lines. The
run carries the same rule per file (`SETTLE_TAG`), so its load leaves alone a file an exporter
started writing after the tick, or while the run waited in the queue, and a later tick starts
its run.
Links inside the landing folder count as the loader counts them (`MEDSPA_ALLOW_INTERNAL_LINKS`).
A tenant whose landing folder does not exist (a typo in MEDSPA_LANDING_DIR or the registry's
`landing:`) is named in the tick's skip reason, never mistaken for a folder with nothing new.
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
from medspa.tenants import DEFAULT_TENANT, resolve_tenants
from orchestration.defs.raw.assets import SETTLE_TAG
from orchestration.tenancy import TENANT_PARTITIONS, tenant_run_tags

SETTLE_SECONDS = 30.0

#: A file modified further ahead of the clock than this is no sign of a delivery in progress
#: (a share's clock set wrong, a copied timestamp): it must not hold its tenant's runs back
#: until that time comes. The loader still leaves it for later (its own settle rule).
FUTURE_MTIME_SLACK = 300.0

#: On the runs the schedule and this sensor start: if Dagster retries such a run (its
#: `dagster/max_retries`, else the instance's `run_retries.max_retries`), only after a run-level
#: failure -- a lost worker, the tenant's run lock held by a `medspa run` (`RunLockedError` in
#: resource setup is a RUN_EXCEPTION, not a step failure). A failed step, above all a failed
#: blocking check, would fail again on the same data: a retry from failure only wastes the slot.
RETRY_RUN_FAILURES_ONLY = {"dagster/retry_on_asset_or_op_failure": "false"}

#: The tags of every run that starts on its own (this sensor, the nightly schedule): retried
#: only after a run-level failure, and loading only files settled for `SETTLE_SECONDS` (an
#: exporter may be writing one as such a run starts; a person's run takes the folder as is).
UNATTENDED_RUN_TAGS = {**RETRY_RUN_FAILURES_ONLY, SETTLE_TAG: f"{SETTLE_SECONDS:g}"}

#: On the runs the daemon launches on its own (this sensor's, the schedule's): retried once
#: after a run-level failure. Not on `medspa run --unattended`, which shares the tags above:
#: the daemon would launch a retry of a cron job's run behind its back.
RETRY_ONCE = {"dagster/max_retries": "1"}


def landed_files(
    landing_dir: Path, settled_before: float, *, allow_internal_links: bool = False
) -> tuple[dict[str, str], bool]:
    """(rel_path -> "size:mtime_ns" of every contract extract old enough to be complete (a
    link's target's, where links are allowed), whether some file is still being written)."""
    scan = scan_landing(
        landing_dir,
        load_contract(),
        allow_internal_links=allow_internal_links,
        settled_before=settled_before,  # the loader's own rule for a file still being copied
    )
    found = {}
    for f in scan.files:
        stat = f.path.stat()
        found[f.rel_path] = f"{stat.st_size}:{stat.st_mtime_ns}"
    horizon = time.time() + FUTURE_MTIME_SLACK
    return found, any(mtime <= horizon for _, mtime in scan.unsettled)


def new_batch(current: dict[str, str], seen: dict[str, str]) -> list[str]:
    """Files that are new or changed since the cursor, sorted."""
    return sorted(p for p, sig in current.items() if seen.get(p) != sig)


def batch_run_key(batch: list[str], current: dict[str, str]) -> str:
    digest = hashlib.sha256("\n".join(f"{p}={current[p]}" for p in batch).encode()).hexdigest()
    return f"landing-{digest[:16]}"


def _cursor(text: str | None) -> dict[str, dict[str, str]]:
    """tenant -> files seen; a cursor from before tenants (flat) belongs to `default`."""
    seen = json.loads(text) if text else {}
    if seen and all(isinstance(v, str) for v in seen.values()):
        return {DEFAULT_TENANT: seen}
    return seen


def tenant_requests(
    settings: Settings,
    cursor: dict[str, dict[str, str]],
    settled_before: float,
    waiting: list[str] | None = None,
) -> tuple[list[dg.RunRequest], dict[str, dict[str, str]]]:
    """One run per tenant with new files in its own landing folder, and the updated cursor;
    a tenant whose new files wait for its folder to settle is said in `waiting`, when given."""
    requests, updated = [], dict(cursor)
    for tenant in resolve_tenants(settings, settings.tenants_file):
        seen = cursor.get(tenant.name, {})
        current, arriving = landed_files(
            tenant.landing_dir, settled_before, allow_internal_links=settings.allow_internal_links
        )
        batch = new_batch(current, seen)
        if arriving and waiting is not None:
            settled = f"{len(batch)} new file(s) and " if batch else ""
            waiting.append(
                f"tenant {tenant.name!r}: {settled}files still being written, taken once "
                f"nothing in its landing folder has been written for {SETTLE_SECONDS:g} s"
            )
        if not batch or arriving:  # the delivery is taken whole, once its folder is quiet
            continue
        updated[tenant.name] = {**seen, **current}
        requests.append(
            dg.RunRequest(
                run_key=f"{tenant.name}-{batch_run_key(batch, current)}",
                partition_key=tenant.name,
                tags={
                    "medspa/new_files": str(len(batch)),
                    **RETRY_ONCE,
                    **UNATTENDED_RUN_TAGS,
                    **tenant_run_tags(tenant.name),
                },
            )
        )
    return requests, updated


def missing_landing_folders(settings: Settings) -> list[str]:
    """`tenant 'x': /path` for each tenant whose landing folder does not exist (or is no
    folder): nothing can land there, and the sensor says so instead of "no new files"."""
    return [
        f"tenant {tenant.name!r}: {tenant.landing_dir}"
        for tenant in resolve_tenants(settings, settings.tenants_file)
        if not tenant.landing_dir.is_dir()
    ]


def build_landing_sensor(
    job: dg.JobDefinition | Any,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs the nightly job for a tenant once per batch of its new extract files.",
    )
    def landing_files_sensor(context: dg.SensorEvaluationContext):
        settings = Settings.from_env()
        existing = set(context.instance.get_dynamic_partitions(TENANT_PARTITIONS.name))
        cursor = _cursor(context.cursor)
        waiting: list[str] = []
        requests, updated = tenant_requests(settings, cursor, time.time() - SETTLE_SECONDS, waiting)
        # A tenant not yet a partition waits for tenant_partitions_sensor (its files stay new).
        waiting += [
            f"tenant {r.partition_key!r}: {r.tags['medspa/new_files']} new file(s), taken once "
            "tenant_partitions_sensor has added its partition"
            for r in requests
            if r.partition_key not in existing
        ]
        requests = [r for r in requests if r.partition_key in existing]
        missing = missing_landing_folders(settings)
        if missing:
            context.log.warning(f"landing folder(s) missing: {'; '.join(missing)}")
        if not requests:
            said = [f"new files waiting: {'; '.join(waiting)}"] if waiting else []
            if missing:
                said.insert(
                    0,
                    f"landing folder(s) do not exist: {'; '.join(missing)} (check "
                    "MEDSPA_LANDING_DIR or the tenant's `landing:` in the registry)",
                )
            if not waiting:
                others = " in the others" if missing else " in any tenant's landing folder"
                said.append(f"no new extract files{others}")
            return dg.SkipReason("; ".join(said))
        kept = {r.partition_key for r in requests}
        context.update_cursor(
            json.dumps({**cursor, **{t: updated[t] for t in kept}}, sort_keys=True)
        )
        return requests

    return landing_files_sensor
