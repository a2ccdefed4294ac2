"""Peer benchmarks: percentiles across tenants, each tenant's own rank, never fewer than 5 peers."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from serving import benchmark_periods, peer_benchmarks

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
    # Values 1..6, symmetric around 3.5, and so are the Harrell-Davis weights of the median
    # (Beta(3.5, 3.5)) and of p25 against p75 (Beta(1.75, 5.25) mirrors Beta(5.25, 1.75)):
    # p50 = 3.5 and p25 + p75 = 7. Each mixes every value, so p25 lies strictly between 1 and
    # 3.5 and equals no value. P3 has 4 final values: not published. t3's rank: (3 - 1) / (6 - 1)
    # = 0.4 (percent_rank).
    [(kpi, grain, period, peers, p25, p50, p75, own, rank)] = result["t3"]
    assert (kpi, grain, period, peers, own, rank) == ("show_rate", "week", P2, 6, 3.0, 0.4)
    assert p50 == pytest.approx(3.5, abs=1e-12)
    assert p25 + p75 == pytest.approx(7.0, abs=1e-12)
    assert 1.0 < p25 < 3.5 and all(abs(p25 - v) > 1e-6 for v in range(1, 7))
    assert [r[-1] for t in ("t1", "t6") for r in result[t]] == [0.0, 1.0]


def test_the_median_of_five_is_a_weighted_mean_of_all_five(tmp_path):
    """Values 100, 200, 300, 400, 1000. For the median, a = b = (5 + 1) / 2 = 3, and the Beta(3, 3)
    CDF is 10x^3 - 15x^4 + 6x^5: at 0.2, 0.4, 0.6, 0.8 it is 0.05792, 0.31744, 0.68256, 0.94208,
    so the weights are 0.05792, 0.25952, 0.36512, 0.25952, 0.05792. The median is
    5.792 + 51.904 + 109.536 + 103.808 + 57.92 = 328.96 (the usual median would be 300: the
    middle tenant's own value)."""
    values = {"a": 100.0, "b": 200.0, "c": 300.0, "d": 400.0, "e": 1000.0}
    paths = {
        t: _serving(tmp_path / t / "serving.duckdb", [("month", P2, "_all", "nps", v, True)])
        for t, v in values.items()
    }
    result = peer_benchmarks.compute(paths)
    assert result["a"][0][5] == pytest.approx(328.96, abs=1e-9)


def test_no_published_percentile_is_one_peers_value(tmp_path):
    """With five tenants the usual percentiles are exactly the 2nd, 3rd and 4th values: the
    lowest tenant would read three peers' figures off its own file."""
    values = {"t1": 187_450.0, "t2": 230_900.0, "t3": 412_300.0, "t4": 98_000.0, "t5": 505_000.0}
    paths = {
        t: _serving(tmp_path / t / "serving.duckdb", [("month", P2, "_all", "net_rev", v, True)])
        for t, v in values.items()
    }
    result = peer_benchmarks.compute(paths)
    for tenant, rows in result.items():
        [(_, _, _, peers, *percentiles, own, _)] = rows
        assert peers == 5 and own == values[tenant]
        others = [v for t, v in values.items() if t != tenant]
        assert all(abs(p - v) > 1.0 for p in percentiles for v in others), tenant


def test_no_benchmark_from_fewer_than_five_tenants(six_tenants):
    result = peer_benchmarks.compute(six_tenants)
    assert all(r[0] != "nps" for rows in result.values() for r in rows)  # only 4 tenants have it
    five = dict(list(six_tenants.items())[:4])
    assert peer_benchmarks.compute(five) == {t: [] for t in five}


def test_a_deployment_with_too_few_tenants_records_nothing(six_tenants, tmp_path):
    """Four tenants make no benchmark: the freeze records and withholds nothing (it failed on
    an empty batch, failing every run of a deployment of fewer than five tenants)."""
    ledger = [benchmark_periods.DuckDbLedger(tmp_path / "ledger" / "periods.duckdb")]
    four = dict(list(six_tenants.items())[:4])
    assert benchmark_periods.freeze(peer_benchmarks.benchmarks(four), ledger) == ([], [])
    assert not (tmp_path / "ledger").exists()


def test_each_tenant_file_holds_its_own_value_only(six_tenants, tmp_path):
    result = peer_benchmarks.compute(six_tenants)
    out = tmp_path / "t2" / "peer_benchmarks.duckdb"
    peer_benchmarks.write(out, result["t2"])
    con = duckdb.connect(str(out), read_only=True)
    rows = con.execute("select own_value, peers from kpi_benchmarks").fetchall()
    tables = con.execute("select table_name from information_schema.tables").fetchall()
    con.close()
    assert rows == [(2.0, 6)] and tables == [("kpi_benchmarks",)]


def test_a_period_is_published_from_its_first_peers_and_values_only(six_tenants, tmp_path):
    """Without a serving database the data directory's ledger holds each period to its first
    inputs: the same tenants and values publish again, five of the six or a restated value
    withhold the week, and the recorded peer set is a hash of the six names."""
    ledger = [benchmark_periods.DuckDbLedger(tmp_path / "ledger" / "periods.duckdb")]
    first, none = benchmark_periods.freeze(peer_benchmarks.benchmarks(six_tenants), ledger)
    assert [b.key for b in first] == [("show_rate", "week", P2)] and none == []
    again, none = benchmark_periods.freeze(peer_benchmarks.benchmarks(six_tenants), ledger)
    assert again == first and none == []

    five = {t: p for t, p in six_tenants.items() if t != "t6"}
    kept, withheld = benchmark_periods.freeze(peer_benchmarks.benchmarks(five), ledger)
    assert kept == []
    assert [str(w) for w in withheld] == [
        "show_rate/week 2026-11-02: its peer set changed since first published"
    ]

    con = duckdb.connect(str(six_tenants["t2"]))  # t2's week restated from 2 to 2.5
    con.execute("update marts.kpi_scorecard set value = 2.5 where kpi = 'show_rate' and value = 2")
    con.close()
    kept, withheld = benchmark_periods.freeze(peer_benchmarks.benchmarks(six_tenants), ledger)
    assert kept == []
    assert [w.reason for w in withheld] == ["a peer's value changed since first published"]

    con = duckdb.connect(str(tmp_path / "ledger" / "periods.duckdb"), read_only=True)
    [(peer_set,)] = con.execute("select peer_set from benchmark_periods").fetchall()
    con.close()
    six_names = "t1\nt2\nt3\nt4\nt5\nt6"
    assert peer_set == hashlib.sha256(six_names.encode()).hexdigest()


def test_last_bit_noise_in_a_recomputed_value_changes_no_figure():
    """0.1 + 0.2 is 0.30000000000000004 in binary floating point; added in another order the
    same KPI is 0.3. To 12 significant digits both are 0.3, so a recomputed night hashes and
    publishes the same; a cent's restatement of $412,300.00 is kept (412300.01 has 8 digits)."""
    assert peer_benchmarks.canonical(0.1 + 0.2) == peer_benchmarks.canonical(0.3) == 0.3
    assert peer_benchmarks.canonical(412_300.01) == 412_300.01
