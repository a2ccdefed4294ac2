"""The runner's two passes and GX's configuration cache: faster, with the same results.

Counts first for every expectation, offending values only for what failed (and never for
sensitive columns); `Expectation.configuration` cached only inside a validation.
"""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path

import duckdb
import pytest

from quality import gx_duckdb, runner
from quality.spec import ExpectationSpec, SuiteSpec

pytestmark = pytest.mark.xdist_group("quality_gx")

ROWS = 1_000


@pytest.fixture(scope="module")
def digits_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`id` 0..999 (unique), `digit` = id % 10: 100 rows hold a 9."""
    path = tmp_path_factory.mktemp("runner_passes") / "digits.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_test")
        con.execute(
            f"create table raw_test.digits as select range as id, range % 10 as digit "
            f"from range({ROWS})"
        )
    return path


def _suite(sensitive: bool = False) -> SuiteSpec:
    return SuiteSpec(
        name="raw_test__digits",
        relation="raw_test.digits",
        expectations=(
            ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": "id"}, "error", "u", "id"),
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": "digit", "min_value": 0, "max_value": 8},
                "warn",
                "below nine",
                "digit",
                sensitive=sensitive,
            ),
        ),
    )


def _record_validations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], dict, bool]]:
    calls: list[tuple[list[int], dict, bool]] = []
    original = runner._validate

    def recording(gx, batch, name, group, indexes, result_format, screen):
        calls.append((list(indexes), result_format, screen))
        return original(gx, batch, name, group, indexes, result_format, screen)

    monkeypatch.setattr(runner, "_validate", recording)
    return calls


def test_only_the_failed_expectation_is_validated_again_for_its_values(digits_db, monkeypatch):
    calls = _record_validations(monkeypatch)
    result = runner.run_suite(_suite(), digits_db)
    assert calls == [([0, 1], runner.COUNTS_FORMAT, True), ([1], runner.DETAIL_FORMAT, False)]
    unique = result.result_for("ExpectColumnValuesToBeUnique:id")
    # Passed its screen: distinct non-null values / non-null rows, computed by GX in SQL.
    assert unique.success and unique.observed == {"observed_value": 1.0}
    between = result.result_for("ExpectColumnValuesToBeBetween:digit")
    assert not between.success and result.severity == "warn"
    assert between.observed["unexpected_count"] == ROWS // 10  # 9, 19, ..., 999
    assert between.observed["unexpected_sample"] == [9, 9, 9, 9, 9]


def test_a_failed_sensitive_column_is_not_validated_again(digits_db, monkeypatch):
    calls = _record_validations(monkeypatch)
    result = runner.run_suite(_suite(sensitive=True), digits_db)
    assert calls == [([0, 1], runner.COUNTS_FORMAT, True)]
    between = result.result_for("ExpectColumnValuesToBeBetween:digit")
    assert between.observed == {
        "element_count": ROWS,
        "unexpected_count": ROWS // 10,
        "unexpected_percent": 10.0,
        "missing_count": 0,
        "missing_percent": 0.0,
    }


def _with_duplicates(path: Path, rows: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_test")
        con.execute(
            f"create table raw_test.digits as select range % 10 as id, 1 as digit "
            f"from range({rows})"
        )
    return path


@pytest.mark.parametrize("sensitive", [False, True])
def test_a_failed_uniqueness_screen_is_decided_by_the_real_expectation(
    tmp_path, monkeypatch, sensitive
):
    db = _with_duplicates(tmp_path / "dup.duckdb", 12)  # ids 0 and 1 occur twice
    suite = SuiteSpec(
        "raw_test__digits",
        "raw_test.digits",
        (
            ExpectationSpec(
                "ExpectColumnValuesToBeUnique",
                {"column": "id"},
                "error",
                "u",
                "id",
                sensitive=sensitive,
            ),
        ),
    )
    calls = _record_validations(monkeypatch)
    unique = runner.run_suite(suite, db).result_for("ExpectColumnValuesToBeUnique:id")
    again = runner.COUNTS_FORMAT if sensitive else runner.DETAIL_FORMAT
    assert calls == [([0], runner.COUNTS_FORMAT, True), ([0], again, False)]
    assert not unique.success
    assert unique.observed["element_count"] == 12
    assert unique.observed["unexpected_count"] == 4  # both rows of id 0 and of id 1
    if sensitive:
        assert "unexpected_sample" not in unique.observed
    else:
        assert unique.observed["unexpected_sample"] == [0, 0, 1, 1]


def test_an_empty_table_fails_the_screen_but_passes_uniqueness(tmp_path):
    db = _with_duplicates(tmp_path / "empty.duckdb", 0)
    result = runner.run_suite(_suite(), db)
    assert result.success
    assert result.result_for("ExpectColumnValuesToBeUnique:id").observed["element_count"] == 0


def test_results_are_the_same_without_the_configuration_cache(digits_db, monkeypatch):
    cached = runner.run_suite(_suite(), digits_db).to_dict()
    monkeypatch.setattr(gx_duckdb, "configuration_cache", contextlib.nullcontext)
    plain = runner.run_suite(_suite(), digits_db).to_dict()
    cached.pop("elapsed_seconds"), plain.pop("elapsed_seconds")
    assert cached == plain


def test_configuration_is_cached_only_inside_the_block():
    gx = gx_duckdb.import_gx()
    expectation = gx.expectations.ExpectColumnValuesToNotBeNull(column="id")
    outside = expectation.configuration
    assert expectation.configuration is not outside  # GX's own behaviour: built per read
    with gx_duckdb.configuration_cache():
        first = expectation.configuration
        assert expectation.configuration is first
        with gx_duckdb.configuration_cache():  # nested: the outer cache stays
            assert expectation.configuration is first
        assert expectation.configuration is first
    assert first == outside
    assert expectation.configuration is not first


def _record_freeze_counts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counts: list[int] = []
    original = runner._run_one

    def recording(gx, datasource, spec):
        counts.append(gc.get_freeze_count())
        return original(gx, datasource, spec)

    monkeypatch.setattr(runner, "_run_one", recording)
    return counts


def test_suites_run_with_the_older_objects_frozen_and_thawed_after(digits_db, monkeypatch):
    counts = _record_freeze_counts(monkeypatch)
    assert gc.get_freeze_count() == 0
    result = runner.run_suite(_suite(), digits_db)
    assert counts and counts[0] > 0  # the collector skipped what existed before the run
    assert gc.get_freeze_count() == 0  # and it is handed back afterwards
    assert not result.success  # the same verdict as without (see the first test)


def test_a_process_that_froze_objects_itself_keeps_them_frozen(digits_db, monkeypatch):
    """The runner neither freezes again nor thaws what the process froze. The count can only
    fall while the suite runs: a frozen object whose last reference goes is freed and leaves
    the permanent generation (a CI run saw 3 of 612,867 go), so the bounds are: no more than
    the process froze (no second freeze), and far from none (no `gc.unfreeze()`)."""
    counts = _record_freeze_counts(monkeypatch)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        runner.run_suite(_suite(), digits_db)
        after = gc.get_freeze_count()
        assert len(counts) == 1 and frozen // 2 < counts[0] <= frozen
        assert frozen // 2 < after <= counts[0]
    finally:
        gc.unfreeze()
