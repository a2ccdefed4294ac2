"""Session fixtures for the dbt tests: each warehouse is built once and shared.

Two raw layers: a seeded two-location chain (`dbt_core_chain`) for the clinic's core facts and
incremental builds, and a tiny hand-checked clinic (`engagement_fixture`) for identity matching
across silos and the engagement KPIs. dbt runs in a subprocess (`dbt_runner`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dbt_core_chain import Chain, apply_delta, build_chain, write_raw
from dbt_runner import PROJECT, dbt
from engagement_fixture import SELECTION as ENGAGEMENT_SELECTION
from engagement_fixture import write_raw as write_engagement_raw


def newest_builds(warehouse: Path) -> dict[str, bool]:
    """Per incremental model, whether its newest build was incremental (test_scope.sql records
    a build as incremental when its delete+insert strategy ran in that invocation)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select model_name, max_by(incremental, build_seq) from dbt_state.model_builds "
            "group by model_name"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def write_chain(path: Path, *chains: Chain) -> Path:
    """A raw layer holding the given snapshots/deltas applied in order."""
    con = duckdb.connect(str(path))
    try:
        for chain in chains:
            write_raw(con, chain)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def base_chain() -> Chain:
    return build_chain()


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, base_chain: Chain) -> Path:
    """The synthetic chain after a full `dbt build` (models, seeds, data and unit tests)."""
    work = tmp_path_factory.mktemp("dbt_core_built")
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["build"], warehouse, work)
    return warehouse


@pytest.fixture(scope="session")
def engagement_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engagement clinic's raw layer only (a pristine copy tests may duplicate and modify)."""
    return write_engagement_raw(tmp_path_factory.mktemp("engagement_raw") / "raw.duckdb")


@pytest.fixture(scope="session")
def engagement_built(tmp_path_factory: pytest.TempPathFactory, engagement_raw: Path) -> Path:
    """The engagement clinic after building the engagement marts and their ancestors.

    Seeds and models only: the project's data and unit tests run in `built_warehouse`.
    """
    work = tmp_path_factory.mktemp("engagement_built")
    warehouse = work / "warehouse.duckdb"
    shutil.copy(engagement_raw, warehouse)
    dbt(
        [
            "build",
            "--select",
            *ENGAGEMENT_SELECTION,
            "--exclude-resource-type",
            "test",
            "unit_test",
        ],
        warehouse,
        work,
    )
    return warehouse


__all__ = ["PROJECT", "apply_delta", "dbt", "write_chain"]
