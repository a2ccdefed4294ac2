"""What `medspa run`'s summary says, from a RunSummary built by hand: no run needed.

The whole-pipeline scenarios (test_nightly_e2e.py) check the same lines on real runs; these
pin the wording of each line, cheaply: where a blocked load's quarantined rows are, errors
named by their class without its module path, the fix for an unreachable PostgreSQL, and the
PostgreSQL target named in the `published:` line.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from types import SimpleNamespace

import psycopg
from dagster._core.errors import DagsterAssetCheckFailedError
from dagster._utils.error import serializable_error_info_from_exc_info

from medspa.commands.run import _print_full_log
from orchestration.run_events import CheckOutcome
from orchestration.summary import RunSummary, error_text

WAREHOUSE = Path("/srv/medspa/data/warehouse.duckdb")


def _check(name: str, asset: str, description: str) -> CheckOutcome:
    return CheckOutcome(
        check_name=name,
        asset=asset,
        severity="ERROR",
        passed=False,
        description=description,
        evaluated_at=dt.datetime(2026, 12, 7, 2, 1, tzinfo=dt.UTC),
        blocking=True,
    )


def test_blocked_quarantine_names_where_its_rows_are_never_the_rows():
    summary = RunSummary(
        run_id="r1",
        success=False,
        checks=[
            _check(
                "quarantine_share",
                "raw_pms/appointments",
                "5 of 6 rows quarantined (83.33%)",
            )
        ],
        warehouse=WAREHOUSE,
    )
    lines = summary.to_text().splitlines()
    blocked = lines.index(
        "  BLOCKED: raw_pms/appointments quarantine_share: 5 of 6 rows quarantined (83.33%)"
    )
    assert lines[blocked + 1] == (
        "    the rows: select * from raw_quarantine.rejected_rows "
        "where system = 'pms' and table_name = 'appointments' "
        "in /srv/medspa/data/warehouse.duckdb"
    )


def test_other_blocked_checks_name_no_quarantine_query():
    summary = RunSummary(
        run_id="r1",
        success=False,
        checks=[_check("freshness", "raw_pms/appointments", "no extract for 3 days")],
        warehouse=WAREHOUSE,
    )
    assert "rejected_rows" not in summary.to_text()


def _error_info(exc: BaseException):
    """The serialized error Dagster records for a step that raised `exc`."""
    try:
        raise exc
    except type(exc):
        return serializable_error_info_from_exc_info(sys.exc_info())


def test_errors_are_named_by_their_class_without_its_module():
    info = _error_info(DagsterAssetCheckFailedError("1 blocking asset check failed"))
    assert info.message.startswith("dagster._core.errors.DagsterAssetCheckFailedError: ")
    assert error_text(info.cls_name, info.message) == (
        "DagsterAssetCheckFailedError: 1 blocking asset check failed"
    )
    refused = _error_info(psycopg.OperationalError("connection failed:\n  Connection refused"))
    assert error_text(refused.cls_name, refused.message) == (
        "OperationalError: connection failed: Connection refused"
    )


def test_an_error_without_its_class_in_front_is_kept_whole():
    assert error_text("ValueError", "no table pms.appointments") == "no table pms.appointments"


def test_postgres_down_gets_the_fix_said_once():
    summary = RunSummary(
        run_id="r1",
        success=False,
        failures=[
            "serving_postgres: OperationalError: connection failed: connection to server at "
            '"127.0.0.1", port 5433 failed: Connection refused'
        ],
    )
    hints = [line for line in summary.to_text().splitlines() if line.startswith("hint: ")]
    assert hints == [
        "hint: PostgreSQL (MEDSPA_SERVING_URL) did not answer: start the local cluster with "
        "`make pg` (or your server), or unset MEDSPA_SERVING_URL to publish serving.duckdb only"
    ]


def test_other_failures_get_no_hint():
    summary = RunSummary(run_id="r1", success=False, failures=["serving: BlockingCheckFailed: x"])
    assert "hint:" not in summary.to_text()


def test_published_line_names_the_postgres_target_when_there_was_one():
    published = {"path": "/d/serving.duckdb", "marts": 40, "dagster/row_count": 138264}
    to_pg = RunSummary(
        run_id="r1",
        success=True,
        published=published,
        site_built=True,
        postgres="127.0.0.1:5433/medspa",
    )
    assert (
        "published: /d/serving.duckdb (40 marts, 138264 rows); site rebuilt; "
        "PostgreSQL 127.0.0.1:5433/medspa"
    ) in to_pg.to_text().splitlines()
    duckdb_only = RunSummary(run_id="r1", success=True, published=published, site_built=True)
    assert (
        "published: /d/serving.duckdb (40 marts, 138264 rows); site rebuilt"
        in duckdb_only.to_text().splitlines()
    )


def test_full_log_is_named_only_when_it_holds_something(tmp_path, capsys):
    settings = SimpleNamespace(data_dir=tmp_path)
    log = tmp_path / "logs" / "last_run.log"
    log.parent.mkdir()
    log.write_bytes(b"")  # a run whose set-up failed wrote nothing there
    _print_full_log(settings)
    assert capsys.readouterr().out == ""
    log.write_text("dbt build ...\n", encoding="utf-8")
    _print_full_log(settings)
    assert capsys.readouterr().out == f"full log: {log} (or make dev)\n"
