"""A failed dbt test says how many rows failed: dagster-dbt reports its evaluation without a
description, and `medspa run` printed `BLOCKED: <asset> <test>: ` with nothing after it."""

from __future__ import annotations

import dagster as dg

from orchestration.run_events import failed_rows_text as _failed_rows


def test_a_dbt_test_without_description_reports_its_failing_rows():
    assert _failed_rows({"dagster_dbt/failed_row_count": dg.MetadataValue.int(3)}) == (
        "dbt test: 3 failing row(s)"
    )
    assert _failed_rows({"dagster_dbt/failed_row_count": 1}) == "dbt test: 1 failing row(s)"


def test_nothing_to_say_stays_empty():
    assert _failed_rows({}) == ""
    assert _failed_rows(None) == ""
    assert _failed_rows({"status": dg.MetadataValue.text("fail")}) == ""


def test_the_ui_shows_a_dbt_tests_result_with_its_rows_and_what_it_asserts():
    """The evaluation itself (what the Dagster UI shows) carries the words, not only the
    summary of `medspa run`; a result that has its own description keeps it."""
    from orchestration.defs.dbt.check_descriptions import described_results

    key = dg.AssetCheckKey(
        dg.AssetKey("stg_pms__rooms"), "relationships_stg_pms__rooms_location_id"
    )
    failed = dg.AssetCheckResult(
        passed=False,
        asset_key=key.asset_key,
        check_name=key.name,
        metadata={"dagster_dbt/failed_row_count": dg.MetadataValue.int(1)},
    )
    own = failed._replace(description="said by the test")
    output = dg.Output(None)
    specs = {key: "every `location_id` is a `location_id` of stg_pms__locations"}
    described = list(described_results([failed, own, output], specs))
    assert described[0].description == (
        "dbt test: 1 failing row(s): every `location_id` is a `location_id` of stg_pms__locations"
    )
    assert described[1].description == "said by the test"
    assert described[2] is output
    other = dg.AssetCheckResult(passed=True, asset_key=key.asset_key, check_name="unknown")
    assert next(iter(described_results([other], specs))).description is None
