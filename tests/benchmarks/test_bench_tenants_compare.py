"""The tenants benchmark's proof of equal results, and how it reads per-tenant run times."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from benchmarks.bench_tenants import compare_tenants, tenant_seconds
from benchmarks.serving_diff import diff_marts, same_cell
from medspa.commands.run_tenants import TenantOutcome, summary_text

_SCHEMA = """
create schema marts;
create table marts.kpi_scorecard (kpi varchar, period_start date, value double, n integer);
create table marts.dim_locations (location_id varchar, location_name varchar);
insert into marts.dim_locations values ('LOC01', 'Austin'), ('LOC02', 'Boston');
"""


def _serving(path: Path, values: list[tuple[str, str, float | None, int]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(_SCHEMA)
    con.executemany("insert into marts.kpi_scorecard values (?, ?::date, ?, ?)", values)
    con.close()
    return path


ROWS = [("show_rate", "2026-11-02", 0.1 + 0.2, 7), ("nps", "2026-11-02", None, 3)]


def test_doubles_equal_to_one_part_in_a_billion():
    assert same_cell(0.1 + 0.2, 0.3)  # differs in the last bit only
    assert same_cell(1e6, 1e6 * (1 + 5e-10)) and not same_cell(1e6, 1e6 * (1 + 2e-9))
    assert same_cell(0.0, 1e-13) and not same_cell(0.0, 1e-6)
    assert same_cell(None, None) and not same_cell(1, 2) and not same_cell("a", "b")


def test_same_results_in_another_row_order_and_last_bits_are_equal(tmp_path):
    left = _serving(tmp_path / "a.duckdb", ROWS)
    right = _serving(tmp_path / "b.duckdb", [ROWS[1], ("show_rate", "2026-11-02", 0.3, 7)])
    assert diff_marts(left, right) == []


def test_every_kind_of_difference_is_named_without_values(tmp_path):
    left = _serving(tmp_path / "a.duckdb", ROWS)
    changed = _serving(tmp_path / "b.duckdb", [ROWS[0], ("nps", "2026-11-02", 41.5, 3)])
    assert diff_marts(left, changed) == ["kpi_scorecard: column value differs in 1 of 2 rows"]
    fewer = _serving(tmp_path / "c.duckdb", ROWS[:1])
    assert diff_marts(left, fewer) == ["kpi_scorecard: 2 rows against 1"]
    extra = _serving(tmp_path / "d.duckdb", ROWS)
    with duckdb.connect(str(extra)) as con:
        con.execute("create table marts.kpi_alerts (kpi varchar)")
    assert diff_marts(left, extra) == [f"kpi_alerts: only in {extra}"]
    assert all("41.5" not in d for d in diff_marts(left, changed))


def test_compare_tenants_raises_naming_the_tenant_that_differs(tmp_path):
    for run in ("serial", "parallel"):
        _serving(tmp_path / run / "tenants" / "demo-1" / "serving.duckdb", ROWS)
    _serving(tmp_path / "serial" / "tenants" / "demo-2" / "serving.duckdb", ROWS)
    _serving(tmp_path / "parallel" / "tenants" / "demo-2" / "serving.duckdb", ROWS[:1])
    assert compare_tenants(tmp_path / "serial", tmp_path / "parallel", ["demo-1"]) == {"demo-1": 2}
    with pytest.raises(AssertionError, match="demo-2: kpi_scorecard: 2 rows against 1"):
        compare_tenants(tmp_path / "serial", tmp_path / "parallel", ["demo-1", "demo-2"])


def test_tenant_run_times_are_read_from_the_all_tenants_summary(tmp_path):
    outcomes = [
        TenantOutcome("demo-1", 0, 41.25, tmp_path / "r1.txt"),
        TenantOutcome("demo-2", 1, 12.5, tmp_path / "r2.txt"),
    ]
    text = summary_text(outcomes, 60.0)
    # summary_text rounds to 0.1 s: 41.25 -> "41.2" (round half to even), 12.5 -> "12.5"
    assert tenant_seconds(text) == {"demo-1": 41.2, "demo-2": 12.5}


def test_the_loaders_wall_clock_is_not_a_result(tmp_path):
    """data_coverage.last_loaded_at says when a run loaded a table: it differs between any
    two runs of the same data, so it is left out; its other columns still count."""
    paths = []
    for name, loaded, rows in (("a", "2026-12-01 02:00", 5), ("b", "2026-12-01 03:17", 5)):
        path = _serving(tmp_path / f"{name}.duckdb", ROWS)
        with duckdb.connect(str(path)) as con:
            con.execute(
                "create table marts.data_coverage (table_name varchar, rows_loaded integer, "
                "last_loaded_at timestamptz)"
            )
            con.execute(
                "insert into marts.data_coverage values ('pms.appointments', ?, ?)", [rows, loaded]
            )
        paths.append(path)
    assert diff_marts(*paths) == []
    with duckdb.connect(str(paths[1])) as con:
        con.execute("update marts.data_coverage set rows_loaded = 6")
    assert diff_marts(*paths) == ["data_coverage: column rows_loaded differs in 1 of 1 rows"]
