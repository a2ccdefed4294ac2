"""A failed dbt test says how many rows failed: dagster-dbt reports its evaluation without a
description, and `medspa run` printed `BLOCKED: <asset> <test>: ` with nothing after it."""

from __future__ import annotations

import dagster as dg

from orchestration.run_events import _failed_rows


def test_a_dbt_test_without_description_reports_its_failing_rows():
    assert _failed_rows({"dagster_dbt/failed_row_count": dg.MetadataValue.int(3)}) == (
        "dbt test: 3 failing row(s)"
    )
    assert _failed_rows({"dagster_dbt/failed_row_count": 1}) == "dbt test: 1 failing row(s)"


def test_nothing_to_say_stays_empty():
    assert _failed_rows({}) == ""
    assert _failed_rows(None) == ""
    assert _failed_rows({"status": dg.MetadataValue.text("fail")}) == ""
