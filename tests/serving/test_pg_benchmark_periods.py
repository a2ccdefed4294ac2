"""Peer benchmarks are frozen per period in the serving database: one input set per period.

Its own database (`serving_bench`) and role prefix in the session's cluster. Six tenants
t1..t6 have `show_rate` 1..6 in one final week; the benchmarks step (`publish_benchmarks`,
what `medspa run --all-tenants` ends with) publishes them into `marts.kpi_benchmarks`. Each
test uses its own KPI name, so its periods are its own in the database's ledger, and its own
data directory, so only the database's ledger can hold a period to its first inputs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg
import pytest
from pg_fixtures import BI_PASSWORD

from medspa.settings import Settings
from orchestration.defs.publish.benchmarks import BenchmarkOutcome, publish_benchmarks
from serving import benchmark_periods, pg_roles, pg_tenant_offboard, pg_tenant_roles
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DATABASE = "serving_bench"
ROLES = pg_roles.ServingRoles("medspa_bp")
P2, P3 = dt.date(2026, 11, 2), dt.date(2026, 11, 9)
SIX = {f"t{i}": float(i) for i in range(1, 7)}
T1_PASSWORD = "t1-pw-" + BI_PASSWORD


@pytest.fixture(scope="module")
def bench_url(pg) -> str:
    owner_password = unquote(urlsplit(pg.url).password or "")
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, "medspa_owner", owner_password))
    return pg.url.replace("/serving?", f"/{DATABASE}?")


def _night(
    root: Path, url: str, kpi: str, values: dict[str, dict[dt.date, float]]
) -> BenchmarkOutcome:
    """One benchmarks run over a registry of `values`' tenants (tenant -> period -> value)."""
    lines = ["tenants:"]
    for tenant, periods in values.items():
        (root / "landing" / tenant).mkdir(parents=True, exist_ok=True)
        lines += [f"  - name: {tenant}", f"    landing: landing/{tenant}", "    demo: true"]
        _serving(root / "data" / "tenants" / tenant / "serving.duckdb", kpi, periods)
    (root / "tenants.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = Settings(
        data_dir=root / "data",
        landing_dir=root / "landing",
        tenants_file=root / "tenants.yml",
        serving_url=url,
        serving_role_prefix=ROLES.prefix,
    )
    outcome = publish_benchmarks(base)
    assert outcome.failures == {}
    return outcome


def _serving(path: Path, kpi: str, periods: dict[dt.date, float]) -> None:
    """A tenant's serving file holding its final chain-wide weekly `kpi` per period."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_scorecard (grain varchar, period_start date, "
        "location_id varchar, kpi varchar, value double, is_final boolean)"
    )
    con.executemany(
        "insert into marts.kpi_scorecard values ('week', ?, '_all', ?, ?, true)",
        [(p, kpi, v) for p, v in periods.items()],
    )
    con.close()


def _served(url: str, tenant: str, kpi: str) -> list[tuple]:
    """The tenant's rows of `kpi` in marts.kpi_benchmarks (as the owner sees them)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "select period_start, peers, p25, p50, p75, own_value, own_percentile_rank "
            "from marts.kpi_benchmarks where tenant_id = %s and kpi = %s",
            [tenant, kpi],
        ).fetchall()


def _week(values: dict[str, float], period: dt.date = P2) -> dict[str, dict[dt.date, float]]:
    return {t: {period: v} for t, v in values.items()}


def test_a_period_whose_peer_set_shrinks_is_withheld_and_offboarding_keeps_the_record(
    bench_url, tmp_path
):
    kpi = "show_rate_a"
    first = _night(tmp_path / "n1", bench_url, kpi, _week(SIX))
    assert first.withheld == [] and first.rows == dict.fromkeys(SIX, 1)
    # Values 1..6: the Harrell-Davis median of a symmetric sample is its centre, 3.5; t3 is
    # the 3rd of 6: percent_rank (3 - 1) / (6 - 1) = 0.4.
    [(period, peers, p25, p50, p75, own, rank)] = _served(bench_url, "t3", kpi)
    assert (period, peers, own, rank) == (P2, 6, 3.0, 0.4)
    assert p50 == pytest.approx(3.5, abs=1e-12) and p25 + p75 == pytest.approx(7.0, abs=1e-12)

    # t6 is offboarded; the same week now has five peers: three more equations would solve
    # every peer's value, so that week is withheld for everyone.
    pg_tenant_offboard.remove_tenant(bench_url, "t6", roles=ROLES)
    five = {t: v for t, v in SIX.items() if t != "t6"}
    second = _night(tmp_path / "n2", bench_url, kpi, _week(five))
    assert second.withheld == [f"{kpi}/week 2026-11-02: its peer set changed since first published"]
    assert second.rows == dict.fromkeys(five, 0)
    assert all(_served(bench_url, t, kpi) == [] for t in five)
    tenant_file = tmp_path / "n2" / "data" / "tenants" / "t1" / "peer_benchmarks.duckdb"
    with duckdb.connect(str(tenant_file), read_only=True) as con:
        assert con.execute("select count(*) from kpi_benchmarks").fetchone() == (0,)

    # The record is hashes only (no tenant name or value) and survives the offboarding.
    with psycopg.connect(bench_url, autocommit=True) as conn:
        recorded = conn.execute(
            "select peer_set, inputs from medspa_admin.benchmark_periods "
            "where kpi = %s and grain = 'week' and period_start = %s",
            [kpi, P2],
        ).fetchall()
    six_hash = benchmark_periods._sha256("\n".join(sorted(SIX)))
    assert [r[0] for r in recorded] == [six_hash]
    assert all(len(h) == 64 and "t6" not in h for h in recorded[0])


def test_the_same_peers_and_values_republish_identical_figures(bench_url, tmp_path):
    kpi = "show_rate_b"
    _night(tmp_path / "n1", bench_url, kpi, _week(SIX))
    before = {t: _served(bench_url, t, kpi) for t in SIX}
    again = _night(tmp_path / "n2", bench_url, kpi, _week(SIX))
    assert again.withheld == []
    assert {t: _served(bench_url, t, kpi) for t in SIX} == before
    assert before["t6"][0][5:] == (6.0, 1.0)  # the highest: its own value, rank 1


def test_a_restated_peer_value_withholds_the_period(bench_url, tmp_path):
    kpi = "show_rate_c"
    _night(tmp_path / "n1", bench_url, kpi, _week(SIX))
    restated = {**SIX, "t4": 4.5}  # same six tenants, one value changed
    second = _night(tmp_path / "n2", bench_url, kpi, _week(restated))
    assert second.withheld == [
        f"{kpi}/week 2026-11-02: a peer's value changed since first published"
    ]
    assert all(_served(bench_url, t, kpi) == [] for t in SIX)


def test_the_next_period_with_its_own_peer_set_is_published(bench_url, tmp_path):
    kpi = "show_rate_d"
    _night(tmp_path / "n1", bench_url, kpi, _week(SIX))
    # A week later t6 is gone and the other five have a final P3: P3's first publish is from
    # five peers, values 1..5: median 3 (symmetric sample); t3, the 3rd of 5, ranks 2/4 = 0.5.
    five = {t: {P2: v, P3: v} for t, v in SIX.items() if t != "t6"}
    second = _night(tmp_path / "n2", bench_url, kpi, five)
    assert second.withheld == []
    [(period, peers, p25, p50, p75, own, rank)] = _served(bench_url, "t3", kpi)
    assert (period, peers, own, rank) == (P3, 5, 3.0, 0.5)
    assert p50 == pytest.approx(3.0, abs=1e-12) and p25 + p75 == pytest.approx(6.0, abs=1e-12)


def test_a_tenant_login_sees_its_rows_but_not_the_ledger(bench_url, tmp_path):
    kpi = "show_rate_e"
    _night(tmp_path / "n1", bench_url, kpi, _week(SIX))
    with psycopg.connect(bench_url, autocommit=True) as conn:
        pg_tenant_roles.add_tenant_login(conn, "t1", T1_PASSWORD, ROLES)
    login = with_user(bench_url, pg_tenant_roles.tenant_role("t1", ROLES), T1_PASSWORD)
    with psycopg.connect(login, autocommit=True) as conn:
        rows = conn.execute(
            "select own_value from marts.kpi_benchmarks where kpi = %s", [kpi]
        ).fetchall()
        assert rows == [(1.0,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from medspa_admin.benchmark_periods")
