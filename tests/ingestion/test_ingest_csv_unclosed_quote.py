"""A quoted value that opens and never closes refuses the file, rather than hide its rows.

DuckDB's reader (and the loader's own record scan) read everything from such a quote to the
end of the file as one record. That record was rejected as one row, so an export of 8,952
appointments with one stray opening quote in row 500 loaded 499 rows, quarantined "1 of 500
rows" (within the 1 % limit) and the run published: the other 8,452 rows were gone. Where
the record should have ended cannot be known, so the file is refused and nothing of it loads;
a row cut off mid-value on the file's last line takes in no other line and stays one
quarantined row, as a truncated row does.
"""

from __future__ import annotations

import duckdb
import pytest
from ingest_fixtures import (
    header,
    query,
    settings_for,
    validate_one,
    write,
    write_csv,
    write_required,
)

from ingestion.csv_records import UnclosedQuote, scan_records
from ingestion.landing import LandingFile
from ingestion.pipeline import ingest
from ingestion.readers import FileRefused, read_file

ROOMS = ",".join(header("pms.rooms"))
TS = "2026-11-20T08:00:00-05:00"


def _room(room_id: str, name: str = "Room") -> str:
    return f"{room_id},L1,{name},treatment,2024-01-01,,{TS}"


def _rooms_file(rows: list[str], ending: str = "\n") -> str:
    return ending.join([ROOMS, *rows]) + ending


@pytest.mark.parametrize(("ending", "compressed"), [("\n", False), ("\r\n", False), ("\n", True)])
def test_an_open_quote_with_rows_below_it_refuses_the_file(tmp_path, ending, compressed):
    # Rows by hand: 1 R1; 2 R2, whose name opens a quote that never closes; 3-6 R3..R6, which
    # the open value would swallow: 4 lines below row 2, so 6 rows in the file at most.
    rows = [_room("R1"), _room("R2", '"Suite 2'), *(_room(f"R{i}") for i in range(3, 7))]
    path = write_csv(tmp_path, "e1", _rooms_file(rows, ending), compressed)
    file = LandingFile("pms", "rooms", "e1", path, path.name, "csv")
    with pytest.raises(FileRefused) as refused:
        read_file(duckdb.connect(), file, "t")
    assert refused.value.reason == (
        "a quoted value opened in data row 2 never closes, so the 4 line(s) below it would be "
        "read as part of that one value; nothing of the file loads (close the quote in the "
        "export, or double every quote inside a quoted value)"
    )
    assert refused.value.rows_read == 6


def test_the_row_is_numbered_below_blank_lines(tmp_path):
    # Positions: 0 header, 1 R1, 2 blank, 3 R2 with the open quote (data row 2), 4 R3 swallowed.
    path = write(tmp_path, "e1.csv", _rooms_file([_room("R1"), "", _room("R2", '"x'), _room("R3")]))
    assert scan_records(path).unclosed_quote == UnclosedQuote(position=3, lines_taken=1)
    file = LandingFile("pms", "rooms", "e1", path, path.name, "csv")
    with pytest.raises(FileRefused, match="opened in data row 2 never closes, so the 1 line"):
        read_file(duckdb.connect(), file, "t")


@pytest.mark.parametrize("final_break", ["\n", ""])
def test_an_open_quote_on_the_last_line_stays_one_quarantined_row(tmp_path, final_break):
    # A row cut off inside a quoted value, with or without the file's last line break: it
    # takes in no other line, so the rows above it load.
    text = _rooms_file([_room("R1")]) + _room("R2", '"cut off')[:-12] + final_break
    path = write(tmp_path, "e1.csv", text)
    assert scan_records(path).unclosed_quote == UnclosedQuote(position=2, lines_taken=0)
    quarantine, valid = validate_one(path, "pms.rooms", "csv", "room_id")
    assert quarantine == [(2, None, "bad quoting (unterminated or stray quote)")]
    assert valid == [("R1",)]


def test_quotes_that_close_leave_no_unclosed_quote(tmp_path):
    # A quoted value holding a line break and `""` closes: nothing is open at the end.
    path = write(tmp_path, "e1.csv", _rooms_file([_room("R1", '"Suite ""A""\nwest"'), _room("R2")]))
    assert scan_records(path).unclosed_quote is None


def test_the_refusal_is_reported_with_the_rows_it_holds_and_nothing_loads(tmp_path):
    landing = tmp_path / "landing"
    write_required(landing)
    rows = [_room("R1"), _room("R2", '"Suite 2'), _room("R3"), _room("R4")]
    write(landing, "pms/rooms/2026-11-20.csv", _rooms_file(rows))
    settings = settings_for(tmp_path)
    report = ingest(settings)
    entry = report.table("pms", "rooms")
    assert (entry.files_loaded, entry.files_refused, entry.rows_read) == (0, 1, 0)
    assert entry.refusals == [
        "pms/rooms/2026-11-20.csv: a quoted value opened in data row 2 never closes, so the 2 "
        "line(s) below it would be read as part of that one value; nothing of the file loads "
        "(close the quote in the export, or double every quote inside a quoted value)"
    ]
    assert query(
        settings, "select status, rows_read from raw_meta.loaded_files where table_name = 'rooms'"
    ) == [("refused", 4)]
