"""Column names every format must make usable: a case clash is refused with a clear reason in
CSV and Parquet as in JSON Lines, a byte-order mark never costs a JSON Lines file its first
row (the CSV reader already ignores one), and an extra column never lands on another column
under the name dlt stores it as."""

from __future__ import annotations

import json
import re

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_fixtures import (
    CONTRACT,
    files_holding,
    header,
    query,
    settings_for,
    validate_one,
    write,
    write_required,
)

from ingestion.drift_names import looks_like_a_value, stored_name
from ingestion.landing import LandingFile
from ingestion.pipeline import ingest
from ingestion.readers import FileRefused, read_file

CLASH = "differ only by upper/lower case (1 such name(s))"
PLAN = {"name": "n", "price": "10.00", "billing_period_months": 1,
        "updated_at": "2026-11-01T00:00:00Z"}  # fmt: skip


def _read(path, fmt: str) -> None:
    file = LandingFile("pms", "membership_plans", "e1", path, path.name, fmt)
    read_file(duckdb.connect(), file, "t")


def test_a_csv_header_whose_names_differ_only_by_case_is_refused_clearly(tmp_path):
    text = "plan_id,name,Name,price,billing_period_months,updated_at\nM1,a,b,1.00,1,2026-11-01Z\n"
    path = write(tmp_path, "e1.csv", text)
    with pytest.raises(FileRefused, match=re.escape(f"CSV column names {CLASH}")):
        _read(path, "csv")


def test_a_parquet_file_whose_names_differ_only_by_case_is_refused(tmp_path):
    # DuckDB would load the second as a drift column `name_1`: a name the file never had.
    path = tmp_path / "e1.parquet"
    table = pa.table({"plan_id": ["M1"], **{k: [str(v)] for k, v in PLAN.items()}, "NAME": ["x"]})
    pq.write_table(table, path)
    with pytest.raises(FileRefused, match=re.escape(f"Parquet column names {CLASH}")):
        _read(path, "parquet")


def test_a_json_lines_file_with_a_byte_order_mark_keeps_its_first_row(tmp_path):
    lines = [json.dumps({"plan_id": f"M{i}", **PLAN}) for i in (1, 2)]
    path = write(tmp_path, "e1.jsonl", ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))
    quarantine, valid = validate_one(path, "pms.membership_plans", "jsonl", "plan_id")
    assert quarantine == [] and valid == [("M1",), ("M2",)]


# --- extra (drift) columns land under dlt's stored name, never on another column ------------

PLAN_HEADER = ",".join(header("pms.membership_plans"))
PLAN_ROW = "M1,n,10.00,1,2026-11-01T00:00:00Z"


def _ingest_plans(tmp_path, *files: tuple[str, str]):
    """Ingest the required tables plus membership_plans extracts `files` ((extract id, csv))."""
    landing = tmp_path / "landing"
    write_required(landing)
    for extract_id, text in files:
        write(landing, f"pms/membership_plans/{extract_id}.csv", text)
    settings = settings_for(tmp_path)
    return settings, ingest(settings)


def test_every_contract_and_loader_column_name_is_already_in_stored_form():
    # The collision check compares stored names with these: a contract name dlt would rename
    # could never be matched (and dlt would load the contract column under another name).
    names = {c for t in CONTRACT.tables for c in t.column_names} | {"_extract_id", "_source_file"}
    assert {n for n in names if stored_name(n) != n} == set()


def test_extra_columns_named_like_a_key_or_version_are_refused_not_loaded_over_them(tmp_path):
    # `Plan ID` and `Updated At` are stored as plan_id and updated_at: loaded, their unchecked
    # values replaced the validated key and version (the stored row had plan_id 'EVIL').
    text = f"{PLAN_HEADER},Plan ID,Updated At\n{PLAN_ROW},EVIL,2020-01-01T00:00:00Z\n"
    settings, report = _ingest_plans(tmp_path, ("2026-11-20", text))
    entry = report.table("pms", "membership_plans")
    assert (entry.files_loaded, entry.files_refused) == (0, 1)
    assert entry.refusals == [
        "pms/membership_plans/2026-11-20.csv: extra column(s) would be stored as plan_id, "
        "updated_at (names are stored in lower-case snake_case), a column the contract or the "
        "loader owns: its values would overwrite the checked ones (rename the column in the "
        "export)"
    ]
    assert query(settings, "select count(*) from raw_pms.membership_plans") == [(0,)]


def test_two_extra_columns_sharing_a_stored_name_are_refused_not_merged(tmp_path):
    # Loaded, `Promo Code` and `promo_code` became one column holding one of the two values.
    text = f"{PLAN_HEADER},Promo Code,promo_code\n{PLAN_ROW},A,B\n"
    settings, report = _ingest_plans(tmp_path, ("2026-11-20", text))
    (reason,) = report.table("pms", "membership_plans").refusals
    assert "extra columns would share a stored name (1 such name(s)" in reason
    assert query(settings, "select count(*) from raw_pms.membership_plans") == [(0,)]


def test_an_extra_column_is_reported_under_the_name_it_is_stored_as(tmp_path):
    # Two deltas spell the same extra column differently: one column, both values kept, and
    # the drift report names the column an analyst finds in the raw table.
    second = f"{PLAN_HEADER},promo_code\nM2,n,12.00,1,2026-11-02T00:00:00Z,B\n"
    settings, report = _ingest_plans(
        tmp_path,
        ("2026-11-20", f"{PLAN_HEADER},Promo Code\n{PLAN_ROW},A\n"),
        ("2026-11-21", second),
    )
    entry = report.table("pms", "membership_plans")
    assert (entry.files_loaded, entry.drift_columns) == (2, ["promo_code"])
    assert query(
        settings, "select plan_id, promo_code from raw_pms.membership_plans order by 1"
    ) == [
        ("M1", "A"),
        ("M2", "B"),
    ]
    assert query(settings, "select distinct column_name from raw_meta.schema_drift order by 1") == [
        ("promo_code",)
    ]


# --- a readable file without a data row is malformed, whatever its format ------------------


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("csv", "header-only file: a header row but no data rows"),
        ("parquet", "no rows: a Parquet schema but no data rows"),
    ],
)
def test_a_file_with_columns_but_no_rows_is_refused(tmp_path, fmt, reason):
    columns = ["plan_id", *PLAN]
    if fmt == "csv":
        path = write(tmp_path, "e1.csv", ",".join(columns) + "\n")
    else:
        path = tmp_path / "e1.parquet"
        pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), path)
    with pytest.raises(FileRefused, match=re.escape(reason)):
        _read(path, fmt)


def test_a_very_long_extra_column_name_is_reported_as_dlt_shortens_it():
    # DuckDB takes identifiers up to 65,536 characters; dlt shortens a longer one (keeping a
    # hash of the rest), and the drift report must name that column, not the header's text.
    name = stored_name("a" * 70_000)
    assert len(name) == 65_536 and name != "a" * 65_536


def test_a_csv_extra_column_named_like_a_value_is_stored_under_its_position(tmp_root):
    """A CSV header holding a contact (`jane.key@example.com`) beside the contract columns: the
    column loads as `drift_col_7` (its position), so no file beside the warehouse (dlt's
    schema files among them) holds the name or dlt's form of it (`jane_keyaexample_com`);
    raw_meta.schema_drift keeps the name, in the raw layer."""
    landing = tmp_root / "landing"
    write_required(landing)
    columns = header("pms.membership_plans")  # 5 columns, then `Promo Code` and the contact
    text = (
        ",".join([*columns, "Promo Code", "jane.key@example.com"])
        + "\nM1,n,10.00,1,2026-11-01T00:00:00Z,SPRING,x\n"
    )
    write(landing, "pms/membership_plans/2026-11-20.csv", text)
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert report.errors == []
    assert query(
        settings, "select column_name, name_in_file from raw_meta.schema_drift order by 1"
    ) == [("drift_col_7", "jane.key@example.com"), ("promo_code", "Promo Code")]
    assert query(
        settings, "select plan_id, promo_code, drift_col_7 from raw_pms.membership_plans"
    ) == [("M1", "SPRING", "x")]
    leaks = ("jane", "keyaexample", "key_example", "example_com", "example.com")
    assert files_holding(settings.data_dir, leaks) == []


@pytest.mark.parametrize(
    ("name", "looks"),
    [
        ("jane.doe@gmail.com", True),
        ("jane.doe\uff20gmail.com", True),  # fullwidth commercial at
        ("jane.doe\ufe6bgmail.com", True),  # small commercial at
        ("\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff13\uff14", True),  # fullwidth digits
        ("Promo Code", False),
        ("utm_2026", False),
    ],
)
def test_a_name_reads_like_a_value_with_look_alikes_too(name: str, looks: bool) -> None:
    """A name that reads like a value is stored and reported by its position only; a key
    typed with a look-alike `@` is an e-mail address all the same."""
    assert looks_like_a_value(name) is looks
