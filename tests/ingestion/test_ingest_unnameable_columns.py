"""A column name that is only whitespace, or holds a NUL, is refused with a clear reason.

Such a name cannot name a column: a blank one is stored under an empty name and a NUL cannot be
spelled in DuckDB's SQL. JSON Lines files and Parquet files with one failed with an internal
error on every run ("could not process ... (ParserException); ... retried on the next run"),
a Parquet column named "" loaded under a name the file never had (`c7`), and a CSV header
with a NUL was "unreadable CSV file (ParserException)". Each is now refused, as an empty JSON
key already was, naming the problem (and the position, where a format has one), never the
name.

Fixture: one membership_plans row (M1) plus the odd column, in each format.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_fixtures import header, query, settings_for, write, write_required

from ingestion.pipeline import ingest

PLAN = {
    "plan_id": "M1",
    "name": "Gold",
    "price": "10.00",
    "billing_period_months": "1",
    "updated_at": "2026-11-01T00:00:00Z",
}
BLANK_KEY = (
    "a JSON object has a key that is only whitespace (a space, a tab, a no-break space): it "
    "cannot name a column"
)
NUL_KEY = "a JSON object has a key holding a NUL character: it cannot name a column"
#: the odd column is the sixth: after the contract's five
BLANK_PARQUET = (
    "Parquet schema: the column name at position(s) 6 is empty or only whitespace, so it "
    "cannot name a column (name the column in the export)"
)
NUL_NAME = (
    "the column name at position(s) 6 holds a NUL character, which no column name may hold "
    "(rename the column in the export)"
)


def _refusals(tmp_root, rel_path: str) -> list[tuple]:
    """Ingest and return the file's loaded_files row (status, reason); the run has no error
    other than the refusal, and nothing of the table is loaded."""
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert [e for e in report.errors if "could not process" in e] == []
    assert query(settings, "select count(*) from raw_pms.membership_plans") == [(0,)]
    return query(
        settings,
        "select status, refusal_reason from raw_meta.loaded_files where file_path = ?",
        [rel_path],
    )


@pytest.mark.parametrize(
    ("key", "reason"),
    [(" ", BLANK_KEY), ("\t", BLANK_KEY), ("\u00a0", BLANK_KEY), ("a\u0000b", NUL_KEY)],
)
def test_a_json_key_of_only_whitespace_or_with_a_nul_refuses_the_file(tmp_root, key, reason):
    landing = tmp_root / "landing"
    write_required(landing)
    rel = "pms/membership_plans/2026-11-20.jsonl"
    write(landing, rel, json.dumps({**PLAN, key: "x"}) + "\n")
    assert _refusals(tmp_root, rel) == [("refused", f"{rel}: {reason}")]


@pytest.mark.parametrize(
    ("name", "reason"), [(" ", BLANK_PARQUET), ("", BLANK_PARQUET), ("a\u0000b", NUL_NAME)]
)
def test_a_parquet_column_with_a_blank_name_or_a_nul_refuses_the_file(tmp_root, name, reason):
    landing = tmp_root / "landing"
    write_required(landing)
    rel = "pms/membership_plans/2026-11-20.parquet"
    path = landing / rel
    path.parent.mkdir(parents=True)
    columns = {k: [v] for k, v in PLAN.items()}
    pq.write_table(pa.table(columns).append_column(name, pa.array(["x"])), path)
    expected = reason if reason != NUL_NAME else f"Parquet schema: {NUL_NAME}"
    assert _refusals(tmp_root, rel) == [("refused", f"{rel}: {expected}")]


def test_a_csv_header_name_with_a_nul_refuses_the_file(tmp_root):
    landing = tmp_root / "landing"
    write_required(landing)
    rel = "pms/membership_plans/2026-11-20.csv"
    columns = ",".join(header("pms.membership_plans"))
    write(landing, rel, f"{columns},a\u0000b\n{','.join(PLAN.values())},x\n")
    assert _refusals(tmp_root, rel) == [("refused", f"{rel}: header row: {NUL_NAME}")]
