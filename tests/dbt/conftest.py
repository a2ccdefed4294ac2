"""Session fixtures for the core dbt tests: each warehouse is built once and shared.

dbt runs in a subprocess per invocation (its adapter caches one DuckDB environment per
process), with its own target and log paths so parallel runs never share state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_core_chain import Chain, apply_delta, build_chain, write_raw

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"


def dbt(args: list[str], warehouse: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """Run one dbt command against `warehouse`; fail the test with dbt's tail on error."""
    env = dict(
        os.environ,
        MEDSPA_WAREHOUSE_PATH=str(warehouse),
        DBT_PROFILES_DIR=str(PROJECT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    cmd = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        *args,
        "--project-dir",
        str(PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


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


__all__ = ["apply_delta", "dbt", "write_chain"]
