"""`medspa-dbt`: dbt's CLI unchanged (arguments, output, exit status), its modules frozen."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import version
from pathlib import Path

from medspa.dbt_launcher import YOUNG_THRESHOLD
from orchestration.dbt_cli import is_interpreters_dbt
from orchestration.manifest import dbt_executable

REPO = Path(__file__).resolve().parents[2]


def _launch(*args: str) -> subprocess.CompletedProcess[str]:
    """The launcher's `main` in a fresh interpreter with `args` as dbt's arguments; an atexit
    handler prints whether the collector's objects were frozen."""
    code = textwrap.dedent(
        f"""
        import atexit, gc, sys
        import os
        atexit.register(lambda: print("FROZEN", gc.get_freeze_count() > 0, gc.get_threshold()[0]))
        atexit.register(lambda: print("UMASK", oct(os.umask(0o022))))
        os.umask(0o022)
        sys.argv = ["dbt", *{list(args)!r}]
        from medspa.dbt_launcher import main
        main()
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300
    )


def test_it_is_dbt_with_the_modules_frozen():
    proc = _launch("--version")
    assert proc.returncode == 0, proc.stderr
    assert f"installed: {version('dbt-core')}" in proc.stdout
    assert proc.stdout.splitlines()[-1] == f"FROZEN True {YOUNG_THRESHOLD}"


def test_a_command_on_the_warehouse_creates_owner_only_files_parse_does_not():
    """Under a umask of 022, `build`/`run`/... create 0600 files (DuckDB's WAL beside the
    warehouse holds raw rows); `parse` keeps 022: its manifest is read by other processes."""
    assert _launch("--version").stdout.splitlines()[-2] == "UMASK 0o77"  # atexit: last first
    parse = _launch("parse", "--project-dir", "/nonexistent", "--profiles-dir", "/nonexistent")
    assert parse.stdout.splitlines()[-2] == "UMASK 0o22"


def test_a_failing_command_fails_as_dbt_itself_does(tmp_path: Path):
    args = ("parse", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path / "none"))
    dbt = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    launched = _launch(*args)
    assert dbt.returncode == launched.returncode == 2
    assert launched.stderr == dbt.stderr
    assert "Invalid value for '--profiles-dir'" in launched.stderr


def test_the_pipeline_runs_dbt_through_the_launcher():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["medspa-dbt"] == "medspa.dbt_launcher:main"
    assert dbt_executable() == str(Path(sys.executable).with_name("medspa-dbt"))
    assert is_interpreters_dbt(dbt_executable())
