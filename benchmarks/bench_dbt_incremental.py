"""The incremental facts: incremental build after one nightly delta vs a full refresh.

Figures (one run, same machine, same data):
- the facts' execution time (dbt's run_results, parse excluded) when built from scratch
  on a `medspa generate` chain (scale from MEDSPA_BENCH_SCALE, default small);
- after `medspa generate --advance 1` + ingest: the incremental build (writes only the rows
  whose inputs changed since they were built, macros/incremental.sql) and, as the baseline on
  the very same data, a --full-refresh of the same models; ratio = incremental / full;
- whether both give identical tables (they must).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from benchmarks._pipeline import advance_one_day, load_demo_chain, run_dbt
from medspa.settings import Settings

FACTS = ("fct_appointments", "fct_invoice_lines", "fct_calls", "fct_messages")


def _dbt(settings: Settings, work: Path, *args: str) -> dict[str, float]:
    """Execution seconds of the facts in one dbt command, from run_results.json."""
    _, results = run_dbt(settings, work, *args)
    return {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results
        if r["unique_id"].split(".")[-1] in FACTS
    }


def _snapshot(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {f: con.execute(f"select * from marts.{f} order by all").fetchall() for f in FACTS}
    finally:
        con.close()


def main() -> None:
    scale = os.environ.get("MEDSPA_BENCH_SCALE", "small")
    with tempfile.TemporaryDirectory(prefix="bench_dbt_incr_") as tmp:
        root = Path(tmp)
        settings = Settings.from_env(data_dir=root / "data", landing_dir=root / "landing")
        work = root / "dbt"
        loaded = load_demo_chain(settings, scale)
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        calls = con.execute("select count(*) from raw_phone.calls").fetchone()[0]
        messages = con.execute("select count(*) from raw_messaging.messages").fetchone()[0]
        con.close()
        print(
            f"scale={scale}: {calls:,} calls, {messages:,} messages "
            f"(generate + ingest {loaded:.1f} s)"
        )
        select = ["--select", *(f"+{fact}" for fact in FACTS)]
        first = _dbt(settings, work, "run", *select, "--full-refresh")
        print("first build: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(first.items())))

        advance_one_day(settings)
        incremental = _dbt(settings, work, "run", *select)
        after_incremental = _snapshot(settings.warehouse_path)
        full = _dbt(settings, work, "run", "--select", *FACTS, "--full-refresh")
        identical = after_incremental == _snapshot(settings.warehouse_path)
        for fact in FACTS:
            print(
                f"{fact}: incremental {incremental[fact]:.2f} s, full refresh {full[fact]:.2f} s, "
                f"ratio incremental / full {incremental[fact] / full[fact]:.2f}x"
            )
        print(f"incremental tables identical to the full refresh: {identical}")


if __name__ == "__main__":
    main()
