"""The README's analyst command for serving.duckdb: reads marts, cannot write or touch files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def _cli(db: Path, sql: str) -> subprocess.CompletedProcess:
    # Exactly the README's flags.
    sealed = "set enable_external_access = false; set lock_configuration = true"
    cmd = [str(DUCKDB_CLI), "-readonly", "-cmd", sealed, str(db)]
    return subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> Path:
    from pg_fixtures import make_published_db

    return make_published_db(tmp_path_factory.mktemp("cli") / "serving.duckdb")


def test_analyst_cli_reads_the_marts(cli_db):
    proc = _cli(cli_db, ".mode csv\nselect count(*) from marts.dim_locations;")
    assert proc.returncode == 0 and proc.stdout.split() == ["count_star()", "2"]


@pytest.mark.parametrize(
    "statement",
    [
        "create table marts.mine as select 1;",
        "select * from read_csv('/etc/hostname');",
        "attach '/tmp/medspa-other.duckdb' as other;",
        "copy marts.dim_locations to '/tmp/medspa-leak.csv';",
    ],
)
def test_analyst_cli_cannot_write_or_reach_files(cli_db, statement):
    proc = _cli(cli_db, statement)
    assert proc.returncode != 0
    assert "read-only" in proc.stderr or "disabled by configuration" in proc.stderr
