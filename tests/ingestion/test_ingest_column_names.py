"""Column names every format must make usable: a case clash is refused with a clear reason in
CSV and Parquet as in JSON Lines, and a byte-order mark never costs a JSON Lines file its first
row (the CSV reader already ignores one)."""

from __future__ import annotations

import json
import re

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_fixtures import validate_one, write

from ingestion.landing import LandingFile
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
