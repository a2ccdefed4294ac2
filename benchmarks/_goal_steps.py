"""The steps of the goals table, each run in a child process of its own (`bench_goals`).

A child imports what its step needs first (import costs are not the step's), then times one
call and reports wall seconds, CPU seconds and peak RSS. CPU and peak memory include the
child's own children (dbt and `medspa run` are subprocesses): `RUSAGE_CHILDREN` holds the
largest of them. Each function here reuses the benchmark or library function that owns the
step rather than re-implementing it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_CHILD = """
import json, resource, sys, time
{setup}
def _usage():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, max(me.ru_maxrss, kids.ru_maxrss)
cpu0, _ = _usage()
start = time.perf_counter()
result = {call}
wall = time.perf_counter() - start
cpu1, peak = _usage()
figures = {{"wall_s": wall, "cpu_s": cpu1 - cpu0, "peak_mb": peak / 1024, "result": result}}
print("BENCH " + json.dumps(figures, default=str))
"""

#: DuckDB connections opened by a bench step itself (the compiled-SQL baseline, the GX
#: baseline) get the same memory and thread limits as the pipeline's, or a baseline would
#: measure a differently configured engine (DuckDB's default is 80 % of the machine's RAM).
_LIMITED_DUCKDB = """
import duckdb, os
_connect = duckdb.connect
def _limited(database=":memory:", read_only=False, config=None):
    limits = {"memory_limit": os.environ.get("MEDSPA_DUCKDB_MEMORY_LIMIT", "2GB"),
              "threads": int(os.environ.get("MEDSPA_DUCKDB_THREADS", "2"))}
    return _connect(database, read_only=read_only, config={**limits, **(config or {})})
duckdb.connect = _limited
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


def _settings(data: Path, landing: Path) -> str:
    return f"Settings.from_env({str(data)!r}, {str(landing)!r})"


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
        f"'phases': r.seconds}})(ingest({_settings(data, landing)}.ingest_settings()))"
    )
    return child(setup, call)


def native(landing: Path, database: Path | None = None) -> dict[str, Any]:
    """DuckDB's readers into memory, or into the database file `database` (deleted after)."""
    setup = "from pathlib import Path\nfrom benchmarks.bench_ingest import duckdb_baseline"
    target = f"Path({str(database)!r})" if database is not None else "None"
    try:
        return child(
            _LIMITED_DUCKDB + setup, f"duckdb_baseline(Path({str(landing)!r}), {target})[2]"
        )
    finally:
        if database is not None:
            database.unlink(missing_ok=True)


_DBT_SETUP = (
    "from pathlib import Path\nfrom benchmarks._pipeline import run_dbt, run_dbt_as_pipeline\n"
    "from medspa.settings import Settings"
)


def dbt(
    data: Path, landing: Path, work: Path, *args: str, leave_out: bool = False
) -> dict[str, Any]:
    """One dbt command as the pipeline's dbt step runs it (`benchmarks._pipeline.
    run_dbt_as_pipeline`: with `leave_out`, the models whose code and inputs are unchanged are
    left out; the built models' fingerprints are recorded either way); result: nodes run,
    models left out, slowest five."""
    call = (
        f"(lambda r: {{'nodes': len(r[1]), 'left_out': r[2], 'slowest': sorted("
        f"((round(x['execution_time'], 1), x['unique_id'].split('.')[-1]) for x in r[1]), "
        f"reverse=True)[:5]}})(run_dbt_as_pipeline({_settings(data, landing)}, "
        f"Path({str(work)!r}), *{list(args)!r}, leave_out={leave_out!r}))"
    )
    return child(_DBT_SETUP, call)


def dbt_compaction(data: Path, landing: Path, work: Path) -> dict[str, Any]:
    """A `dbt run` due to compact the warehouse file (dbt_project/macros/compaction.sql); result:
    the compaction's seconds (its slowest on-run-end hook), not the run's (its changed vars make
    dbt parse the whole project again)."""
    call = (
        "(lambda r: {'compaction_s': max(x['execution_time'] for x in r "
        "if 'on-run-end' in x['unique_id'])})"
        f"(run_dbt({_settings(data, landing)}, Path({str(work)!r}), 'run', '--vars', "
        "'{compaction_every_runs: 1}')[1])"
    )
    return child(_DBT_SETUP, call)


def direct_sql(data: Path, landing: Path, work: Path) -> dict[str, Any]:
    """dbt's compiled SQL straight in DuckDB (`bench_dbt._direct_sql`), on a copy."""
    setup = (
        "from pathlib import Path\nfrom benchmarks.bench_dbt import _direct_sql\n"
        "from medspa.settings import Settings\nimport shutil, time\n"
        f"s = {_settings(data, landing)}\nw = Path({str(work)!r})\n"
    )
    # _direct_sql copies the warehouse first; the copy is timed apart and subtracted below.
    call = "_direct_sql(s, w, s.warehouse_path)"
    out = child(_LIMITED_DUCKDB + setup, call)
    seconds, models = out["result"]
    out["copy_s"] = out["wall_s"] - seconds
    out["wall_s"], out["result"] = seconds, {"models": models}
    return out


def gx_suites(warehouse: Path) -> dict[str, Any]:
    """Every raw and mart suite through the pipeline's GX runner; result: failures."""
    setup = (
        "from pathlib import Path\nfrom quality import gx_duckdb\ngx_duckdb.import_gx()\n"
        "from benchmarks.bench_quality import all_suites, gx_failures\nspecs = all_suites()"
    )
    return child(setup, f"sorted(gx_failures(specs, Path({str(warehouse)!r})))")


def plain_sql_suites(warehouse: Path) -> dict[str, Any]:
    """The same expectations as hand-written SQL (`bench_quality.plain_sql_failures`)."""
    setup = (
        "from pathlib import Path\n"
        "from benchmarks.bench_quality import all_suites, plain_sql_failures\nspecs = all_suites()"
    )
    return child(
        _LIMITED_DUCKDB + setup, f"sorted(plain_sql_failures(specs, Path({str(warehouse)!r})))"
    )


def publish(warehouse: Path, serving: Path) -> dict[str, Any]:
    """Write-audit-publish of serving.duckdb (`serving.publish.publish`); result: rows."""
    setup = (
        "from pathlib import Path\nfrom serving import publish as p\n"
        "from orchestration.manifest import MANIFEST_PATH\nimport json\n"
        "rel = p.mart_relations(json.loads(MANIFEST_PATH.read_text()))"
    )
    call = (
        f"sum(p.publish(Path({str(warehouse)!r}), Path({str(serving)!r}), 'bench', rel, "
        "p.OpsData()).values())"
    )
    return child(setup, call)


def site(serving: Path, site_dir: Path) -> dict[str, Any]:
    """The dashboards from serving.duckdb (`dashboards.build_site`); result: pages built."""
    setup = "from pathlib import Path\nfrom dashboards import build_site"
    call = (
        f"(lambda r: {{'pages': len(r.pages_built), 'failed': [str(f) for f in r.pages_failed]}})"
        f"(build_site(Path({str(serving)!r}), Path({str(site_dir)!r})))"
    )
    return child(setup, call)


def scorecard(serving: Path, repeats: int) -> dict[str, Any]:
    """Scorecard queries from this second process (`bench_dashboards.scorecard_latencies`)."""
    setup = "from pathlib import Path\nfrom benchmarks.bench_dashboards import scorecard_latencies"
    return child(setup, f"scorecard_latencies(Path({str(serving)!r}), {repeats})")


def medspa_run(data: Path, landing: Path) -> dict[str, Any]:
    """`medspa run` as a person runs it; result: each step's seconds from its progress lines."""
    setup = "from pathlib import Path\nfrom benchmarks._goal_steps import run_cli_steps"
    return child(setup, f"run_cli_steps(Path({str(data)!r}), Path({str(landing)!r}))")


def run_cli_steps(data: Path, landing: Path) -> dict[str, Any]:
    """Run `medspa run` and read its step lines (`[hh:mm:ss] <step> done in <s> s`)."""
    import re

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medspa.cli",
            "run",
            "--data-dir",
            str(data),
            "--landing",
            str(landing),
        ],
        capture_output=True,
        text=True,
    )
    steps = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\[[\d:]+\] (\S+) done in ([\d.]+) s$", proc.stdout, re.M)
    }
    if proc.returncode:
        raise RuntimeError(f"medspa run failed:\n{proc.stdout[-3000:]}")
    return {"steps": steps}
