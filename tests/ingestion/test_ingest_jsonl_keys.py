"""Every JSON Lines key keeps its value, or the file or object is refused with a reason.

Column names are case-insensitive, so `Name` beside `name` (or an empty key) cannot each
become a column: DuckDB's reader would invent `Name_1` / `C6` holding NULL. An object that
repeats a key has two values for one column: DuckDB keeps one unseen. A key no JSON path can
name (`a"b`, `*`) broke the line-by-line read of a file with a malformed line, forever.
Each case runs through the native read (well-formed file) and the line-by-line read (the same
file with a malformed line 2), which must agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from ingest_fixtures import CONTRACT, files_holding, query, settings_for, write, write_required

from ingestion.landing import LandingFile
from ingestion.pipeline import ingest
from ingestion.readers import MAX_COLUMNS, FileRefused, read_file
from ingestion.report import LOAD_STOPPED
from ingestion.validate import validate

PLANS = CONTRACT.table("pms.membership_plans")
MALFORMED = "not json"
REPEATS = "JSON object repeats a key (which value is meant is unknown)"


def plan(plan_id: str, **extra: object) -> str:
    row = {
        "plan_id": plan_id,
        "name": "n",
        "price": "10.00",
        "billing_period_months": 1,
        "updated_at": "2026-11-01T00:00:00Z",
        **extra,
    }
    return json.dumps(row)


def _lines(first: str, slow: bool) -> str:
    """`first`, [a malformed line,] then plan M3: the malformed line forces the slow read."""
    return "\n".join([first, *([MALFORMED] if slow else []), plan("M3")]) + "\n"


def _file(tmp_path: Path, text: str) -> LandingFile:
    path = write(tmp_path, "e1.jsonl", text)
    return LandingFile("pms", "membership_plans", "e1", path, "e1.jsonl", "jsonl")


def _validated(tmp_path: Path, text: str) -> tuple[list[tuple], list[tuple], list[str]]:
    """(quarantine (row, reason), valid (plan_id, row), drift columns) of `text`."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    raw = read_file(con, _file(tmp_path, text), "t", contract_columns=PLANS.column_names)
    result = validate(con, PLANS, raw, "e1", "e1.jsonl")
    quarantine = con.execute(
        f"select row_number, reason from {result.quarantine} order by 1"
    ).fetchall()
    valid = con.execute(
        f"select plan_id, _source_row from {result.valid} order by _source_row"
    ).fetchall()
    return quarantine, valid, result.drift_columns


CASE = "JSON keys differ only by upper/lower case (1 such name(s))"
EMPTY = 'a JSON object has an empty key (""): it cannot name a column'


@pytest.mark.parametrize("slow", [False, True], ids=["native", "line-by-line"])
@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (plan("M1", Name="DRIFTVAL"), CASE),  # beside the contract's `name`
        (plan("M1", Promo="A", promo="B"), CASE),  # two drift keys
        (plan("M1", **{"": "empty"}), EMPTY),
    ],
    ids=["Name-beside-name", "Promo-beside-promo", "empty-key"],
)
def test_keys_that_cannot_each_be_a_column_refuse_the_file(tmp_path, first, reason, slow):
    with pytest.raises(FileRefused) as refused:
        read_file(duckdb.connect(), _file(tmp_path, _lines(first, slow)), "t")
    assert refused.value.reason.startswith(reason)
    assert "DRIFTVAL" not in refused.value.reason


def test_a_key_in_another_case_on_a_later_line_refuses_the_file(tmp_path):
    text = plan("M1") + "\n" + plan("M2").replace('"plan_id"', '"PLAN_ID"') + "\n"
    with pytest.raises(FileRefused, match="differ only by upper/lower case"):
        read_file(duckdb.connect(), _file(tmp_path, text), "t")


@pytest.mark.parametrize("slow", [False, True], ids=["native", "line-by-line"])
def test_an_object_repeating_a_key_is_quarantined_the_rest_loads(tmp_path, slow):
    first = plan("M1").replace('"plan_id": "M1"', '"plan_id": "M1", "plan_id": "M2"')
    assert first.count('"plan_id"') == 2
    quarantine, valid, _ = _validated(tmp_path, _lines(first, slow))
    if slow:
        assert quarantine == [(1, REPEATS), (2, "malformed JSON line")]
        assert valid == [("M3", 3)]
    else:
        assert quarantine == [(1, REPEATS)]
        assert valid == [("M3", 2)]


NO_FIELD = "JSON object has none of the table's fields (not a record of it)"
STRAY = json.dumps({"Jane Doe": {"phone": "415-555-0142"}})


@pytest.mark.parametrize("slow", [False, True], ids=["native", "line-by-line"])
def test_a_line_with_none_of_the_tables_fields_is_quarantined_and_names_no_column(tmp_path, slow):
    """A map keyed by a patient's name is not a record of the table: its keys would otherwise
    be "new columns", printed by the drift report and kept in Dagster's metadata and logs."""
    quarantine, valid, drift = _validated(tmp_path, _lines(STRAY, slow))
    if slow:
        assert quarantine == [(1, NO_FIELD), (2, "malformed JSON line")]
        assert valid == [("M3", 3)]
    else:
        assert quarantine == [(1, NO_FIELD)]
        assert valid == [("M3", 2)]
    assert drift == []


def test_the_stray_lines_text_stays_in_the_quarantine_record(tmp_path):
    con = duckdb.connect()
    raw = read_file(con, _file(tmp_path, _lines(STRAY, False)), "t", contract_columns=["plan_id"])
    (record,) = con.execute(f"select raw_record from {raw.rejects}").fetchall()[0]
    assert json.loads(record) == {"raw_line": STRAY}
    assert raw.columns == list(json.loads(plan("M3")))


KEYS = {'a"b': "quote", "*": "star", "a.b": "dot", "a\\b": "backslash", "$": "dollar"}


@pytest.mark.parametrize("slow", [False, True], ids=["native", "line-by-line"])
def test_keys_no_json_path_can_name_keep_their_values(tmp_path, slow):
    con = duckdb.connect()
    raw = read_file(con, _file(tmp_path, _lines(plan("M1", **KEYS), slow)), "t")
    assert raw.columns[5:] == list(KEYS)
    cols = ", ".join('"' + k.replace('"', '""') + '"' for k in KEYS)
    assert con.execute(f"select {cols} from t order by __row").fetchall() == [
        tuple(KEYS.values()),
        (None,) * len(KEYS),
    ]


def test_file_with_a_quoted_key_and_a_malformed_line_loads_once(tmp_root):
    """It used to fail with an internal error on every run ("will be retried")."""
    landing = tmp_root / "landing"
    write_required(landing)
    text = _lines(plan("M1", **{'a"b': "v"}), slow=True)
    write(landing, "pms/membership_plans/2026-11-20.jsonl", text)
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert report.table("pms", "membership_plans").files_loaded == 1, report.to_text()
    assert query(
        settings,
        "select status, rows_read, rows_inserted, rows_quarantined from raw_meta.loaded_files "
        "where table_name = 'membership_plans'",
    ) == [("loaded", 3, 2, 1)]
    assert query(settings, "select plan_id from raw_pms.membership_plans order by 1") == [
        ("M1",),
        ("M3",),
    ]
    # dlt names the drift column `a_b`; its value is the file's
    assert query(settings, "select a_b from raw_pms.membership_plans order by plan_id") == [
        ("v",),
        (None,),
    ]
    again = ingest(settings)
    assert again.table("pms", "membership_plans").files_skipped == 1


def test_a_stray_line_through_the_loader_is_quarantined_and_reported_as_no_drift(tmp_root):
    """The whole path (the loader hands the reader the table's columns): the stray line is a
    quarantined row, the plans load, and the drift report names nothing."""
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, "pms/membership_plans/2026-11-20.jsonl", _lines(STRAY, False))
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "membership_plans")
    assert (entry.rows_inserted, entry.rows_quarantined, entry.drift_columns) == (1, 1, [])
    assert "Jane" not in report.to_text()
    assert query(
        settings,
        "select row_number, reason from raw_quarantine.rejected_rows "
        "where table_name = 'membership_plans'",
    ) == [(1, NO_FIELD)]


def test_renamed_keys_still_stop_the_table_as_missing_columns(tmp_root):
    """A camelCase export of a table whose every column has an underscore (surveyId for
    survey_id) holds no contract key as written, but its keys are the contract's columns
    renamed: the file misses contract columns and stops the table, as a CSV with renamed
    headers does. It is not a file of stray lines (that would let later extracts load
    around it)."""
    landing = tmp_root / "landing"
    write_required(landing)
    row = {
        "surveyId": "S1",
        "patientId": "P1",
        "sentAt": "2026-11-20T10:00:00Z",
        "updatedAt": "2026-11-20T10:00:00Z",
    }
    write(landing, "reviews/surveys/2026-11-20.jsonl", json.dumps(row) + "\n")
    report = ingest(settings_for(tmp_root))
    entry = report.table("reviews", "surveys")
    assert entry.state == LOAD_STOPPED, report.to_text()
    assert "missing contract column(s)" in entry.refusals[0]


def test_a_map_keyed_by_values_on_every_line_is_quarantined_line_by_line(tmp_path):
    """One distinct key per line (past MAX_KEY_SETS key sets): every such line is a stray
    record, quarantined; the plan loads and no key becomes a column."""
    strays = [json.dumps({f"Patient {i}": {"phone": f"555-{i:04d}"}}) for i in range(1001)]
    text = "\n".join([*strays, plan("M3")]) + "\n"
    quarantine, valid, drift = _validated(tmp_path, text)
    assert len(quarantine) == 1001 and {r for _, r in quarantine} == {NO_FIELD}
    assert valid == [("M3", 1002)]
    assert drift == []


def test_a_key_per_record_beside_the_contract_fields_refuses_the_file(tmp_path):
    """Records that each carry a value as an extra key are not stray lines (they have the
    table's fields): the file would make a column of every key. Past MAX_COLUMNS names it is
    refused, naming no key, before a reader builds them."""
    text = "\n".join(plan(f"M{i}", **{f"Patient {i}": "x"}) for i in range(MAX_COLUMNS)) + "\n"
    with pytest.raises(FileRefused) as refused:
        read_file(duckdb.connect(), _file(tmp_path, text), "t", contract_columns=PLANS.column_names)
    assert refused.value.reason.startswith(f"JSON keys: {MAX_COLUMNS + 5} distinct names")
    assert "Patient" not in refused.value.reason


def test_a_drift_column_named_like_a_value_is_reported_by_position_only(tmp_root):
    """A contact as a JSON key becomes a drift column stored under its position
    (`drift_col_<n>`): its name stays in the raw layer (raw_meta.schema_drift.name_in_file),
    while the report, Dagster's metadata and dlt's schema files beside the warehouse name only
    its position; a header-like extra column is still named."""
    landing = tmp_root / "landing"
    write_required(landing)
    lines = [
        plan("M1", **{"jane.doe@example.com": "x", "Promo Code": "SPRING"}),
        plan("M2", **{"+1 (415) 555-0134": "y"}),
    ]
    write(landing, "pms/membership_plans/2026-11-20.jsonl", "\n".join(lines) + "\n")
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "membership_plans")
    positions = {
        key: list(json.loads(lines[0]) | json.loads(lines[1])).index(key) + 1
        for key in ("jane.doe@example.com", "+1 (415) 555-0134")
    }
    assert sorted(entry.drift_columns) == sorted(
        [
            "promo_code",
            *(
                f"column {p} (its name looks like a value: see raw_meta.schema_drift)"
                for p in positions.values()
            ),
        ]
    )
    shown = report.to_text() + str(report.table_metadata("pms", "membership_plans"))
    shown += "\n".join(report.warnings)
    for leak in ("jane", "example", "5550134", "555_0134"):
        assert leak not in shown, leak
    # The area code on its own, not as digits inside a number such as a load timestamp.
    assert not re.search(r"(?<![\d.])415(?!\d)", shown), shown
    recorded = query(
        settings, "select column_name, name_in_file from raw_meta.schema_drift order by 1"
    )
    email, phone = positions["jane.doe@example.com"], positions["+1 (415) 555-0134"]
    assert recorded == sorted(
        [
            (f"drift_col_{email}", "jane.doe@example.com"),
            (f"drift_col_{phone}", "+1 (415) 555-0134"),
            ("promo_code", "Promo Code"),
        ]
    )
    assert query(
        settings,
        f"select plan_id, drift_col_{email}, drift_col_{phone}, promo_code "
        "from raw_pms.membership_plans order by 1",
    ) == [("M1", "x", None, "SPRING"), ("M2", None, "y", None)]
    # dlt's schema files, its state and the loader's own files hold neither name, in any form
    # dlt or a reader could give it (dlt's form of the e-mail is `jane_doeaexample_com`)
    leaks = ("jane", "doeaexample", "example_com", "example.com", "5550134", "555_0134")
    assert (settings.data_dir / ".dlt").is_dir()
    assert files_holding(settings.data_dir, leaks) == []
