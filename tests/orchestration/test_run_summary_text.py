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

import dagster as dg
import psycopg
import pytest
from dagster._core.errors import DagsterAssetCheckFailedError
from dagster._utils.error import serializable_error_info_from_exc_info

from medspa.commands.run import _print_full_log
from orchestration.defs.raw.assets import LOADED_FILES_KEY
from orchestration.run_events import CheckOutcome
from orchestration.summary import RunSummary, error_text, summarize

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


@pytest.mark.parametrize(
    ("failure", "hint"),
    [
        (
            'port 5433 failed: FATAL:  password authentication failed for user "medspa_owner"',
            "hint: PostgreSQL refused MEDSPA_SERVING_URL's user or password: use the owner "
            "login's URL (for the local cluster `make pg` writes it to "
            "<data-dir>/pg/serving_url)",
        ),
        (
            'port 5433 failed: FATAL:  database "servign" does not exist',
            "hint: the database named in MEDSPA_SERVING_URL does not exist on that server: fix "
            "the URL's database name, or create it (the local cluster's is in "
            "<data-dir>/pg/serving_url)",
        ),
    ],
)
def test_a_postgres_that_answers_and_refuses_gets_its_own_fix(failure, hint):
    """A wrong password was told to start the cluster with `make pg`: it was running."""
    prefix = 'serving_postgres: OperationalError: connection failed: connection to server at "h", '
    summary = RunSummary(run_id="r1", success=False, failures=[prefix + failure])
    hints = [line for line in summary.to_text().splitlines() if line.startswith("hint: ")]
    assert hints == [hint]


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


def test_a_long_list_of_ignored_files_is_cut_and_says_where_the_rest_is():
    ignored = [f"notes/{i:02}.txt: unknown system 'notes'" for i in range(23)]
    summary = RunSummary(run_id="r1", success=True, ignored=ignored)
    lines = summary.to_text().splitlines()
    at = lines.index("left in the landing folder, not loaded (23 file(s), each with why):")
    assert lines[at + 1 : at + 21] == [f"  {entry}" for entry in ignored[:20]]
    assert lines[at + 21] == (
        "  ... and 3 more (the file ledger's `ignored` metadata in Dagster lists them all)"
    )


def test_the_summary_takes_the_ignored_files_from_the_file_ledgers_metadata(tmp_path):
    # A real Dagster run whose file ledger reports two ignored files, as the loader's ledger
    # metadata does (`ingestion.report.LoadReport.ledger_metadata`).
    ignored = [
        "EXPORT-NOTES.txt: not at <system>/<table>/<extract_id>.<format>",
        "ehr/charts/2026-11-20.csv: unknown system 'ehr'",
    ]

    @dg.asset(key=LOADED_FILES_KEY)
    def ledger() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"files_ignored": len(ignored), "ignored": "\n".join(ignored)}
        )

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([ledger], instance=instance)
        summary = summarize(instance, result.run_id, True, tmp_path / "serving.duckdb")
    assert summary.ignored == ignored
    assert f"  {ignored[1]}" in summary.to_text().splitlines()


def test_a_damaged_warehouse_file_gets_the_way_out_said(tmp_path: Path):
    """A truncated warehouse failed every night with DuckDB's I/O error and no word of what
    to do; the failure line now says it. The error is DuckDB's own, from a truncated file."""
    import duckdb

    from orchestration.summary import damaged_warehouse_hint

    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table t as select range as i from range(300000)")
    con.close()
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(duckdb.Error) as raised:
        duckdb.connect(str(path)).execute("select sum(i) from t").fetchall()
    failure = error_text(type(raised.value).__name__, str(raised.value))
    hint = damaged_warehouse_hint(failure)
    assert hint.startswith(" (the warehouse file is damaged: move warehouse.duckdb and the .dlt")
    # another file's trouble, or another error of the warehouse, gets no such advice
    assert damaged_warehouse_hint(failure.replace("warehouse.duckdb", "serving.duckdb")) == ""
    assert damaged_warehouse_hint("IOException: Could not set lock on file warehouse.duckdb") == ""


def test_a_load_numbered_after_the_clock_is_warned_about_in_the_summary():
    note = "this machine's clock (2026-12-07 06:00:00 UTC) is not later than the last load's"
    lines = RunSummary(run_id="r1", success=True, clock_behind=note).to_text().splitlines()
    assert f"warning: {note}" in lines
    assert not [
        x for x in RunSummary(run_id="r1", success=True).to_text().splitlines() if "clock" in x
    ]
