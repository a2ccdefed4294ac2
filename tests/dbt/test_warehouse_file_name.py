"""A warehouse file named with a hyphen builds: dbt names the database after the file.

dbt-duckdb calls the database by the file's stem, so `clinic-north.duckdb` is the database
`clinic-north`. Every relation dbt renders is quoted, but the run-state schema used to be created
from the bare name (`create schema if not exists clinic-north.dbt_state`), a syntax error that
failed every run at its first hook. The fixture chain is the core-chain one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import dbt, newest_builds, write_chain
from dbt_core_chain import Chain

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]


def test_a_hyphenated_file_name_builds_and_stays_incremental(
    tmp_path: Path, base_chain: Chain
) -> None:
    warehouse = write_chain(tmp_path / "clinic-north.duckdb", base_chain)
    # the nightly's build: every model, seed and data test, each keeping its run state there
    nightly = ["build", "--exclude-resource-type", "unit_test"]
    dbt(nightly, warehouse, tmp_path)
    dbt(nightly, warehouse, tmp_path)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        catalog = con.execute("select current_database()").fetchone()[0]
        appointments = con.execute("select count(*) from marts.fct_appointments").fetchone()[0]
        scorecard_rows = con.execute("select count(*) from marts.kpi_scorecard").fetchone()[0]
        raw_appointments = con.execute("select count(*) from raw_pms.appointments").fetchone()[0]
    finally:
        con.close()
    newest = newest_builds(warehouse)
    assert catalog == "clinic-north"
    # every appointment of the fixture reaches the fact (one row per appointment)
    assert appointments == raw_appointments > 0
    assert scorecard_rows > 0
    # the state schema exists under the hyphenated database, and the second run used it
    assert newest and all(newest.values()), newest
