"""Orchestration: what the prebuilt manifest and the atomic publish buy, measured here.

1. Loading the code location (`import orchestration.definitions`, what `dagster dev`, the
   webserver and every run's process pay) with the manifest built ahead of time, against the
   baseline of parsing dbt on each load (`dbt parse` + the same import).
2. Publishing serving.duckdb: how long readers are locked out. Baseline: rewriting the marts
   inside the live serving file (readers fail on the lock for the whole rewrite). Ours: build
   `serving.duckdb.tmp-<run>` beside it, audit, `os.replace()` (readers see old or new).
3. Storing a run's events in the instance's SQLite event log (a nightly run stores about
   2,000: step starts and ends, a materialization per dbt model, a result per check).
   Baseline: Dagster's own settings, each in a child process of its own; ours: the same
   events with `orchestration.instance_sqlite` installed, then also with
   `orchestration.event_batch` (one kept engine per shard file instead of one per event).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from medspa.dbt_invocation import dbt_env
from medspa.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings
from orchestration.manifest import dbt_executable
from safeio.sqlquote import sql_str
from serving import publish

MART_ROWS = 1_000_000


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def bench_code_location(tmp: Path) -> None:
    settings = Settings.from_env(tmp / "data")
    env = {**os.environ, **dbt_env(settings)}
    load = _timed([sys.executable, "-c", "import orchestration.definitions"], env, REPO_ROOT)
    parse = _timed(
        [dbt_executable(), "parse", "--no-partial-parse", "--target-path", str(tmp / "t")],
        env,
        DBT_PROJECT_DIR,
    )
    print(f"code location load, prebuilt manifest: {load:6.1f} s")
    print(f"baseline, dbt parse on every load:     {load + parse:6.1f} s  (parse {parse:.1f} s)")
    print(f"ratio baseline / ours:                 {(load + parse) / load:6.2f}x")


def _warehouse(path: Path) -> list[publish.MartRelation]:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        f"create table marts.kpi_scorecard as select i as id, 'kpi_' || (i % 40) as kpi, "
        f"random() as value from range({MART_ROWS}) t(i)"
    )
    con.close()
    return [publish.MartRelation("marts", "kpi_scorecard")]


def bench_publish(tmp: Path) -> None:
    warehouse = tmp / "warehouse.duckdb"
    relations = _warehouse(warehouse)
    serving = tmp / "serving.duckdb"
    publish.publish(warehouse, serving, "warmup", relations, publish.OpsData())

    start = time.perf_counter()
    con = duckdb.connect(str(serving))  # in place: readers are locked out from here ...
    con.execute(f"attach {sql_str(warehouse)} as wh (read_only)")
    con.execute(
        "create or replace table marts.kpi_scorecard as select * from wh.marts.kpi_scorecard"
    )
    con.close()  # ... to here
    in_place = time.perf_counter() - start

    tmp_file = tmp / "serving.duckdb.tmp-bench"
    start = time.perf_counter()
    synced = publish.build_serving(warehouse, tmp_file, relations, publish.OpsData())
    publish.audit_serving(tmp_file, {name: r.fingerprint for name, r in synced.items()})
    built = time.perf_counter() - start
    start = time.perf_counter()
    os.replace(tmp_file, serving)  # the only moment a reader could notice
    swap = time.perf_counter() - start
    print(f"publish {MART_ROWS:,} mart rows: write + audit {built:.2f} s, swap {swap * 1e6:.0f} µs")
    print(f"readers locked out, in-place rewrite (baseline): {in_place:.2f} s")
    print(f"readers locked out, build + os.replace (ours):   {swap * 1e6:.0f} µs")
    print(f"ratio baseline / ours:                           {in_place / max(swap, 1e-9):,.0f}x")


#: A run's events as the nightly job stores them: per dbt model a step-output-like log line and
#: a materialization with metadata; the count is about a quarter of a nightly run's.
EVENTS = 500

_STORE_EVENTS = """
import os, sys, time
if sys.argv[1] in ("ours", "kept"):
    from orchestration import instance_sqlite
    instance_sqlite.install()
if sys.argv[1] == "kept":
    from orchestration import event_batch
    event_batch.install()
from dagster import AssetMaterialization, DagsterEvent, DagsterEventType
from dagster._core.events import EngineEventData, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
storage = SqliteEventLogStorage(os.path.join(os.environ["DAGSTER_HOME"], "history", "runs"))
def entry(i, kind):
    if kind:
        data = StepMaterializationData(AssetMaterialization(
            asset_key=f"model_{i % 300}", metadata={"rows": i, "step_seconds": 1.5}))
        event = DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, "nightly",
                             event_specific_data=data, step_key="dbt_build")
    else:
        event = DagsterEvent(DagsterEventType.ENGINE_EVENT.value, "nightly",
                             message="step log", event_specific_data=EngineEventData())
    return EventLogEntry(error_info=None, level=20, user_message="", run_id="bench",
                         timestamp=time.time(), dagster_event=event, job_name="nightly")
events = [entry(i, i % 2) for i in range(int(sys.argv[2]))]
storage.store_event(entry(0, 0))  # creates the run's shard: not part of the figure
start = time.perf_counter()
for e in events:
    storage.store_event(e)
print(time.perf_counter() - start)
"""


def _store_events(tmp: Path, mode: str) -> float:
    home = tmp / f"dagster-{mode}"
    home.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", _STORE_EVENTS, mode, str(EVENTS)],
        env={**os.environ, "DAGSTER_HOME": str(home)},
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def bench_event_log(tmp: Path) -> None:
    dagster = _store_events(tmp, "dagster")
    ours = _store_events(tmp, "ours")
    kept = _store_events(tmp, "kept")
    print(
        f"event log, {EVENTS} events, Dagster's settings (baseline): {dagster:6.2f} s "
        f"({dagster / EVENTS * 1000:.1f} ms/event)"
    )
    print(
        f"event log, WAL + synchronous=normal + kept reader (ours): {ours:6.2f} s "
        f"({ours / EVENTS * 1000:.1f} ms/event)"
    )
    print(
        f"event log, the same + one kept engine per shard (ours):    {kept:6.2f} s "
        f"({kept / EVENTS * 1000:.1f} ms/event)"
    )
    print(f"ratio baseline / ours:                                   {dagster / kept:6.2f}x")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_orch_") as d:
        bench_event_log(Path(d))
        bench_publish(Path(d))
        bench_code_location(Path(d))


if __name__ == "__main__":
    main()
