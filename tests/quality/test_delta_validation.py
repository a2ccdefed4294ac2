"""Incremental validation: after a clean run, row-local rules read only newer loads.

One table, hand-made loads: load 1 holds ids 1..100 (clean). Load 2 adds id 101 with an
out-of-range quantity and a second row with id 7 (a duplicate of a load-1 key).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from quality import delta
from quality.report import load_results
from quality.runner import run_suites
from quality.spec import ExpectationSpec, SuiteSpec

pytestmark = pytest.mark.xdist_group("quality_gx")

LOAD_1, LOAD_2 = "1796000000.5", "1796086400.25"
UNIQUE, RANGE, COLUMNS = (
    "ExpectColumnValuesToBeUnique:id",
    "ExpectColumnValuesToBeBetween:qty",
    "ExpectTableColumnsToMatchSet",
)


def _suite() -> SuiteSpec:
    return SuiteSpec(
        name="raw_test__items",
        relation="raw_test.items",
        expectations=(
            ExpectationSpec(
                "ExpectTableColumnsToMatchSet",
                {"column_set": ["id", "qty"], "exact_match": False},
                "error",
                "columns",
            ),
            ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": "id"}, "error", "pk", "id"),
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": "qty", "min_value": 0, "max_value": 10},
                "error",
                "range",
                "qty",
            ),
        ),
    )


def _db(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_test")
        con.execute(
            "create table raw_test.items as select range + 1 as id, range % 10 as qty, "
            f"'{LOAD_1}' as _dlt_load_id from range(100)"
        )
    return path


def _load_2(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"insert into raw_test.items values (101, 99, '{LOAD_2}'), (7, 3, '{LOAD_2}')")


def _run(db: Path, results: Path):
    return run_suites([_suite()], db, results, incremental=True)[0]


def test_first_run_reads_everything_and_sets_the_watermark(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    first = _run(db, results)
    assert first.success and first.since_load_id is None
    assert first.result_for(RANGE).observed["element_count"] == 100
    assert delta.read_watermarks(delta.watermark_file(results)) == {"raw_test__items": LOAD_1}
    # The watermark file is no suite result: the report and the serving copy never read it.
    assert [doc["suite"] for doc in load_results(results)] == ["raw_test__items"]


def test_a_delta_reads_new_rows_for_row_rules_and_the_rows_sharing_a_new_key(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    _run(db, results)
    _load_2(db)
    second = _run(db, results)
    assert second.since_load_id == LOAD_1 and not second.success
    out_of_range = second.result_for(RANGE)
    assert out_of_range.observed["element_count"] == 2  # only load 2's rows
    assert out_of_range.observed["unexpected_sample"] == [99]
    duplicate = second.result_for(UNIQUE)
    # Uniqueness reads the rows whose key a load-2 row has: ids 101 and 7, and the load-1
    # row 7 it duplicates: 3 rows, not the table's 102.
    assert duplicate.observed["element_count"] == 3
    assert duplicate.observed["unexpected_sample"] == [7, 7]
    assert second.result_for(COLUMNS).success
    # Failed: the watermark stays, so the next run finds the same failures again.
    assert delta.read_watermarks(delta.watermark_file(results)) == {"raw_test__items": LOAD_1}
    third = _run(db, results)
    assert third.since_load_id == LOAD_1
    assert {e.key for e in third.failures} == {UNIQUE, RANGE}


def test_the_watermark_moves_once_the_delta_is_clean(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    _run(db, results)
    _load_2(db)
    _run(db, results)
    with duckdb.connect(str(db)) as con:
        con.execute("update raw_test.items set qty = 9 where id = 101")
        con.execute(f"delete from raw_test.items where id = 7 and _dlt_load_id = '{LOAD_2}'")
    fixed = _run(db, results)
    assert fixed.success and fixed.since_load_id == LOAD_1
    assert delta.read_watermarks(delta.watermark_file(results)) == {"raw_test__items": LOAD_2}


def test_the_delta_finds_what_a_full_run_finds(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    _run(db, results)
    _load_2(db)
    incremental = _run(db, results)
    full = run_suites([_suite()], db)[0]
    assert full.since_load_id is None
    assert {e.key for e in incremental.failures} == {e.key for e in full.failures}


def test_a_table_older_than_its_watermark_or_without_load_ids_is_read_whole(tmp_path):
    db = _db(tmp_path / "w.duckdb")
    newest = delta.newest_loads(db, [_suite()])
    assert newest == {"raw_test__items": LOAD_1}
    planned, since = delta.plan([_suite()], {"raw_test__items": LOAD_2}, newest)
    assert since == {} and planned == [_suite()]
    mart = SuiteSpec("marts__x", "main.x", ())
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.x as select 1 as a")
    assert delta.newest_loads(db, [mart]) == {"marts__x": None}
    assert delta.plan([mart], {"marts__x": LOAD_1}, {"marts__x": None}) == ([mart], {})


def test_row_and_column_name_rules_read_new_rows_uniqueness_rows_sharing_their_keys():
    narrowed = delta.delta_suite(_suite(), LOAD_1)
    queries = {e.key: e.query for e in narrowed.expectations}
    assert f"\"_dlt_load_id\" > '{LOAD_1}'" in queries[RANGE]
    assert queries[COLUMNS] == queries[RANGE]  # the same columns: one batch for both
    assert "semi join" in queries[UNIQUE] and f"> '{LOAD_1}'" in queries[UNIQUE]


def _pairs_suite() -> SuiteSpec:
    return SuiteSpec(
        name="raw_test__pairs",
        relation="raw_test.pairs",
        expectations=(
            ExpectationSpec(
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": ["a", "b"]},
                "error",
                "composite pk",
                "a, b",
            ),
        ),
    )


def test_a_compound_key_duplicated_by_a_new_load_is_found_and_only_then(tmp_path):
    db, results = tmp_path / "w.duckdb", tmp_path / "results"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw_test")
        con.execute(
            "create table raw_test.pairs as select range // 10 as a, range % 10 as b, "
            f"'{LOAD_1}' as _dlt_load_id from range(100)"
        )
    assert run_suites([_pairs_suite()], db, results, incremental=True)[0].success
    with duckdb.connect(str(db)) as con:
        # (3, 4) repeats a load-1 key; (3, 40) and (40, 4) share only one part with old rows.
        con.execute(
            f"insert into raw_test.pairs values (3, 40, '{LOAD_2}'), (40, 4, '{LOAD_2}'), "
            f"(3, 4, '{LOAD_2}')"
        )
    second = run_suites([_pairs_suite()], db, results, incremental=True)[0]
    assert second.since_load_id == LOAD_1 and not second.success
    full = run_suites([_pairs_suite()], db)[0]
    assert not full.success  # the delta agrees with a full run
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"delete from raw_test.pairs where a = 3 and b = 4 and _dlt_load_id = '{LOAD_2}'"
        )
    assert run_suites([_pairs_suite()], db, results, incremental=True)[0].success


def test_a_warehouse_locked_by_a_writer_is_the_same_clear_error(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    # A writer in this process: DuckDB refuses a read-only open of the same file.
    writer = duckdb.connect(str(db))
    try:
        with pytest.raises(RuntimeError, match="cannot open the warehouse read-only"):
            _run(db, results)
    finally:
        writer.close()


def test_a_table_without_a_newer_load_is_not_validated_again(tmp_path, monkeypatch):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    _run(db, results)

    def no_gx(specs, db_path):
        raise AssertionError(f"GX ran {[s.name for s in specs]}")

    monkeypatch.setattr("quality.runner._run_all", no_gx)
    again = _run(db, results)  # nothing loaded since the clean run at load 1
    assert again.success and again.since_load_id == LOAD_1
    assert {e.key for e in again.expectations} == {COLUMNS, UNIQUE, RANGE}
    assert all(e.observed == {"element_count": 0} for e in again.expectations)
    # the result file says the same (it is what the report and the serving copy read)
    (doc,) = load_results(results)
    assert doc["success"] and doc["since_load_id"] == LOAD_1


def test_a_changed_rule_reads_the_whole_table_once(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    _run(db, results)
    # the contract narrows the range to 0..5: load 1's rows with qty 6..9 (40 of 100) now fail,
    # though no row was loaded since the watermark
    narrowed = SuiteSpec(
        _suite().name,
        _suite().relation,
        tuple(
            ExpectationSpec(
                e.kind, {**e.kwargs, "max_value": 5}, e.severity, e.description, e.column
            )
            if e.key == RANGE
            else e
            for e in _suite().expectations
        ),
    )
    changed = run_suites([narrowed], db, results, incremental=True)[0]
    assert changed.since_load_id is None and not changed.success
    assert changed.result_for(RANGE).observed["unexpected_count"] == 40
    assert changed.result_for(RANGE).observed["element_count"] == 100
    # the old definition's mark stays until the new one passes: the next run reads it all again
    assert run_suites([narrowed], db, results, incremental=True)[0].since_load_id is None


def test_watermarks_without_recorded_definitions_are_not_trusted(tmp_path):
    db, results = _db(tmp_path / "w.duckdb"), tmp_path / "results"
    _run(db, results)
    delta.definitions_file(results).unlink()  # state written before definitions were recorded
    _load_2(db)
    whole = _run(db, results)
    assert whole.since_load_id is None
    assert whole.result_for(RANGE).observed["element_count"] == 102


def test_a_repeated_key_with_a_null_part_fails_in_full_and_in_a_delta(tmp_path: Path):
    """marketing_spend's `campaign` is a nullable key part (null: spend without a campaign, a
    key value of its own). The same campaign-less key written by two loads is a duplicate, in
    a full run and in the delta after the first load passed."""
    from ingestion.raw_schema import ensure_raw_tables
    from quality.raw_suites import raw_suites

    key = "ExpectCompoundColumnsToBeUnique:spend_date, location_id, channel, campaign"
    spec = next(s for s in raw_suites() if s.name == "raw_crm__marketing_spend")
    path = tmp_path / "warehouse.duckdb"
    results = tmp_path / "quality"
    row = (
        "insert into raw_crm.marketing_spend (spend_date, location_id, channel, campaign, "
        "amount, updated_at, _dlt_load_id) values (date '2026-11-02', 'L1', 'google', null, "
        "10, timestamptz '2026-11-02 10:00:00+00', ?)"
    )
    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con)
        con.execute("alter table raw_crm.marketing_spend add column _dlt_load_id varchar")
        con.execute(row, [LOAD_1])
    assert run_suites([spec], path, results, incremental=True)[0].success
    with duckdb.connect(str(path)) as con:
        con.execute(row, [LOAD_2])
    delta_run = run_suites([spec], path, results, incremental=True)[0]
    assert delta_run.since_load_id == LOAD_1
    assert key in [e.key for e in delta_run.failures]
    assert key in [e.key for e in run_suites([spec], path)[0].failures]
