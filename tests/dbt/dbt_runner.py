"""Run dbt in a subprocess against one warehouse file, with its own target and log folders.

Why a subprocess: dbt's adapter caches one DuckDB environment per process, so in-process runs
against several warehouses would share state; separate target/log paths keep parallel runs
apart. MEDSPA_PHI_KEY is dropped so every test hashes with the same (demo) key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def dbt(
    args: list[str],
    warehouse: Path,
    work: Path,
    *,
    check: bool = True,
    project: Path = PROJECT,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command against `warehouse`; fail the test with dbt's tail on error
    (check=False: return the failed run, for tests that expect a data test to fail;
    `project`: a copy of the dbt project, for tests that change its code; `extra_env`: more
    variables for dbt's process, such as another `TZ`)."""
    env = dict(
        os.environ,
        **(extra_env or {}),
        MEDSPA_WAREHOUSE_PATH=str(warehouse),
        DBT_PROFILES_DIR=str(PROJECT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    env.pop("MEDSPA_PHI_KEY", None)
    cmd = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        *args,
        "--project-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=project)
    if check and proc.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc
