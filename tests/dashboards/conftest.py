"""Fixtures for the dashboard tests: a hand-made three-KPI serving DB and a page builder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dash_serving_fixture import make_serving_db

from dashboards import SiteReport, build_site
from tests.run_once import once, shared_dir

TINY_SQL = """
create schema marts;
create table marts.dim_locations (location_id varchar, location_name varchar);
insert into marts.dim_locations values ('loc_a', 'Austin'), ('loc_b', 'Boston');
create table marts.kpi_targets (kpi varchar, label varchar, unit varchar, direction varchar);
insert into marts.kpi_targets values
    ('net_revenue', 'Net revenue', 'usd', 'higher_is_better'),
    ('gross_margin', 'Gross margin', 'ratio', 'higher_is_better');
create table marts.kpi_scorecard (
    grain varchar, period_start date, location_id varchar, kpi varchar, value double,
    target_low double, target_high double, status varchar, is_final boolean,
    baseline_12m double, change_vs_prior double, patient_key varchar
);
insert into marts.kpi_scorecard values
    ('week', date '2026-11-09', 'loc_a', 'net_revenue', 1200, null, null, 'no_target', true,
     1000, 200, 'pk1'),
    ('week', date '2026-11-09', 'loc_b', 'net_revenue', 800, null, null, 'no_target', true,
     900, -50, 'pk2'),
    ('week', date '2026-11-09', 'loc_a', 'gross_margin', 0.70, 0.75, null, 'below', true,
     0.72, -0.02, 'pk3');
"""


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two locations, three scorecard rows: net revenue 1200 + 800 = 2000 chain-wide."""
    path = tmp_path_factory.mktemp("tiny") / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TINY_SQL)
    con.close()
    return path


@pytest.fixture
def build_pages(tiny_db: Path, tmp_path: Path) -> Callable[[dict[str, str]], SiteReport]:
    """Write the given pages (name -> markdown) to a folder and build them on `tiny_db`."""

    def build(pages: dict[str, str]) -> SiteReport:
        pages_dir = tmp_path / "pages"
        pages_dir.mkdir(exist_ok=True)
        for name, text in pages.items():
            (pages_dir / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return build_site(tiny_db, tmp_path / "site", pages_dir=pages_dir)

    return build


@pytest.fixture(scope="session")
def fixture_serving(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The full-shape serving DB (every mart the shipped pages read), built once per run.

    Built under a file lock (`run_once`): the shipped-page and browser tests may land on
    either xdist worker, and only the first builds it.
    """
    shared = shared_dir(tmp_path_factory, worker_id)
    path = shared / "dash-serving" / "serving.duckdb"

    def build() -> Path:
        path.parent.mkdir(exist_ok=True)
        return make_serving_db(path)

    return once(shared, "dash-serving", build)


@pytest.fixture(scope="session")
def shipped_site(
    fixture_serving: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> SiteReport:
    """The shipped pages built once per run on the full-shape fixture (read-only for tests)."""
    shared = shared_dir(tmp_path_factory, worker_id)
    return once(shared, "dash-site", lambda: build_site(fixture_serving, shared / "dash-site"))
