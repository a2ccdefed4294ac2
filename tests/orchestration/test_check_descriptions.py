"""A dbt test's asset check says in words what it asserts (hand-written expectations)."""

from orchestration.defs.dbt.check_descriptions import describe_dbt_test


def _generic(name: str, severity: str = "error", **kwargs: object) -> dict:
    model = "{{ get_where_subquery(ref('fct_calls')) }}"
    return {
        "test_metadata": {"name": name, "kwargs": {**kwargs, "model": model}},
        "config": {"severity": severity},
        "description": "",
    }


def test_generic_tests_say_what_they_assert_and_what_a_failure_does():
    assert describe_dbt_test(_generic("not_null", column_name="call_id")) == (
        "`call_id` is never null (dbt test, severity error: a failure stops the build of what "
        "depends on it)."
    )
    assert describe_dbt_test(
        _generic(
            "relationships",
            "warn",
            column_name="location_id",
            to="ref('dim_locations')",
            field="location_id",
        )
    ) == (
        "Every `location_id` is a `location_id` of `dim_locations` (dbt test, severity warn: a "
        "failure warns)."
    )
    assert describe_dbt_test(
        _generic("accepted_values", column_name="direction", values=["inbound", "outbound"])
    ).startswith("`direction` is one of: inbound, outbound (")
    assert describe_dbt_test(
        _generic("unique_combination", columns=["grain", "period_start"])
    ).startswith("No two rows share (`grain`, `period_start`), the table's key; no null in it")
    assert describe_dbt_test(_generic("row_count_between", low=1)).startswith(
        "Dbt test row_count_between(low=1) ("
    )


def test_a_singular_test_is_described_by_the_first_sentence_of_its_opening_comment():
    dashes = {
        "raw_code": "-- Fails when a column is bad. More words\n-- here.\nselect 1",
        "config": {"severity": "error"},
    }
    block = {"raw_code": "{#-\n    Speed to lead: the buckets add up.\n    Two.\n-#}\nselect 1"}
    assert describe_dbt_test(dashes).startswith("Fails when a column is bad (dbt test")
    assert describe_dbt_test(block).startswith("Speed to lead: the buckets add up (dbt test")
    assert describe_dbt_test({"raw_code": "select 1"}) is None
    own = {"description": "the test's own words", "raw_code": "-- ignored.\nselect 1"}
    assert describe_dbt_test(own).startswith("The test's own words (")
