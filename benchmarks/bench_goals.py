"""The performance goals table at one scale (`make bench SCALE=medium|large`).

Prints every goal with its measured value, its baseline from the same run and the ratio,
and writes the table as JSON to `<data dir>/bench/goals-<scale>.json`. Each step runs in its
own child process, already imported, reporting its wall and CPU seconds and its own peak RSS,
so a step's memory is its own and import costs are not counted. CPU seconds are printed too:
on a shared machine wall time swings with the neighbours, CPU time much less.
The steps themselves are in `benchmarks._goal_steps`, each reusing the benchmark or library
function that owns it. At large, DuckDB's memory limit defaults to 2.5 GB
(`MEDSPA_DUCKDB_MEMORY_LIMIT`) so every step has room under the 4 GB goal; the value used is
written with the machine description. The bench's data is deleted afterwards unless
`MEDSPA_BENCH_KEEP=1`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks import _goal_steps as steps
from benchmarks import page_cache
from serving import row_hashes

#: The goals table (README, *Performance at chain scale*): (key, what, baseline, goal text).
GOALS: tuple[tuple[str, str, str, str], ...] = (
    ("generate", "medspa generate", "-", "<= 2 GB peak (large); same files for the same seed"),
    ("step_memory", "every step at large (peak RSS)", "-", "<= 4 GB peak each"),
    ("ingest_full", "medspa ingest, full load", "DuckDB readers into a file", "<= 1.3x"),
    ("ingest_delta", "medspa ingest, one nightly delta", "-", "<= 10 s (large)"),
    ("dbt_run", "dbt run", "compiled SQL run directly", "<= 1.3x"),
    ("dbt_incremental", "dbt incremental after one day", "a full build", "<= 0.15x"),
    ("gx", "GX suites", "same expectations as plain SQL", "<= 1.5x"),
    ("run_full", "medspa run full", "sum of the steps alone", "<= 5 min, <= 4 GB"),
    ("run_delta", "medspa run nightly delta", "-", "<= 60 s wall"),
    ("site", "site build", "-", "<= 60 s"),
    ("scorecard_p95", "scorecard query, second process", "-", "p95 <= 20 ms"),
)

#: Scorecard samples from the second process; enough for a stable 95th percentile.
SCORECARD_REPEATS = 200

#: How many times the nightly `medspa run` takes the delta, each from the same day-0 state.
#: Its wall time swings with the machine's disk (the same nightly measured 78 and 154 s on
#: one day), so the goal is judged on the median of the runs, and every run is printed.
NIGHTLY_REPEATS = int(os.environ.get("MEDSPA_BENCH_NIGHTLY_REPEATS", "3"))

#: How many times GX and its plain-SQL baseline are each measured, in alternating order (GX
#: first in odd pairs, plain SQL first in even ones). One pair of 4-6 s runs swings with the
#: machine: on one large warehouse with the same code, three pairs in a row gave 1.63x, 1.40x
#: and 1.37x (four on another day 1.54x, 1.37x, 1.55x and 1.39x). The goal is judged on the
#: pair of median ratio, and every pair's ratio is printed.
GX_PAIRS = int(os.environ.get("MEDSPA_BENCH_GX_PAIRS", "3"))


def measure(root: Path, scale: str) -> dict[str, dict[str, Any]]:
    """Every step of the goals table, in the order a nightly chain meets them, under `root`.

    Two data dirs share one landing folder: `steps/` runs each step alone (ingest, dbt,
    checks, publish, site), `run/` runs `medspa run` end to end. After the full loads, one
    nightly delta is written and both take it: `steps/` through ingest + incremental dbt
    alone, `run/` through `medspa run`, Dagster included, `NIGHTLY_REPEATS` times, each from
    a copy of `run/` as the full run left it (`run_delta`, `run_delta_2`, ...), then once
    more with that copy's files out of the page cache (`run_delta_cold`). The GX suites
    and their plain-SQL baseline run `GX_PAIRS` times on the full load's warehouse
    (`gx`/`plain_sql`, `gx_2`/`plain_sql_2`, ...).
    """
    shutil.rmtree(root, ignore_errors=True)
    landing, data, run, work = root / "landing", root / "steps", root / "run", root / "dbt"
    warehouse, serving = data / "warehouse.duckdb", data / "serving.duckdb"
    m: dict[str, dict[str, Any]] = {}

    partial = root.parent / f"goals-{scale}.partial.json"

    def step(key: str, label: str, fn: Any, *args: Any) -> None:
        print(f"{label} ...", end=" ", flush=True)
        # The previous step's files (a 4 GB warehouse, the generated extracts) are written back
        # to disk lazily: without this, that writeback lands inside the next step's timing
        # (a nightly `dbt run` measured 40 s once and 23 s once so, on the same data).
        os.sync()
        m[key] = fn(*args)
        print(f"{m[key]['wall_s']:.1f} s, peak {_peak(m[key]['peak_mb'])}", flush=True)
        # a step that fails an hour in must not cost the figures measured before it
        partial.write_text(json.dumps(m, indent=2))

    step("generate", f"generating the {scale} chain", steps.generate, landing, scale)
    step("native", "DuckDB readers baseline, into memory", steps.native, landing)
    step(
        "native_file",
        "DuckDB readers baseline, into a database file",
        steps.native,
        landing,
        root / "native.duckdb",
    )
    step("ingest_full", "ingest, full load", steps.ingest, data, landing)
    step("dbt_seed", "dbt seed", steps.dbt, data, landing, work, "seed", "--full-refresh")
    step(
        "dbt_full",
        "dbt run --full-refresh",
        steps.dbt,
        data,
        landing,
        work,
        "run",
        "--full-refresh",
    )
    step("direct_sql", "the same compiled SQL in DuckDB", steps.direct_sql, data, landing, work)
    shutil.rmtree(work / "direct", ignore_errors=True)  # the copied warehouse
    for pair in range(1, GX_PAIRS + 1):
        suffix, of = ("", "") if pair == 1 else (f"_{pair}", f" ({pair} of {GX_PAIRS})")
        gx = (f"gx{suffix}", f"GX suites (raw + marts){of}", steps.gx_suites, warehouse)
        plain = (
            f"plain_sql{suffix}",
            f"the same expectations as plain SQL{of}",
            steps.plain_sql_suites,
            warehouse,
        )
        for args in (gx, plain) if pair % 2 else (plain, gx):
            step(*args)
    step("publish", "publish serving.duckdb", steps.publish, warehouse, serving)
    step("site", "site build", steps.site, serving, data / "site")
    step("scorecard", "scorecard queries", steps.scorecard, serving, SCORECARD_REPEATS)
    step("run_full", "medspa run, full", steps.medspa_run, run, landing)
    day0 = root / "run-day0"
    shutil.copytree(run, day0, symlinks=True)
    step("advance", "one nightly delta", steps.advance, landing)
    step("ingest_delta", "ingest, the delta", steps.ingest, data, landing)
    step(
        "dbt_incremental",
        "dbt run, incremental, unchanged models left out (as the nightly)",
        functools.partial(steps.dbt, leave_out=True),
        data,
        landing,
        work,
        "run",
    )
    # what the night that compacts the file (every `compaction_every_runs`-th) adds to it
    step("dbt_compaction", "dbt run, compacting", steps.dbt_compaction, data, landing, work)
    step("run_delta", "medspa run, the delta", steps.medspa_run, run, landing)
    for repeat in range(2, NIGHTLY_REPEATS + 1):
        restore_day0(day0, run)
        label = f"medspa run, the delta again ({repeat} of {NIGHTLY_REPEATS})"
        step(f"run_delta_{repeat}", label, steps.medspa_run, run, landing)
    # The same night once more, its data dir read from disk as a night after a day of other
    # work would find it (`benchmarks.page_cache`); shown beside the goal, not judged.
    if page_cache.AVAILABLE:
        restore_day0(day0, run)
        evicted = page_cache.evict(run)
        label = "medspa run, the delta with the data dir out of the page cache"
        step("run_delta_cold", label, steps.medspa_run, run, landing)
        m["run_delta_cold"]["evicted_bytes"] = evicted
    shutil.rmtree(day0, ignore_errors=True)
    return m


def restore_day0(day0: Path, run: Path) -> None:
    """`run` as the full run left it (saved in `day0`), for one more nightly.

    The copy holds the same bytes, but its serving file has a new inode, which voids the row
    hashes beside it (`serving.row_hashes`): without adopting them again, every repeated
    nightly would publish as the first night after a restored backup does, 5-11 s slower at
    the large chain than the night in place that the first nightly measures.
    """
    shutil.rmtree(run)
    shutil.copytree(day0, run, symlinks=True)
    serving = run / "serving.duckdb"
    if serving.is_file() and not row_hashes.adopt_copy(serving):
        raise RuntimeError(f"the row hashes of {serving} did not survive the copy")


def _scorecard_text(lat: dict[str, Any]) -> str:
    """The scorecard row: the following reader first (the goal's figure), then the others."""
    if "p95_reader_ms" not in lat:
        return (
            f"no scorecard.duckdb; opening serving.duckdb p95 {lat['p95_open_query_ms']:.1f} ms "
            f"(p50 {lat['p50_open_query_ms']:.1f}); p95 {lat['p95_query_ms']:.1f} ms on an open "
            "connection"
        )
    return (
        f"p95 {lat['p95_reader_ms']:.1f} ms (p50 {lat['p50_reader_ms']:.1f}, max "
        f"{lat['max_reader_ms']:.1f}) for a ScorecardReader following "
        f"{lat['reader_reopens']} publishes; opening scorecard.duckdb per lookup p95 "
        f"{lat['p95_open_scorecard_file_ms']:.1f} ms "
        f"(p50 {lat['p50_open_scorecard_file_ms']:.1f}); "
        f"opening serving.duckdb p95 {lat['p95_open_query_ms']:.1f} ms"
    )


def nightly_runs(m: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every measured nightly `medspa run` (`run_delta`, `run_delta_2`, ...), in run order."""
    runs = [m["run_delta"]]
    while f"run_delta_{len(runs) + 1}" in m:
        runs.append(m[f"run_delta_{len(runs) + 1}"])
    return runs


def gx_pairs(m: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every measured (GX, plain SQL) pair (`gx`/`plain_sql`, `gx_2`/`plain_sql_2`, ...)."""
    pairs = [(m["gx"], m["plain_sql"])]
    while f"gx_{len(pairs) + 1}" in m:
        n = len(pairs) + 1
        pairs.append((m[f"gx_{n}"], m[f"plain_sql_{n}"]))
    return pairs


def median_pair(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pair whose wall ratio is the median (the lower middle one of an even count)."""
    ranked = sorted(pairs, key=lambda pair: pair[0]["wall_s"] / pair[1]["wall_s"])
    return ranked[(len(ranked) - 1) // 2]


def _s(fig: dict[str, Any]) -> str:
    return f"{fig['wall_s']:.1f} s (cpu {fig['cpu_s']:.1f} s)"


#: Bytes in one MiB: the steps report peak RSS in MiB (`ru_maxrss` is in KiB on Linux).
_MIB = 2**20


def _peak(peak_mib: float) -> str:
    """A peak in the goals' unit, decimal GB, with GiB beside it (what `top` and `free -g` show)."""
    return f"{peak_mib * _MIB / 1e9:.2f} GB ({peak_mib / 1024:.2f} GiB)"


def _within_gb(peak_mib: float, gigabytes: float) -> bool:
    """Whether a peak is within `gigabytes` decimal GB, the unit the goals are written in."""
    return peak_mib * _MIB <= gigabytes * 1e9


def _ratio(value: dict[str, Any], base: dict[str, Any]) -> tuple[str, float]:
    wall = value["wall_s"] / base["wall_s"]
    return f"wall {wall:.2f}x, cpu {value['cpu_s'] / base['cpu_s']:.2f}x", wall


def _steps_text(run: dict[str, Any], top: int = 5) -> str:
    """The slowest steps of a `medspa run`, from its own progress lines."""
    slowest = sorted(run["result"]["steps"].items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in slowest)


#: Steps whose peak memory the "every step" row reports, with their labels.
MEMORY_STEPS = {
    "ingest_full": "ingest",
    "dbt_full": "dbt",
    "gx": "checks",
    "publish": "publish",
    "site": "site",
}


def _left_out_text(m: dict[str, Any]) -> str:
    """How many unchanged models and seeds the night's dbt run left out (as the nightly does)."""
    left_out = m["dbt_incremental"].get("result", {}).get("left_out")
    return "" if left_out is None else f", {left_out} unchanged models and seeds left out"


def _compaction_text(m: dict[str, dict[str, Any]]) -> str:
    """The compaction a night pays once every `compaction_every_runs` runs, beside the night."""
    if "dbt_compaction" not in m:
        return ""
    seconds = m["dbt_compaction"]["result"]["compaction_s"]
    return f"; the run that compacts the file adds {seconds:.1f} s (this night's changes)"


def goals_table(m: dict[str, dict[str, Any]], scale: str) -> list[dict[str, Any]]:
    """One row per goal: measured value, baseline, ratio, and whether the goal is met.

    A goal set for the large chain only is judged (`met`) at large only.
    """
    large = scale == "large"
    gen, full, delta = m["generate"], m["ingest_full"], m["ingest_delta"]
    # The ingest writes its warehouse file, so the goal's baseline writes one too; the
    # in-memory figure stays beside it to show what the disk itself costs.
    native = m.get("native_file", m["native"])
    ingest_ratio, ingest_wall = _ratio(full, native)
    memory_ratio, _ = _ratio(full, m["native"])
    dbt_ratio, dbt_wall = _ratio(m["dbt_full"], m["direct_sql"])
    incr_ratio, incr_wall = _ratio(m["dbt_incremental"], m["dbt_full"])
    pairs = gx_pairs(m)
    gx, plain_sql = median_pair(pairs)
    gx_ratio, gx_wall = _ratio(gx, plain_sql)
    pair_ratios = ", ".join(f"{g['wall_s'] / p['wall_s']:.2f}x" for g, p in pairs)
    # the checks step: the median pair's GX run for time, the highest GX peak for memory
    alone_steps = {key: m[key] for key in MEMORY_STEPS} | {"gx": gx}
    peaks = {label: alone_steps[key]["peak_mb"] for key, label in MEMORY_STEPS.items()}
    peaks["checks"] = max(g["peak_mb"] for g, _ in pairs)
    alone = sum(f["wall_s"] for f in alone_steps.values()) + m["dbt_seed"]["wall_s"]
    run_full, lat = m["run_full"], m["scorecard"]["result"]
    nightlies = nightly_runs(m)
    # the run of median wall time stands for the nightly (its steps, its CPU)
    run_delta = sorted(nightlies, key=lambda run: run["wall_s"])[(len(nightlies) - 1) // 2]
    nightly_walls = ", ".join(f"{run['wall_s']:.1f}" for run in nightlies)
    agree = all(g["result"] == p["result"] == pairs[0][0]["result"] for g, p in pairs)
    # The goal's second process is a ScorecardReader following publishes when the publish
    # wrote a scorecard file; the reader opening a file per lookup is shown beside it.
    card_p95 = lat.get("p95_reader_ms", lat["p95_open_query_ms"])
    measured: dict[str, dict[str, Any]] = {
        "generate": {
            "value": f"{_peak(gen['peak_mb'])} peak, {_s(gen)}, {gen['result']:,} rows",
            "met": _within_gb(gen["peak_mb"], 2) if large else None,
        },
        "step_memory": {
            "value": ", ".join(f"{k} {_peak(v)}" for k, v in peaks.items()),
            "met": _within_gb(max(peaks.values()), 4) if large else None,
        },
        "ingest_full": {
            "value": _s(full),
            "baseline": f"{_s(native)} into a file ({_s(m['native'])} into memory: {memory_ratio})",
            "ratio": ingest_ratio,
            "met": ingest_wall <= 1.3,
        },
        "ingest_delta": {
            "value": f"{_s(delta)}, {delta['result']['rows']:,} rows",
            "met": delta["wall_s"] <= 10 if large else None,
        },
        "dbt_run": {
            "value": f"{_s(m['dbt_full'])}, {m['dbt_full']['result']['nodes']} models",
            "baseline": _s(m["direct_sql"]),
            "ratio": dbt_ratio,
            "met": dbt_wall <= 1.3,
        },
        "dbt_incremental": {
            "value": _s(m["dbt_incremental"]) + _left_out_text(m) + _compaction_text(m),
            "baseline": f"dbt run --full-refresh {_s(m['dbt_full'])}",
            "ratio": incr_ratio,
            "met": incr_wall <= 0.15 if large else None,
        },
        "gx": {
            "value": f"median of {len(pairs)} alternated pairs: {_s(gx)}, "
            f"{len(gx['result'])} failed expectations (wall ratios: {pair_ratios})",
            "baseline": f"{_s(plain_sql)}; same failures: {'yes' if agree else 'NO'}",
            "ratio": gx_ratio,
            "met": gx_wall <= 1.5 if large else None,
        },
        "run_full": {
            "value": f"{_s(run_full)}, peak {_peak(run_full['peak_mb'])}; slowest: "
            f"{_steps_text(run_full)}",
            "baseline": f"{alone:.1f} s (ingest + dbt seed/run + checks + publish + site)",
            "ratio": f"wall {run_full['wall_s'] / alone:.2f}x",
            "met": run_full["wall_s"] <= 300 and _within_gb(run_full["peak_mb"], 4)
            if large
            else None,
        },
        "run_delta": {
            "value": f"median of {len(nightlies)} from the same day-0 state: {_s(run_delta)} "
            f"(all: {nightly_walls} s); slowest: {_steps_text(run_delta)}; "
            + _cold_nightly_text(m.get("run_delta_cold"), 60 if large else None),
            "met": run_delta["wall_s"] <= 60 if large else None,
        },
        "site": {
            "value": f"{_s(m['site'])}, {m['site']['result']['pages']} pages",
            "met": m["site"]["wall_s"] <= 60 if large else None,
        },
        "scorecard_p95": {"value": _scorecard_text(lat), "met": card_p95 <= 20 if large else None},
    }
    rows = []
    for key, what, baseline, goal in GOALS:
        row = {"goal": key, "what": what, "baseline": baseline, "target": goal}
        row |= measured[key]
        rows.append(row)
    return rows


def _cold_nightly_text(cold: dict[str, Any] | None, goal_s: float | None) -> str:
    """The nightly with its data dir out of the page cache, beside the judged median: the goal
    is judged on the nights the bench can repeat alike (copies of one state, read from memory),
    this one says what a night that finds its files on disk takes."""
    if cold is None:
        return "with the data dir out of the page cache: not measured (no posix_fadvise here)"
    verdict = (
        ""
        if goal_s is None
        else f", {'within' if cold['wall_s'] <= goal_s else 'OVER'} {goal_s:.0f} s"
    )
    return (
        f"with the data dir ({cold['evicted_bytes'] / 1e9:.1f} GB) out of the page cache: "
        f"{_s(cold)}{verdict}; slowest: {_steps_text(cold)}"
    )


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


#: DuckDB's memory limit for every step at large unless `MEDSPA_DUCKDB_MEMORY_LIMIT` is set. A
#: process holds more than DuckDB's share: `medspa run` loads inside its Dagster process
#: (imports, dlt, Arrow), and at a 3 GB limit it peaked at 4.08 GB during the load. At 2.5 GB the
#: full refresh, the biggest DuckDB step, ran no slower (109.3 and 106.0 s against 111.5 and
#: 109.6 s at 3 GB, alternated) and peaked at 3.07 GB instead of 3.64 GB (docs/performance.md).
LARGE_MEMORY_LIMIT = "2500MB"


def main() -> None:
    from medspa.settings import Settings

    scale = os.environ.get("SCALE") or "medium"
    if scale == "large":  # room under the 4 GB goal for Python, dlt and DuckDB together
        os.environ.setdefault("MEDSPA_DUCKDB_MEMORY_LIMIT", LARGE_MEMORY_LIMIT)
    data_dir = Settings.from_env().data_dir
    root = data_dir / "bench" / scale
    load_before = os.getloadavg()
    try:
        measured = measure(root, scale)
    finally:
        if os.environ.get("MEDSPA_BENCH_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)
    (data_dir / "bench" / f"goals-{scale}.partial.json").unlink(missing_ok=True)
    rows = goals_table(measured, scale)
    print(render(rows, scale), flush=True)
    out = data_dir / "bench" / f"goals-{scale}.json"
    machine = _machine() | {"load_avg_before": load_before}
    out.write_text(
        json.dumps({"scale": scale, "machine": machine, "goals": rows, "raw": measured}, indent=2)
    )
    print(f"machine: {machine}")
    print(f"wrote {out}", flush=True)


def _machine() -> dict[str, Any]:
    """Where the figures were measured: they only compare within one machine and run."""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "unknown",
        )
        if Path("/proc/cpuinfo").exists()
        else "unknown"
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(mem_gb, 1),
        "load_avg_after": os.getloadavg(),
        "duckdb_memory_limit": os.environ.get("MEDSPA_DUCKDB_MEMORY_LIMIT", "2GB (default)"),
        "duckdb_threads": os.environ.get("MEDSPA_DUCKDB_THREADS", "2 (default)"),
    }


if __name__ == "__main__":
    main()
