"""The nightly dbt benchmark's comparison of an incremental build with a full refresh: exact
first, then rows that differ only in the last bits of a double paired off."""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks.bench_dbt_incremental import _beyond_tolerance, _differences


def _warehouse(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.kpi (location_id varchar, kpi varchar, value double)")
    if rows:
        con.executemany("insert into marts.kpi values (?, ?, ?)", rows)
    con.close()
    return path


def test_last_bit_differences_are_paired_off(tmp_path):
    full = _warehouse(
        tmp_path / "full.duckdb",
        [("LOC01", "show_rate", 0.3), ("LOC02", "show_rate", 0.5), ("LOC01", "nps", 40.0)],
    )
    incremental = _warehouse(
        tmp_path / "incremental.duckdb",
        [("LOC01", "show_rate", 0.1 + 0.2), ("LOC02", "show_rate", 0.5), ("LOC01", "nps", 40.0)],
    )
    # 0.1 + 0.2 != 0.3 exactly: one row each way differs, and the pair agrees to 1e-9
    assert _differences(incremental, full, ["marts.kpi"]) == {"marts.kpi": (2, 0)}


def test_a_real_difference_stays(tmp_path):
    full = _warehouse(tmp_path / "full.duckdb", [("LOC01", "show_rate", 0.3)])
    other_value = _warehouse(tmp_path / "value.duckdb", [("LOC01", "show_rate", 0.31)])
    other_key = _warehouse(tmp_path / "key.duckdb", [("LOC02", "show_rate", 0.3)])
    missing = _warehouse(tmp_path / "missing.duckdb", [])
    assert _differences(other_value, full, ["marts.kpi"]) == {"marts.kpi": (2, 2)}
    assert _differences(other_key, full, ["marts.kpi"]) == {"marts.kpi": (2, 2)}
    assert _differences(missing, full, ["marts.kpi"]) == {"marts.kpi": (1, 1)}
    assert _differences(full, full, ["marts.kpi"]) == {}


def test_each_row_pairs_once():
    # two left rows that both agree with the one right row of their key: only one pairs
    left = [("LOC01", 0.3), ("LOC01", 0.1 + 0.2)]
    right = [("LOC01", 0.3), ("LOC01", 0.7)]
    assert _beyond_tolerance(left, right) == 2
