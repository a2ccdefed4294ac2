"""The nightly dbt run: incremental after one day of deltas vs a full build of the same data.

Figures (one run, same machine, same data), wall and CPU seconds:
- a full `dbt run --full-refresh` on a `medspa generate` chain (scale from
  MEDSPA_BENCH_SCALE, default small), then `medspa generate --advance 1` + ingest;
- the incremental `dbt run` (big staging models merge the newer loads only, the facts compute
  only rows whose inputs changed since their load watermark, macros/loads.sql) and its
  slowest models, i.e. what dominates the nightly run, and the models slowest in the full
  refresh with their incremental / full seconds (which are still rebuilt in full);
- baseline: `dbt run --full-refresh` on the very same data; ratio = incremental / full;
- whether every incremental model (staging and facts) equals the full refresh: rows compared
  exactly, then doubles to 1e-9 relative (sums taken in another order differ in the last bits).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from benchmarks._pipeline import DbtTiming, advance_one_day, demo_chain_workspace, run_dbt_timed
from benchmarks.serving_diff import same_cell
from safeio.sqlquote import sql_str


def _incremental_relations(work: Path) -> list[str]:
    """`schema.table` of every model the project materialises incrementally (from the manifest)."""
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return sorted(
        f"{n['schema']}.{n['alias']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    )


def _differences(left: Path, right: Path, relations: list[str]) -> dict[str, tuple[int, int]]:
    """Per relation that differs: (rows in one and not the other, both ways; how many of those
    are left once rows that differ only in the last bits of a double are paired off).

    The exact comparison is `except all`; its differing rows (few) are then matched on every
    column that is not a double, and a pair whose doubles agree to 1e-9 relative counts as
    equal (`serving_diff.same_cell`): DuckDB sums on several threads in varying order, so an
    incremental build and a full one may differ there and nowhere else.
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach {sql_str(str(left))} as l (read_only)")
        con.execute(f"attach {sql_str(str(right))} as r (read_only)")
        found = {}
        for rel in relations:
            only_left = con.execute(
                f"select * from l.{rel} except all select * from r.{rel}"
            ).fetchall()
            only_right = con.execute(
                f"select * from r.{rel} except all select * from l.{rel}"
            ).fetchall()
            if only_left or only_right:
                found[rel] = (
                    len(only_left) + len(only_right),
                    _beyond_tolerance(only_left, only_right),
                )
        return found
    finally:
        con.close()


def _beyond_tolerance(only_left: list[tuple], only_right: list[tuple]) -> int:
    """Rows of the two sides' differences left unpaired once each left row is paired with a
    right row equal in every non-double column and within 1e-9 in every double."""
    if len(only_left) != len(only_right):
        return len(only_left) + len(only_right)

    def exact_part(row: tuple) -> tuple:
        return tuple(None if isinstance(v, float) else v for v in row)

    groups: dict[tuple, list[tuple]] = {}
    for row in only_right:
        groups.setdefault(exact_part(row), []).append(row)
    unpaired = 0
    for row in only_left:
        candidates = groups.get(exact_part(row), [])
        match = next(
            (c for c in candidates if all(same_cell(a, b) for a, b in zip(row, c, strict=True))),
            None,
        )
        if match is None:
            unpaired += 2
        else:
            candidates.remove(match)
    return unpaired


def _per_model(incremental: DbtTiming, full: DbtTiming, n: int) -> str:
    """The `n` models slowest in the full refresh: `name incremental/full` seconds, so a model
    that is still rebuilt in full every night stands out."""
    inc, ful = incremental.seconds_by_node(), full.seconds_by_node()
    ranked = sorted(ful, key=lambda name: -ful[name])[:n]
    return ", ".join(f"{name} {inc.get(name, 0.0):.1f}/{ful[name]:.1f}" for name in ranked)


def main() -> None:
    sizes = {"calls": "raw_phone.calls", "messages": "raw_messaging.messages"}
    with demo_chain_workspace("bench_dbt_incr_", "small", sizes) as (root, settings, work):
        run_dbt_timed(settings, work, "seed")
        first = run_dbt_timed(settings, work, "run", "--full-refresh")
        print(f"first full build: {first.wall:.1f} s wall, {first.cpu:.1f} s CPU")

        advance_one_day(settings)
        incremental = run_dbt_timed(settings, work, "run")
        after_incremental = root / "after_incremental.duckdb"
        shutil.copy(settings.warehouse_path, after_incremental)
        full = run_dbt_timed(settings, work, "run", "--full-refresh")
        print(
            f"incremental after one day: {incremental.wall:.1f} s wall, {incremental.cpu:.1f} s CPU"
        )
        print(f"  slowest models: {incremental.slowest(8)}")
        print(f"full refresh, same data:   {full.wall:.1f} s wall, {full.cpu:.1f} s CPU")
        print(f"  per model, incremental / full refresh: {_per_model(incremental, full, 12)}")
        print(
            f"ratio incremental / full: {incremental.wall / full.wall:.2f}x wall, "
            f"{incremental.cpu / full.cpu:.2f}x CPU"
        )
        compared = _incremental_relations(work)
        differing = _differences(after_incremental, settings.warehouse_path, compared)
        beyond = {rel: n for rel, (_, n) in differing.items() if n}
        print(
            f"incremental models equal to the full refresh ({len(compared)} compared, doubles "
            f"to 1e-9 relative): {not beyond}{f' {beyond}' if beyond else ''}"
        )
        if differing:
            last_bits = {rel: exact for rel, (exact, n) in differing.items() if not n}
            print(f"  rows differing only in the last bits of a double: {last_bits}")


if __name__ == "__main__":
    main()
