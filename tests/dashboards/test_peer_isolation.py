"""A tenant's pages show the peers' aggregates and its own values, never another tenant's.

Six tenants of one registry, each a copy of the full-shape fixture whose location names and
newest final chain-wide week of net revenue and MRR are made the tenant's own. Three of them
have a built site (the others never published one). The benchmarks step (`publish_benchmarks`,
what `kpi_benchmarks` and the end of `medspa run --all-tenants` run) then re-renders those
sites; every HTML file of each site is searched for every other tenant's name, location names
and distinctive values.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dashboards import build_site
from dashboards.formatting import fmt
from medspa.settings import Settings

#: tenant -> (display word in its location names, net revenue, MRR) of its newest final week.
#: Values chosen so that no two round to the same dollars and no quartile equals any of them.
TENANTS = {
    "harbor-aesthetics": ("Harbor", 41234.4, 17111.3),
    "summit-skin": ("Summit", 43876.2, 17522.8),
    "willow-medspa": ("Willow", 45012.7, 18333.1),
    "cedar-clinic": ("Cedar", 47333.1, 18944.6),
    "lumen-derm": ("Lumen", 49871.3, 19555.2),
    "aurora-glow": ("Aurora", 52468.2, 20166.7),
}
WITH_SITE = ("harbor-aesthetics", "willow-medspa", "aurora-glow")

_OWN_WEEK = """
update marts.kpi_scorecard set value = ?
where kpi = ? and grain = 'week' and location_id = '_all' and period_start = (
    select max(period_start) from marts.kpi_scorecard
    where kpi = ? and grain = 'week' and location_id = '_all' and is_final
)
"""


def _tenant_serving(fixture: Path, path: Path, word: str, revenue: float, mrr: float) -> None:
    path.parent.mkdir(parents=True)
    shutil.copy(fixture, path)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "update marts.dim_locations set location_name = ? || ' ' || location_name", [word]
        )
        con.execute(_OWN_WEEK, [revenue, "net_revenue", "net_revenue"])
        con.execute(_OWN_WEEK, [mrr, "mrr", "mrr"])
    finally:
        con.close()


@pytest.fixture(scope="module")
def deployment(fixture_serving: Path, tmp_path_factory: pytest.TempPathFactory):
    """Six tenants' serving files, three built sites, then the benchmarks step."""
    from orchestration.defs.publish.benchmarks import publish_benchmarks

    root = tmp_path_factory.mktemp("peers")
    base = _six_tenants(fixture_serving, root)
    for name in WITH_SITE:  # the tenant's own nightly run: built before any benchmark
        serving = base.data_dir / "tenants" / name / "serving.duckdb"
        assert build_site(serving, serving.parent / "site").ok
    return base.data_dir, publish_benchmarks(base)


def _six_tenants(fixture: Path, root: Path) -> Settings:
    """A registry of the six `TENANTS` under `root`, each with its own serving file."""
    lines = ["tenants:"]
    for name in TENANTS:
        (root / "landing" / name).mkdir(parents=True)
        lines += [f"  - name: {name}", f"    landing: landing/{name}", "    demo: true"]
    registry = root / "tenants.yml"
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = root / "data"
    for name, (word, revenue, mrr) in TENANTS.items():
        _tenant_serving(fixture, data / "tenants" / name / "serving.duckdb", word, revenue, mrr)
    return Settings(data_dir=data, landing_dir=root / "landing", tenants_file=registry)


def _site_text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html")))


def _distinctive(name: str) -> list[str]:
    """What would give tenant `name` away: its name, location names and own values."""
    word, revenue, mrr = TENANTS[name]
    found = [name, f"{word} Austin", f"{word} Boston"]
    for value in (revenue, mrr):
        found += [fmt(value, "usd0"), fmt(value, "usd"), repr(value), f"{value:.0f}"]
    return found


def test_benchmarks_step_refreshes_every_built_site(deployment):
    data, outcome = deployment
    assert outcome.failures == {}
    assert sorted(outcome.refreshed) == sorted(WITH_SITE)
    assert all(n > 0 for n in outcome.rows.values())  # six tenants >= 5: all benchmarked
    for name in TENANTS:
        assert (data / "tenants" / name / "peer_benchmarks.duckdb").is_file()
        assert (data / "tenants" / name / "site").is_dir() == (name in WITH_SITE)


def test_flash_shows_the_hand_worked_standing_among_six_peers(deployment):
    data = deployment[0]
    flash = (data / "tenants" / "harbor-aesthetics" / "site" / "weekly_flash.html").read_text()
    # Net revenues sorted: 41234.4 (harbor) 43876.2 45012.7 47333.1 49871.3 52468.2.
    # Harrell-Davis median of six: weights I_{i/6}(3.5, 3.5) - I_{(i-1)/6}(3.5, 3.5) =
    # 0.0249336, 0.165423, 0.3096434, 0.3096434, 0.165423, 0.0249336 (symmetric), so
    # 0.0249336 * (41234.4 + 52468.2) + 0.165423 * (43876.2 + 49871.3)
    # + 0.3096434 * (45012.7 + 47333.1) = 2336.34 + 15507.99 + 28594.27 = 46438.60 -> "$46,439"
    # (the usual median, 46172.9, is two peers' mean); harbor is the lowest.
    assert "Net revenue</strong>: lowest of 6 peers (peer median $46,439)" in flash
    aurora = (data / "tenants" / "aurora-glow" / "site" / "weekly_flash.html").read_text()
    assert "Net revenue</strong>: highest of 6 peers (peer median $46,439)" in aurora
    willow = (data / "tenants" / "willow-medspa" / "site" / "weekly_flash.html").read_text()
    # willow is the 3rd of 6: percent_rank (3 - 1) / (6 - 1) = 0.4 -> "40th"
    assert "Net revenue</strong>: 40th percentile of 6 peers (peer median $46,439)" in willow
    # MRR, the same weights: 0.0249336 * (17111.3 + 20166.7) + 0.165423 * (17522.8 + 19555.2)
    # + 0.3096434 * (18333.1 + 18944.6) = 929.47 + 6133.55 + 11542.79 = 18605.81 -> "$18,606"
    assert "MRR</strong>: 40th percentile of 6 peers (peer median $18,606)" in willow


@pytest.mark.parametrize("name", WITH_SITE)
def test_a_tenants_site_never_holds_another_tenants_name_or_values(deployment, name):
    text = _site_text(deployment[0] / "tenants" / name / "site")
    word, revenue, _ = TENANTS[name]
    assert f"{word} Austin" in text and fmt(revenue, "usd0") in text  # its own are there
    for other in TENANTS:
        if other != name:
            leaked = [s for s in _distinctive(other) if s in text]
            assert not leaked, f"{name}'s site shows {other}'s {leaked}"


def test_without_a_registry_there_is_nothing_to_compare(fixture_serving, tmp_path):
    from orchestration.defs.publish.benchmarks import publish_benchmarks

    shutil.copy(fixture_serving, tmp_path / "serving.duckdb")
    outcome = publish_benchmarks(Settings(data_dir=tmp_path, landing_dir=tmp_path / "landing"))
    assert (outcome.rows, outcome.refreshed, outcome.failures) == ({}, [], {})
    assert not (tmp_path / "peer_benchmarks.duckdb").exists()


def test_a_tenant_whose_run_is_going_on_is_left_for_the_next_benchmarks_run(
    fixture_serving, tmp_path
):
    """The benchmarks job re-renders pages in the folder a tenant's running site step is
    replacing: with that tenant's run lock held elsewhere, its site and file are left alone and
    the failure says why; every other tenant is served."""
    from orchestration.defs.publish.benchmarks import publish_benchmarks
    from tests.orchestration.holders import HOLD_RUN_LOCK, held

    base = _six_tenants(fixture_serving, tmp_path)
    data = base.data_dir
    busy = data / "tenants" / "willow-medspa"
    with held(HOLD_RUN_LOCK, busy):
        outcome = publish_benchmarks(base)
    assert list(outcome.failures) == ["willow-medspa"]
    assert "the tenant's next run" in outcome.failures["willow-medspa"]
    assert not (busy / "peer_benchmarks.duckdb").exists()
    others = [n for n in TENANTS if n != "willow-medspa"]
    assert all((data / "tenants" / n / "peer_benchmarks.duckdb").is_file() for n in others)
