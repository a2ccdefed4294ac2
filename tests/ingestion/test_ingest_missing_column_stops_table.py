"""A missing contract column fails the table's whole load, until the file is fixed or removed.

The landing contract: "a missing contract column (the table's load fails with a message naming
the file and column; other tables still load)". Loading the table's other extracts around the
refused one would leave a gap nobody sees (the rows only that extract changed), so the table
stops: its other new files are held back, not recorded, and load on the first run after the
clinic replaces the bad extract with one carrying the column, or removes it. Other tables load.
"""

from __future__ import annotations

import duckdb
import pytest
from ingest_fixtures import header, query, settings_for, write, write_required

from ingestion.pipeline import ingest
from ingestion.report import LOAD_STOPPED, LOADED

PLANS = "pms/membership_plans"
HEADER = ",".join(header("pms.membership_plans"))
BAD = f"{PLANS}/2026-11-21.csv"
REFUSAL = (
    f"{BAD}: missing contract column(s) price; the table's load stops until this file is "
    "replaced or removed"
)


def _plan(plan_id: str, day: int, price: bool = True) -> str:
    columns = HEADER if price else HEADER.replace(",price", "")
    row = f"{plan_id},n,{'10.00,' if price else ''}1,2026-11-{day:02d}T00:00:00Z"
    return f"{columns}\n{row}\n"


@pytest.fixture
def stopped(tmp_root):
    """Three deltas of membership_plans, the middle one without `price`, loaded once."""
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, f"{PLANS}/2026-11-20.csv", _plan("M1", 20))
    write(landing, BAD, _plan("M2", 21, price=False))
    write(landing, f"{PLANS}/2026-11-22.csv", _plan("M3", 22))
    settings = settings_for(tmp_root)
    return settings, landing, ingest(settings)


def _plans(settings) -> list[str]:
    return [
        r[0] for r in query(settings, "select plan_id from raw_pms.membership_plans order by 1")
    ]


def _stop_error(held: int) -> str:
    return f"pms.membership_plans not loaded ({held} new file(s) held back): {REFUSAL}"


def test_the_table_loads_nothing_and_other_tables_load(stopped):
    settings, _, report = stopped
    entry = report.table("pms", "membership_plans")
    assert (entry.state, entry.files_loaded, entry.files_refused, entry.files_held) == (
        LOAD_STOPPED, 0, 1, 2,
    )  # fmt: skip
    assert entry.refusals == [REFUSAL] and entry.stopped_by == [REFUSAL]
    assert report.errors == [f"refused {REFUSAL}", _stop_error(2)]
    assert _plans(settings) == []
    # only the refused file is recorded: the held ones are read again by the next run
    assert query(
        settings,
        "select file_path, status from raw_meta.loaded_files where table_name = 'membership_plans'",
    ) == [(BAD, "refused")]
    assert report.table("pms", "locations").files_loaded == 1
    assert query(settings, "select count(*) from raw_pms.locations") == [(1,)]
    # the ledger's asset in Dagster shows the stop too: held files are not in the ledger
    ledger = report.ledger_metadata()
    assert (ledger["files_refused"], ledger["files_held"], ledger["tables_stopped"]) == (
        1, 2, "pms.membership_plans",
    )  # fmt: skip


def test_the_stop_holds_on_every_run_while_the_file_stays(stopped):
    settings, _, _ = stopped
    again = ingest(settings)
    entry = again.table("pms", "membership_plans")
    assert (entry.state, entry.files_skipped, entry.files_held) == (LOAD_STOPPED, 1, 2)
    assert again.errors == [_stop_error(2)]
    assert _plans(settings) == []


def test_replacing_the_file_with_one_that_has_the_column_loads_all_three(stopped):
    settings, landing, _ = stopped
    write(landing, BAD, _plan("M2", 21))
    fixed = ingest(settings)
    entry = fixed.table("pms", "membership_plans")
    assert fixed.ok, fixed.errors
    assert (entry.state, entry.files_loaded, entry.files_held, entry.stopped_by) == (
        LOADED, 3, 0, [],
    )  # fmt: skip
    assert _plans(settings) == ["M1", "M2", "M3"]


def test_removing_the_file_lifts_the_stop(stopped):
    settings, landing, _ = stopped
    (landing / BAD).unlink()
    lifted = ingest(settings)
    assert lifted.ok, lifted.errors
    assert lifted.table("pms", "membership_plans").files_loaded == 2
    assert _plans(settings) == ["M1", "M3"]


def test_a_new_file_missing_a_column_during_a_stop_is_refused_too(stopped):
    # Held files are still read and checked: a second bad export is reported at once, and
    # both must be fixed before the table loads again.
    settings, landing, _ = stopped
    write(landing, f"{PLANS}/2026-11-23.csv", _plan("M4", 23, price=False))
    again = ingest(settings)
    entry = again.table("pms", "membership_plans")
    second = REFUSAL.replace("2026-11-21", "2026-11-23")
    assert (entry.files_refused, entry.files_held) == (1, 2)
    assert entry.stopped_by == [REFUSAL, second]
    write(landing, BAD, _plan("M2", 21))
    assert ingest(settings).table("pms", "membership_plans").state == LOAD_STOPPED
    write(landing, f"{PLANS}/2026-11-23.csv", _plan("M4", 23))
    assert ingest(settings).ok
    assert _plans(settings) == ["M1", "M2", "M3", "M4"]


def test_a_refusal_recorded_before_the_stop_rule_does_not_stop_the_table(stopped):
    # Earlier versions refused such a file on its own and loaded the table's later files around
    # it: its ledger reason lacks the stop clause, and stopping now would fix no gap.
    settings, _, _ = stopped
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(
            "update raw_meta.loaded_files set refusal_reason = ? where file_path = ?",
            [f"{BAD}: missing contract column(s) price", BAD],
        )
    finally:
        con.close()
    upgraded = ingest(settings)
    assert upgraded.ok, upgraded.errors
    assert _plans(settings) == ["M1", "M3"]


def _quoted_plans(delimiter: str) -> str:
    """A header and two plan rows, every value quoted, fields split by `delimiter`."""
    rows = [header("pms.membership_plans"), *(["M2", "n", "10.00", "1", "x"],) * 2]
    return "".join(delimiter.join(f'"{v}"' for v in row) + "\n" for row in rows)


@pytest.mark.parametrize(
    ("content", "rows"),
    [
        pytest.param(_plan("M2", 21).replace(",", ";"), 1, id="semicolons"),
        # DuckDB's reader read no row of these and rejected none: they were refused as
        # "header-only file", their rows counted as none
        pytest.param(_quoted_plans(";"), 2, id="semicolons, every value quoted"),
        pytest.param(_quoted_plans("\t"), 2, id="tabs, every value quoted"),
    ],
)
def test_a_file_without_any_contract_column_is_malformed_and_stops_nothing(tmp_root, content, rows):
    # Another delimiter: one column named by the whole header line. Not a dropped column but
    # a file the reader could not split: refused on its own, the table loads.
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, f"{PLANS}/2026-11-20.csv", _plan("M1", 20))
    write(landing, BAD, content)
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "membership_plans")
    assert (entry.state, entry.files_loaded, entry.files_held) == (LOADED, 1, 0)
    assert entry.refusals == [
        f"{BAD}: malformed file: none of the table's contract columns was found (not "
        "comma-separated with a header row, or not JSON objects?)"
    ]
    assert entry.rows_in_refused_files == rows
    assert _plans(settings) == ["M1"]


def test_a_header_in_other_letter_case_is_a_missing_column_and_stops_the_table(stopped):
    # `PLAN_ID`, `NAME`, ... are stored as the contract's names but are not spelled as the
    # contract spells them: an export that renamed its columns, not an unreadable file.
    settings, landing, _ = stopped
    write(landing, BAD, _plan("M2", 21))
    upper = f"{HEADER.upper()}\nM4,n,10.00,1,2026-11-23T00:00:00Z\n"
    write(landing, f"{PLANS}/2026-11-23.csv", upper)
    report = ingest(settings)
    entry = report.table("pms", "membership_plans")
    (reason,) = entry.stopped_by
    assert reason.startswith(f"{PLANS}/2026-11-23.csv: missing contract column(s) plan_id, name")
    # ... and says what the file has instead, so the fix (rename them) is in the reason
    assert (
        " (the file has PLAN_ID for plan_id, NAME for name, PRICE for price, "
        "BILLING_PERIOD_MONTHS for billing_period_months, UPDATED_AT for updated_at: contract "
        "columns are spelled in lower case, as listed); "
    ) in reason
    assert (entry.state, entry.files_held) == (LOAD_STOPPED, 3)
    assert _plans(settings) == []
