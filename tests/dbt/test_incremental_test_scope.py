"""Data tests of incremental models and raw sources read only what a run wrote, and only when
that still proves the whole table (macros/test_scope.sql, docs/incremental-tests.md).

The engagement clinic's calls go through stg_phone__calls (incremental on the load id) and
fct_calls (incremental on change detection). Each build below runs their data tests:
- the first build of the copy reads whole tables (no test has passed on them yet);
- after one new call, the tests read only the written keys (models) or the newer loads
  (the raw source): the narrowed SQL is in the compiled tests;
- a full refresh reads whole tables again (the raw table, which dbt does not rebuild, not);
- a new call with a direction outside the accepted values fails the narrowed test;
- the next run, with only a good call added, reads the whole table again (the test did not
  pass on the previous build) and still fails on the bad call it would otherwise skip.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt
from engagement_fixture import call_row, insert_rows

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

SELECTION = ["source:raw_phone.calls", "stg_phone__calls", "fct_calls"]
DIRECTION_TEST = "accepted_values_stg_phone__calls_direction__inbound__outbound"
NARROWED = {
    # model tests: the keys the build wrote
    DIRECTION_TEST: "written_keys",
    "unique_fct_calls_call_id": "written_keys",
    "not_null_fct_calls_is_missed": "written_keys",
    # a raw source test: the loads newer than the one it passed on
    "source_unique_raw_phone_calls_call_id": "_dlt_load_id >",
}
SOURCE_TEST = "source_unique_raw_phone_calls_call_id"


def _build(db: Path, work: Path, *extra: str) -> dict[str, str]:
    """Build the selection with its data tests; {test name: status} of the run."""
    args = ["build", "--select", *SELECTION, "--exclude-resource-type", "unit_test", *extra]
    dbt(args, db, work, check=False)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[2]: r["status"]
        for r in results
        if r["unique_id"].startswith("test.")
    }


def _compiled(work: Path, test: str) -> str:
    return next((work / "target" / "compiled").rglob(f"{test}.sql")).read_text()


def _narrowed(work: Path) -> dict[str, bool]:
    return {test: marker in _compiled(work, test) for test, marker in NARROWED.items()}


def _add_call(db: Path, call_id: str, direction: str) -> None:
    started = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
    con = duckdb.connect(str(db))
    try:
        row = call_row(call_id, direction, "+1 (415) 555-0199", started, None, "missed")
        insert_rows(con, "phone", "calls", [row])
    finally:
        con.close()


def test_data_tests_read_only_written_rows_when_that_proves_the_table(
    engagement_built: Path, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(engagement_built, db)

    statuses = _build(db, tmp_path)
    assert set(statuses.values()) == {"pass"}
    assert not any(_narrowed(tmp_path).values())  # no test has passed on these tables yet

    _add_call(db, "c20", "inbound")
    statuses = _build(db, tmp_path)
    assert set(statuses.values()) == {"pass"}
    assert all(_narrowed(tmp_path).values())

    # a full refresh rebuilds the models: their tests read whole tables (the raw table was not
    # rebuilt: its test still reads only the loads newer than the one it passed on)
    statuses = _build(db, tmp_path, "--full-refresh")
    assert set(statuses.values()) == {"pass"}
    assert _narrowed(tmp_path) == {**dict.fromkeys(NARROWED, False), SOURCE_TEST: True}

    # a bad new row: the narrowed test reads it and fails
    _add_call(db, "c21", "sideways")
    statuses = _build(db, tmp_path)
    assert _narrowed(tmp_path)[DIRECTION_TEST]
    assert statuses[DIRECTION_TEST] == "fail"

    # only a good row is new, but the test failed on the previous build: whole table, still fails
    _add_call(db, "c22", "outbound")
    statuses = _build(db, tmp_path)
    assert not _narrowed(tmp_path)[DIRECTION_TEST]
    assert statuses[DIRECTION_TEST] == "fail"
