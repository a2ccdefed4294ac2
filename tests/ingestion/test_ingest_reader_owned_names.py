"""A file column may take any name the readers or the merge use for themselves.

The readers numbered rows by DuckDB's `rowid` and the Parquet reader's `file_row_number`, and
the merge broke ties by `rowid`: a file column named `rowid` (any case) shadowed it, so a CSV
lost rows and misnumbered the rest (or failed on every run), a re-delivery kept the older row,
and a Parquet column `file_row_number` got its file refused as unreadable. Each now loads as
ordinary drift, every row accounted for (read = loaded + quarantined).

Fixture: membership_plans rows M1..M4 with an extra column whose values (9, 8, 7, 6) are no
row numbers, so a number taken from the column instead of the file shows at once.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_fixtures import header, query, settings_for, write, write_required

from ingestion import readers
from ingestion.landing import LandingFile
from ingestion.pipeline import ingest

PLAN_COLUMNS = ",".join(header("pms.membership_plans"))  # plan_id,name,price,billing...,updated_at


def _plan_line(plan_id: str) -> str:
    return f"{plan_id},Gold,10.00,1,2026-11-01T00:00:00Z"


def _loaded_rows(settings, extra: str) -> list[tuple]:
    return query(
        settings,
        f'select plan_id, "{extra}", _source_row from raw_pms.membership_plans order by 3',
    )


def _file_counts(settings) -> list[tuple]:
    return query(
        settings,
        "select status, rows_read, rows_inserted, rows_quarantined from raw_meta.loaded_files "
        "where table_name = 'membership_plans'",
    )


@pytest.mark.parametrize("spelling", ["rowid", "ROWID"])
def test_a_csv_column_named_rowid_loads_as_drift_with_every_row_numbered(tmp_root, spelling):
    # Without a rejected row the file failed on every run (BinderException).
    landing = tmp_root / "landing"
    write_required(landing)
    lines = [f"{spelling},{PLAN_COLUMNS}", f"9,{_plan_line('M1')}", f"8,{_plan_line('M2')}"]
    write(landing, "pms/membership_plans/2026-11-20.csv", "\n".join(lines) + "\n")
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "membership_plans")
    assert (entry.files_loaded, entry.drift_columns) == (1, ["rowid"]), report.to_text()
    assert _loaded_rows(settings, "rowid") == [("M1", "9", 1), ("M2", "8", 2)]
    assert _file_counts(settings) == [("loaded", 2, 2, 0)]


def test_a_csv_column_named_rowid_beside_a_rejected_row_loses_no_row(tmp_root):
    # Row 2 is truncated (rejected by the reader). Before, the rows were matched to numbers
    # through the column's values: M4 was lost and M1, M3 were numbered 3 and 4.
    landing = tmp_root / "landing"
    write_required(landing)
    lines = [
        f"rowid,{PLAN_COLUMNS}",
        f"9,{_plan_line('M1')}",
        "8,M2",
        f"7,{_plan_line('M3')}",
        f"6,{_plan_line('M4')}",
    ]
    write(landing, "pms/membership_plans/2026-11-20.csv", "\n".join(lines) + "\n")
    settings = settings_for(tmp_root)
    ingest(settings)
    assert _loaded_rows(settings, "rowid") == [("M1", "9", 1), ("M3", "7", 3), ("M4", "6", 4)]
    assert query(
        settings, "select row_number, reason from raw_quarantine.rejected_rows order by 1"
    ) == [(2, "truncated row: fewer fields than the header")]
    # read 4 = loaded 3 + quarantined 1
    assert _file_counts(settings) == [("loaded", 4, 3, 1)]


def test_a_parquet_column_named_file_row_number_loads_as_drift(tmp_root):
    # It was refused as "unreadable Parquet file (BinderException)": it clashed with the
    # reader's own file_row_number column. Row 2 has billing_period_months 5 (not 1, 3, 12).
    landing = tmp_root / "landing"
    write_required(landing)
    table = pa.table(
        {
            "plan_id": ["M1", "M2", "M3"],
            "name": ["Gold"] * 3,
            "price": ["10.00"] * 3,
            "billing_period_months": ["1", "5", "12"],
            "updated_at": ["2026-11-01T00:00:00Z"] * 3,
            "file_row_number": pa.array([9, 8, 7], pa.int64()),
        }
    )
    path = landing / "pms/membership_plans/2026-11-20.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "membership_plans")
    assert (entry.files_loaded, entry.files_refused) == (1, 0), report.to_text()
    assert entry.drift_columns == ["file_row_number"]
    assert _loaded_rows(settings, "file_row_number") == [("M1", "9", 1), ("M3", "7", 3)]
    assert query(
        settings, "select row_number, column_name, reason from raw_quarantine.rejected_rows"
    ) == [(2, "billing_period_months", "unknown enum value (not one of 1, 3, 12)")]
    assert _file_counts(settings) == [("loaded", 3, 2, 1)]


def _spend_line(amount: str, rowid: str) -> str:
    """marketing_spend's one row without a campaign (a null key part), with a `rowid` key."""
    return (
        json.dumps(
            {
                "spend_date": "2026-11-20",
                "location_id": "L1",
                "channel": "phone",
                "campaign": None,
                "amount": amount,
                "updated_at": "2026-11-20T23:00:00Z",
                "rowid": rowid,
            }
        )
        + "\n"
    )


def test_a_redelivered_row_with_a_rowid_column_replaces_the_stored_one(tmp_root):
    # The same extract delivered again, changed: same key (campaign null), same updated_at,
    # same extract id, so the later load wins. The stale-row cleanup compared `rowid`, which
    # here was the column: '9' (first delivery) > '1' (second), so it kept 10.00.
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, "crm/marketing_spend/2026-11-20.jsonl", _spend_line("10.00", "9"))
    settings = settings_for(tmp_root)
    ingest(settings)
    write(landing, "crm/marketing_spend/2026-11-20.jsonl", _spend_line("20.00", "1"))
    report = ingest(settings)
    assert report.table("pms", "appointments").files_skipped == 1
    assert report.table("crm", "marketing_spend").rows_updated == 1
    assert query(settings, "select amount::varchar, rowid from raw_crm.marketing_spend") == [
        ("20.00", "1")
    ]


def test_a_json_lines_key_named_rowid_is_read_by_the_native_reader(tmp_path, monkeypatch):
    # The native reader's numbering failed on the key (BinderException), so every such file
    # was read again line by line, at five times the cost.
    plan = {"name": "Gold", "price": "10.00", "billing_period_months": 1,
            "updated_at": "2026-11-01T00:00:00Z"}  # fmt: skip
    lines = [json.dumps({"plan_id": f"M{i}", **plan, "rowid": r}) for i, r in ((1, "9"), (2, "8"))]
    path = write(tmp_path, "e1.jsonl", "\n".join(lines) + "\n")
    native: list[object] = []
    read_natively = readers._read_jsonl_fast

    def spy(*args, **kwargs):
        native.append(read_natively(*args, **kwargs))
        return native[-1]

    monkeypatch.setattr(readers, "_read_jsonl_fast", spy)
    con = duckdb.connect()
    file = LandingFile("pms", "membership_plans", "e1", path, path.name, "jsonl")
    raw = readers.read_file(con, file, "t")
    assert native == [raw.columns] and raw.columns[-1] == "rowid"
    assert con.execute("select plan_id, rowid, __row from t order by __row").fetchall() == [
        ("M1", "9", 1),
        ("M2", "8", 2),
    ]
