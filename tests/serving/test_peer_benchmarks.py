"""Peer benchmarks: percentiles across tenants, each tenant's own rank, never fewer than 5 peers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from serving import peer_benchmarks

P2, P3 = dt.date(2026, 11, 2), dt.date(2026, 11, 9)


def _serving(path: Path, rows: list[tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_scorecard (grain varchar, period_start date, "
        "location_id varchar, kpi varchar, value double, is_final boolean)"
    )
    con.executemany("insert into marts.kpi_scorecard values (?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return path


@pytest.fixture
def six_tenants(tmp_path: Path) -> dict[str, Path]:
    """Tenants t1..t6 with `show_rate` 1..6 in week P2; only t1..t4 have a final P3;
    `nps` exists for four tenants only; a location row and a non-final row must be ignored."""
    paths = {}
    for i in range(1, 7):
        rows = [
            ("week", P2, "_all", "show_rate", float(i), True),
            ("week", P2, "LOC01", "show_rate", 100.0 + i, True),  # a location, not the chain
            ("week", P3, "_all", "show_rate", 50.0, i <= 4),  # final for 4 tenants only
        ]
        if i <= 4:
            rows.append(("week", P2, "_all", "nps", float(i), True))
        paths[f"t{i}"] = _serving(tmp_path / f"t{i}" / "serving.duckdb", rows)
    return paths


def test_percentiles_and_own_rank_on_the_newest_period_with_five_peers(six_tenants):
    result = peer_benchmarks.compute(six_tenants)
    # Values 1..6: quantile_cont at 0.25 sits at position 0.25 * 5 = 1.25 -> 2 + 0.25 = 2.25;
    # the median at 2.5 -> 3.5; 0.75 at 3.75 -> 4.75. P3 has 4 final values: not published.
    # t3's rank: (3 - 1) / (6 - 1) = 0.4 (percent_rank).
    assert result["t3"] == [("show_rate", "week", P2, 6, 2.25, 3.5, 4.75, 3.0, 0.4)]
    assert [r[-1] for t in ("t1", "t6") for r in result[t]] == [0.0, 1.0]


def test_no_benchmark_from_fewer_than_five_tenants(six_tenants):
    result = peer_benchmarks.compute(six_tenants)
    assert all(r[0] != "nps" for rows in result.values() for r in rows)  # only 4 tenants have it
    five = dict(list(six_tenants.items())[:4])
    assert peer_benchmarks.compute(five) == {t: [] for t in five}


def test_each_tenant_file_holds_its_own_value_only(six_tenants, tmp_path):
    result = peer_benchmarks.compute(six_tenants)
    out = tmp_path / "t2" / "peer_benchmarks.duckdb"
    peer_benchmarks.write(out, result["t2"])
    con = duckdb.connect(str(out), read_only=True)
    rows = con.execute("select own_value, peers from kpi_benchmarks").fetchall()
    tables = con.execute("select table_name from information_schema.tables").fetchall()
    con.close()
    assert rows == [(2.0, 6)] and tables == [("kpi_benchmarks",)]
