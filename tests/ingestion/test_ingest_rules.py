"""Fast unit tests of the pieces: landing scan, value rules, and the printed summary."""

from __future__ import annotations

import duckdb
import pytest
from ingest_fixtures import CONTRACT, appointment, csv_text, header, location, write

from ingestion.landing import LandingFile, scan_landing
from ingestion.meta import ensure_lineage_columns
from ingestion.prepare import prepare_table
from ingestion.raw_schema import ensure_raw_tables
from ingestion.readers import FileRefused, read_file
from ingestion.report import LOADED, NEVER_DELIVERED, LoadReport, TableReport
from ingestion.stage import STAGE
from ingestion.validate import validate

#: the reason an appointment's unknown status is quarantined with (the allowed values)
APPOINTMENT_STATUS = (
    "unknown enum value (not one of booked, confirmed, checked_in, completed, cancelled, no_show)"
)


def test_scan_sorts_by_extract_id_and_ignores_what_is_not_an_extract(tmp_path):
    for rel in (
        "pms/locations/2026-11-21.csv",
        "pms/locations/2026-11-20.csv.gz",
        "pms/locations/.swp",
        "pos/invoices/2026-11-20.parquet",
        "erp/orders/2026-11-20.csv",
        "pms/locations/2026-11-22.csv.part",
        "pms/locations/2026-11-22.csv~",
        "pms/locations/Thumbs.db",  # an OS's or office suite's own files: skipped, not refused
        "pms/locations/desktop.ini",
        "pms/locations/~$2026-11-21.xlsx",
        "pms/locations/Icon\r",
        "README.md",
    ):
        write(tmp_path, rel, "x")
    scan = scan_landing(tmp_path, CONTRACT)
    assert [(f.rel_path, f.extract_id, f.fmt) for f in scan.files] == [
        ("pms/locations/2026-11-20.csv.gz", "2026-11-20", "csv"),
        ("pms/locations/2026-11-21.csv", "2026-11-21", "csv"),
        ("pos/invoices/2026-11-20.parquet", "2026-11-20", "parquet"),
    ]
    assert scan.ignored == [
        ("README.md", "not at <system>/<table>/<extract_id>.<format>"),
        ("erp/orders/2026-11-20.csv", "unknown system 'erp'"),
        (
            "pms/locations/2026-11-22.csv.part",
            "still being written (read once renamed to its format)",
        ),
        ("pms/locations/2026-11-22.csv~", "still being written (read once renamed to its format)"),
    ]


@pytest.mark.parametrize(
    ("name", "extract_id", "reason"),
    [
        ("2026-11-23.CSV", "2026-11-23", "unsupported format (.CSV): suffixes are lower case: "
         "rename it to 2026-11-23.csv"),
        ("Nov-23.Csv.GZ", "Nov-23", "unsupported format (.Csv.GZ): suffixes are lower case: "
         "rename it to Nov-23.csv.gz"),
        ("2026-11-23.json", "2026-11-23", "unsupported format (.json): the loader reads "
         ".csv.gz, .csv, .parquet, .jsonl; export it as one of them"),
        ("notes", "notes", "unsupported format (no suffix): the loader reads .csv.gz, .csv, "
         ".parquet, .jsonl; export it as one of them"),
    ],
)  # fmt: skip
def test_a_file_of_another_format_in_a_table_folder_is_listed_to_be_refused(
    tmp_path, name, extract_id, reason
):
    """Inside a table's folder a file is meant as that table's extract: listed (so the loader
    refuses and records it with this reason), never merely ignored."""
    write(tmp_path, f"pms/locations/{name}", "x")
    scan = scan_landing(tmp_path, CONTRACT)
    assert scan.ignored == []
    [file] = scan.files
    assert (file.extract_id, file.fmt) == (extract_id, "unsupported")
    con = duckdb.connect()
    with pytest.raises(FileRefused) as refused:
        read_file(con, file, "t")
    assert refused.value.reason == reason


MISPLACED = {
    "pms/appointments/2026-11/2026-11-16.csv": (
        "appointments",
        "in a subfolder of the table's folder (2026-11/): the loader reads only the files "
        "directly in pms/appointments/; move it there",
    ),
    "pms/Appointments/2026-11-17.csv": (
        "appointments",
        "in the folder pms/Appointments/, which the landing contract spells pms/appointments/ "
        "(folder names are lower case); move it there",
    ),
    "PMS/locations/old/2026-11-17.csv": (
        "locations",
        "in the folder PMS/locations/, which the landing contract spells pms/locations/ "
        "(folder names are lower case); move it there",
    ),
}


def test_a_file_meant_for_a_table_but_misplaced_is_listed_to_be_refused(tmp_path):
    """A file in a table's subfolder, or in a table folder spelled in another case, was meant as
    that table's extract: listed with why it is misplaced (so the load refuses and records it,
    and the table's load check fails), never merely ignored, while the folder's own files load
    and other paths are still ignored."""
    for rel in [*MISPLACED, "pms/appointments/2026-11-18.csv", "pms/appointments_delta/x.csv"]:
        write(tmp_path, rel, "x")
    scan = scan_landing(tmp_path, CONTRACT)
    unknown = ("pms/appointments_delta/x.csv", "unknown table pms.appointments_delta")
    assert scan.ignored == [unknown]
    listed = {f.rel_path: (f.table, f.misplaced) for f in scan.files}
    assert listed == {**MISPLACED, "pms/appointments/2026-11-18.csv": ("appointments", None)}
    for file in scan.files:
        if file.misplaced is not None:
            with pytest.raises(FileRefused) as refused:
                read_file(duckdb.connect(), file, "t")
            assert refused.value.reason == file.misplaced
    # a load of other systems leaves them alone
    assert scan_landing(tmp_path, CONTRACT, ["pos"]).files == []


def check(tmp_path, rows: list[dict]) -> list[tuple]:
    """Validate appointment rows in an in-memory DuckDB; return (row, column, reason)."""
    path = write(tmp_path, "pms/appointments/e1.csv", csv_text(header("pms.appointments"), rows))
    file = LandingFile("pms", "appointments", "e1", path, "pms/appointments/e1.csv", "csv")
    con = duckdb.connect()
    raw = read_file(con, file, "t")
    result = validate(con, CONTRACT.table("pms.appointments"), raw, "e1", file.rel_path)
    return con.execute(
        f"select row_number, column_name, reason from {result.quarantine} order by 1"
    ).fetchall()


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("booked_at", "2026-11-05T15:00:00", "not an ISO 8601 timestamp with offset"),
        ("booked_at", "2026-11-31T15:00:00Z", "not an ISO 8601 timestamp with offset"),
        ("status", "Completed", APPOINTMENT_STATUS),
        ("patient_id", "", "missing required value"),
    ],
)
def test_value_rules(tmp_path, column, value, reason):
    assert check(tmp_path, [appointment("A1", **{column: value})]) == [(1, column, reason)]


def test_offset_forms_and_whitespace_are_accepted(tmp_path):
    rows = [
        appointment("A1", booked_at="2026-11-05T15:00:00+0100"),
        appointment("A2", booked_at="2026-11-05 15:00:00.123-05:00"),
        appointment("A3", booked_at=" 2026-11-05T15:00Z "),
    ]
    assert check(tmp_path, rows) == []


def test_several_bad_columns_are_named_in_one_quarantine_row(tmp_path):
    row = appointment("A1", status="done", booked_at="yesterday")
    assert check(tmp_path, [row]) == [
        (
            1,
            "booked_at",
            f"not an ISO 8601 timestamp with offset; also status: {APPOINTMENT_STATUS}",
        )
    ]


def test_integer_rule_rejects_fractions_that_a_cast_would_round(tmp_path):
    path = write(
        tmp_path,
        "pms/membership_plans/e1.csv",
        "plan_id,name,price,billing_period_months,updated_at\nM1,a,1.00,1.4,2026-11-01T00:00:00Z\n",
    )
    file = LandingFile("pms", "membership_plans", "e1", path, "x.csv", "csv")
    con = duckdb.connect()
    result = validate(
        con, CONTRACT.table("pms.membership_plans"), read_file(con, file, "t"), "e1", "x.csv"
    )
    assert con.execute(f"select column_name, reason from {result.quarantine}").fetchall() == [
        ("billing_period_months", "not an integer")
    ]


def test_non_utf8_header_refuses_the_file(tmp_path):
    path = write(tmp_path, "pms/locations/e1.csv", "locati\xf3n_id\n".encode("latin-1"))
    file = LandingFile("pms", "locations", "e1", path, "pms/locations/e1.csv", "csv")
    with pytest.raises(FileRefused, match="header row is not valid UTF-8"):
        read_file(duckdb.connect(), file, "t")


def test_summary_text_lists_loaded_idle_absent_and_errors():
    report = LoadReport(load_id="L1")
    report.tables = [
        TableReport(
            "pms",
            "locations",
            LOADED,
            files_loaded=2,
            files_skipped=1,
            rows_read=5,
            rows_inserted=3,
            rows_updated=1,
            rows_unchanged=1,
            rows_quarantined=1,
            drift_columns=["region"],
        ),
        TableReport("pms", "rooms", files_skipped=2),
        TableReport("crm", "leads", NEVER_DELIVERED),
    ]
    report.absent_systems = ["crm"]
    report.errors = ["refused pos/products/e1.csv: missing contract column(s) sku"]
    assert report.to_text().splitlines() == [
        "load L1",
        "  pms.locations  files 2 loaded, 1 skipped, 0 refused, 0 held | rows 5 read, 3 new,"
        " 1 replaced stored, 1 older than stored, 1 quarantined | drift: new column(s) region",
        "  pms.rooms      no new extract this run (2 file(s) already loaded)",
        "  crm.leads      never delivered",
        "absent systems (never delivered): crm",
        "error: refused pos/products/e1.csv: missing contract column(s) sku",
        "FAILED: 1 error(s)",
    ]
    assert not report.ok
    meta = report.table_metadata("pms", "locations")
    assert meta["rows_quarantined"] == 1 and meta["quarantined_share"] == 0.2
    assert meta["drift_columns"] == "region"


@pytest.mark.parametrize("blank_line", [False, True])
def test_jsonl_values_arrive_as_text_with_line_numbers(tmp_path, blank_line):
    lines = ['{"id": "a", "amount": 1.50, "ok": true, "extra": {"k": 1}}', '{"id": "b"}']
    text = ("\n\n" if blank_line else "\n").join(lines) + "\n"
    path = write(tmp_path, "pms/x/e1.jsonl", text)
    con = duckdb.connect()
    raw = read_file(con, LandingFile("pms", "x", "e1", path, "pms/x/e1.jsonl", "jsonl"), "t")
    assert raw.columns == ["id", "amount", "ok", "extra"]
    rows = con.execute("select id, amount, ok, extra, __row from t order by __row").fetchall()
    second_line = 3 if blank_line else 2  # a blank line is skipped but still counted
    assert [(r[0], r[4]) for r in rows] == [("a", 1), ("b", second_line)]
    assert rows[0][1] in ("1.50", "1.5")  # numbers as text: the validator types them
    assert rows[0][2:4] == ("true", '{"k":1}')
    assert rows[1][1:4] == (None, None, None)


def test_jsonl_key_first_seen_beyond_the_sampled_lines_is_still_read(tmp_path):
    """The key list is taken from the first lines, then checked against the whole file: a
    drift column that starts after DuckDB's sample (20,480 lines) keeps its values."""
    lines = [f'{{"id": "r{i}", "amount": "1.00"}}' for i in range(25_000)]
    lines.append('{"id": "late", "note": "x", "amount": "2.00"}')
    path = write(tmp_path, "pms/x/e1.jsonl", "\n".join(lines) + "\n")
    con = duckdb.connect()
    raw = read_file(con, LandingFile("pms", "x", "e1", path, "pms/x/e1.jsonl", "jsonl"), "t")
    assert raw.columns == ["id", "amount", "note"]
    assert raw.rows_read == 25_001
    assert con.execute("select note, __row from t where note is not null").fetchall() == [
        ("x", 25_001)
    ]


def test_a_files_text_copy_is_dropped_once_validated_and_nothing_else(tmp_path):
    """The rows as text are freed before the merge (memory at chain scale); the winners and
    the quarantine, raw record included, are still whole; the checked rows wait in the stage
    (`ingestion.stage`), where dlt reads uncontested winners."""
    rows = [location("L1", "Glow One", "2026-11-01T00:00:00Z")]
    rows.append({**location("L2", "Glow Two", "2026-11-01T00:00:00Z"), "timezone": ""})
    path = write(tmp_path, "pms/locations/e1.csv", csv_text(header("pms.locations"), rows))
    file = LandingFile("pms", "locations", "e1", path, "pms/locations/e1.csv", "csv")
    con = duckdb.connect()
    ensure_raw_tables(con, CONTRACT)
    ensure_lineage_columns(con, CONTRACT)
    records, plan = prepare_table(con, CONTRACT.table("pms.locations"), [(file, "sha")])
    kept = {
        name
        for (name,) in con.execute(
            "select view_name from duckdb_views() where temporary or database_name = $1 "
            "union all select table_name from duckdb_tables() "
            "where temporary or database_name = $1",
            [STAGE],
        ).fetchall()
    }
    raw = "__f0_pms_locations"
    assert not kept & {raw, f"{raw}__parsed", f"{raw}__rej"}
    assert {f"{raw}__checked", f"{raw}__valid"} <= kept
    assert plan.shared  # nothing stored: dlt reads the winners in the stage
    assert [r[0] for r in con.execute(f"select location_id from ({plan.query})").fetchall()] == [
        "L1"
    ]
    quarantined = records[0].quarantine.to_pylist()
    assert [(q["row_number"], q["column_name"]) for q in quarantined] == [(2, "timezone")]
    assert '"location_id":"L2"' in quarantined[0]["raw_record"].replace(" ", "")


def test_files_sharing_an_extract_id_are_all_listed_to_be_refused(tmp_path):
    """`2026-11-16.csv` beside `2026-11-16.csv.gz`, rows with one key and one `updated_at` but
    other values: both loaded, and the path sorting last won without a word."""
    for rel in (
        "pms/services/2026-11-16.csv",
        "pms/services/2026-11-16.csv.gz",
        "pms/services/2026-11-17.csv",
        "pms/services/2026-11-16.xlsx",  # another format: refused for that, not counted here
        "pms/rooms/2026-11-16.csv",  # another table's extract of that id
    ):
        write(tmp_path, rel, "x")
    scan = scan_landing(tmp_path, CONTRACT)
    reason = (
        "2 files share the extract id '2026-11-16' (2026-11-16.csv, 2026-11-16.csv.gz): whose "
        "rows win cannot be known; deliver each extract once, in one format, and remove the "
        "others"
    )
    assert {f.rel_path: f.misplaced for f in scan.files} == {
        "pms/rooms/2026-11-16.csv": None,
        "pms/services/2026-11-16.csv": reason,
        "pms/services/2026-11-16.csv.gz": reason,
        "pms/services/2026-11-16.xlsx": None,
        "pms/services/2026-11-17.csv": None,
    }
