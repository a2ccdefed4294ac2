"""Ingest throughput: `ingest()` rows/s on a medium landing folder vs DuckDB's own read_csv.

The baseline is the floor any CSV loader on this machine pays: DuckDB reading the same
files with type sniffing into an in-memory table. The ratio (ingest time / baseline time)
is the price of contract typing, validation, quarantine, merge planning and dlt's load.
Also measured: a 1 % nightly delta (should cost about its rows, not the table's) and a
no-op re-run. The landing folder comes from `medspa generate --scale medium` when the
generator is installed, else from a synthetic writer below (contract-shaped, seeded).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ingestion.contract import Column, Table, load_contract
from safeio.sqlquote import sql_str

#: Synthetic medium chain: rows per table (the big fact tables dominate the load).
SYNTHETIC_ROWS: dict[str, int] = {
    "pms.locations": 12,
    "pms.rooms": 80,
    "pms.providers": 150,
    "pms.services": 40,
    "pms.patients": 60_000,
    "pms.appointments": 300_000,
    "pos.invoices": 250_000,
    "pos.invoice_lines": 400_000,
    "phone.calls": 120_000,
    "messaging.messages": 300_000,
    "crm.leads": 40_000,
}
DELTA_SHARE = 0.01


def _value_sql(table: Table, col: Column) -> str:
    """A deterministic SQL expression of row index `i` that satisfies the column's rules."""
    if col.name in table.primary_key:
        return f"'{col.name[:3].upper()}' || lpad(i::varchar, 8, '0')"
    if col.enum is not None:
        options = ", ".join(f"'{v}'" for v in col.enum)
        return f"([{options}])[1 + (hash(i, '{col.name}') % {len(col.enum)})::int]"
    kind = col.type
    if kind == "integer":
        low, high = int(col.min or 0), int(col.max or 1000)
        return f"({low} + hash(i, '{col.name}') % {high - low + 1})::varchar"
    if kind == "decimal":
        return f"printf('%.2f', (hash(i, '{col.name}') % 100000) / 100.0)"
    if kind == "boolean":
        return "case when i % 2 = 0 then 'true' else 'false' end"
    if kind == "date":
        return "strftime(date '2024-01-01' + (i % 700)::int, '%Y-%m-%d')"
    if kind == "time":
        return "printf('%02d:00', 8 + i % 10)"
    if kind == "timestamp":
        return (
            "strftime(timestamptz '2026-01-01 00:00:00+00' + to_minutes((i % 400000)::bigint), "
            "'%Y-%m-%dT%H:%M:%SZ')"
        )
    if col.phi:
        return f"'{col.name}-' || (hash(i) % 99991)::varchar"
    return f"'{col.name[:4]}-' || (i % 500)::varchar"


def write_synthetic(landing: Path) -> None:
    """A full snapshot per table (`2026-11-20.csv`) plus a 1 % delta kept aside for later."""
    contract = load_contract()
    con = duckdb.connect()
    for name, rows in SYNTHETIC_ROWS.items():
        table = contract.table(name)
        folder = landing / table.system / table.name
        folder.mkdir(parents=True, exist_ok=True)
        cols = ", ".join(f"{_value_sql(table, c)} as {c.name}" for c in table.columns)
        con.execute(
            f"copy (select {cols} from range({rows}) t(i)) "
            f"to '{folder / '2026-11-20.csv'}' (header, delimiter ',')"
        )


def write_delta(landing: Path) -> int:
    """Nightly delta: 1 % of each big table's keys, changed one day later."""
    contract = load_contract()
    con = duckdb.connect()
    total = 0
    for name, rows in SYNTHETIC_ROWS.items():
        n = max(1, int(rows * DELTA_SHARE))
        table = contract.table(name)
        src = landing / table.system / table.name / "2026-11-20.csv"
        dst = landing / table.system / table.name / "2026-11-21.csv"
        con.execute(
            f"""copy (select * replace (
                    strftime(updated_at::timestamptz + interval 1 day, '%Y-%m-%dT%H:%M:%SZ')
                    as updated_at)
                from read_csv('{src}', all_varchar = true) using sample {n} rows (reservoir, 7))
            to '{dst}' (header, delimiter ',')"""
        )
        total += n
    return total


def _generate(*args: str) -> bool:
    """Run `medspa generate ARGS`; False (and a note) when it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "medspa.cli", "generate", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        print(f"medspa generate {' '.join(args)} failed (exit {result.returncode})", flush=True)
    return result.returncode == 0


def _cache_dir() -> Path:
    """Generated medium chains are kept here between runs (generation takes minutes)."""
    default = Path(tempfile.gettempdir()) / "medspa-bench-cache"
    return Path(os.environ.get("MEDSPA_BENCH_CACHE", default)) / "landing-medium"


def landing_folder(work: Path) -> tuple[Path, bool]:
    """A copy of the medium demo chain (generated once, then reused), else synthetic files.

    Returns the folder and whether it came from the generator (which also writes deltas).
    The copy is what gets a delta appended, so the cached chain stays pristine.
    """
    landing = work / "landing"
    cache = _cache_dir()
    if not (cache / ".complete").exists() and importlib.util.find_spec("medspa.commands.generate"):
        shutil.rmtree(cache, ignore_errors=True)
        if _generate("--out", str(cache), "--scale", "medium"):
            (cache / ".complete").touch()
    if (cache / ".complete").exists():
        shutil.copytree(cache, landing)
        return landing, True
    write_synthetic(landing)
    return landing, False


def add_delta(landing: Path, generated: bool) -> None:
    """One nightly delta: the generator's `--advance 1`, or 1 % of the synthetic rows."""
    if not (generated and _generate("--out", str(landing), "--advance", "1")):
        write_delta(landing)


def duckdb_baseline(landing: Path, database: Path | None = None) -> tuple[float, float, int]:
    """Seconds for DuckDB's own readers (sniffed types) of every extract into tables, and rows.

    csv / csv.gz -> read_csv, parquet -> read_parquet, jsonl -> read_json: the same files the
    ingest reads, with none of its typing, validation, merge or bookkeeping. The tables are
    in memory, or in the database file `database` (then checkpointed and closed, as the
    ingest leaves its warehouse: writing the rows to disk is part of the time).
    """
    readers = {".csv": "read_csv", ".gz": "read_csv", ".parquet": "read_parquet"}
    files = sorted(p for p in landing.rglob("*.*") if not p.name.startswith((".", "_")))
    start, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(database) if database is not None else ":memory:")
    rows = 0
    for i, path in enumerate(files):
        reader = readers.get(path.suffix, "read_json" if path.suffix == ".jsonl" else None)
        if reader is None or path.stat().st_size == 0:
            continue
        con.execute(f"create table t{i} as select * from {reader}({sql_str(path)})")
        rows += con.execute(f"select count(*) from t{i}").fetchone()[0]
    con.close()
    return time.perf_counter() - start, time.process_time() - cpu, rows


def warm_up(work: Path) -> float:
    """One tiny ingest first: dlt imports (and compiles, without .pyc caches) lazily on the
    first load, a one-off cost per process that says nothing about throughput."""
    from ingestion.pipeline import ingest
    from medspa.settings import Settings

    saved = dict(SYNTHETIC_ROWS)
    SYNTHETIC_ROWS.clear()
    SYNTHETIC_ROWS.update({"pms.locations": 2, "pms.appointments": 10})
    try:
        write_synthetic(work / "warm" / "landing")
    finally:
        SYNTHETIC_ROWS.clear()
        SYNTHETIC_ROWS.update(saved)
    start = time.perf_counter()
    ingest(Settings.from_env(work / "warm" / "data", work / "warm" / "landing").ingest_settings())
    return time.perf_counter() - start


def _timed(fn):
    """(result, wall seconds, CPU seconds of the whole process incl. DuckDB's threads).

    CPU seconds are printed beside wall time because a shared machine's load swings wall
    time several-fold; CPU time moves far less.
    """
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    from ingestion.pipeline import ingest
    from medspa.settings import Settings

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        work = Path(tmp)
        print(f"warm-up ingest (imports, first dlt run): {warm_up(work):.2f} s", flush=True)
        landing, generated = landing_folder(work)
        origin = "medspa generate --scale medium" if generated else "synthetic SYNTHETIC_ROWS"
        files = [p for p in landing.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        print(f"landing: {origin}: {len(files)} files, {size_mb:.0f} MB", flush=True)

        base_s, base_cpu, base_rows = duckdb_baseline(landing)
        print(
            f"baseline duckdb readers: {base_rows:,} rows in {base_s:.2f} s "
            f"(cpu {base_cpu:.2f} s) = {base_rows / base_s:,.0f} rows/s",
            flush=True,
        )

        disk_s, disk_cpu, _ = duckdb_baseline(landing, work / "baseline.duckdb")
        print(
            f"baseline duckdb readers into a database file: {disk_s:.2f} s (cpu {disk_cpu:.2f} s)",
            flush=True,
        )

        settings = Settings.from_env(work / "data", landing).ingest_settings()
        report, full_s, full_cpu = _timed(lambda: ingest(settings))
        rows = sum(t.rows_read for t in report.tables)
        print(
            f"ingest full load: {rows:,} rows in {full_s:.2f} s (cpu {full_cpu:.2f} s) "
            f"= {rows / full_s:,.0f} rows/s (ok={report.ok}); phases {report.seconds}",
            flush=True,
        )
        print(
            f"ratio ingest / duckdb readers: wall {full_s / base_s:.1f}x, "
            f"cpu {full_cpu / base_cpu:.1f}x; into a database file: wall "
            f"{full_s / disk_s:.1f}x, cpu {full_cpu / disk_cpu:.1f}x",
            flush=True,
        )

        add_delta(landing, generated)
        delta, delta_s, delta_cpu = _timed(lambda: ingest(settings))
        read = sum(t.rows_read for t in delta.tables)
        print(
            f"ingest one nightly delta: {read:,} rows in {delta_s:.2f} s (cpu {delta_cpu:.2f} s);"
            f" delta/full: rows {read / rows:.3f}, wall {delta_s / full_s:.2f}, "
            f"cpu {delta_cpu / full_cpu:.2f}; phases {delta.seconds}",
            flush=True,
        )
        _, noop_s, noop_cpu = _timed(lambda: ingest(settings))
        print(f"ingest no-op re-run: {noop_s:.2f} s (cpu {noop_cpu:.2f} s)", flush=True)
