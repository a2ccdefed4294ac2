"""Style is part of CI: ruff (lint + format) on Python, sqlfluff on the dbt models."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)


def test_python_is_ruff_clean():
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_is_ruff_formatted():
    result = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.xdist_group("sqlfluff")
def test_dbt_models_pass_sqlfluff():
    result = _run(
        str(BIN / "sqlfluff"), "lint", "dbt_project/models", "dbt_project/tests", "--processes", "1"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
