"""Session fixture: the tiny engagement clinic built once through dbt (~1 min)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from engagement_fixture import SELECTION, dbt, write_raw


@pytest.fixture(scope="session")
def engagement_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The raw layer only (a pristine copy tests may duplicate and modify)."""
    return write_raw(tmp_path_factory.mktemp("engagement_raw") / "raw.duckdb")


@pytest.fixture(scope="session")
def engagement_built(tmp_path_factory: pytest.TempPathFactory, engagement_raw: Path) -> Path:
    """The fixture clinic after building the engagement marts and their ancestors.

    Seeds and models only: the project's data and unit tests run in the lead's `dbt build`.
    """
    work = tmp_path_factory.mktemp("engagement_built")
    warehouse = work / "warehouse.duckdb"
    shutil.copy(engagement_raw, warehouse)
    dbt(
        ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test"],
        warehouse,
        work,
    )
    return warehouse
