"""A CSV's rejected and parsed rows share one numbering, blank lines or not.

The quarantine names a bad row by its data row number (the header is row 0; a record whose
quoted value spans lines is one row; a blank line is no row), so an engineer can find it in
the extract. DuckDB's reject table counts blank lines in its line numbers while its parsed
rows skip them: without `ingestion.csv_records`, a blank line above a rejected row moved
the reject one row down and renumbered every parsed row after it.
"""

from __future__ import annotations

import pytest
from ingest_fixtures import validate_one, write, write_csv

from ingestion.csv_records import blank_line_records

HEADER = "location_id,name,timezone,opened_on,closed_on,updated_at"
ROW = "{id},{name},America/New_York,2024-01-01,,2026-11-05T21:00:00Z"

#: Data rows 1-6, worked out by hand: 1 L1; 2 L2 (its name spans three lines, one of them
#: blank, inside quotes); 3 a truncated row; 4 L4; 5 a row with one field too many; 6 L6.
#: Blank lines (outside quotes) sit before rows 1, 3 and 5 (two there) and at the end.
LINES = [
    HEADER,
    "",
    ROW.format(id="L1", name="One"),
    ROW.format(id="L2", name='"Two\n\nlines"'),
    "",
    "L3,truncated",
    ROW.format(id="L4", name="Four"),
    "",
    "",
    ROW.format(id="L5", name="Five") + ",extra",
    ROW.format(id="L6", name="Six"),
    "",
]


@pytest.mark.parametrize(("ending", "compressed"), [("\n", False), ("\r\n", False), ("\n", True)])
def test_rejected_and_parsed_rows_are_numbered_as_data_rows(tmp_path, ending, compressed):
    text = ending.join(LINES) + ending
    path = write_csv(tmp_path, "e1", text, compressed)
    quarantine, valid = validate_one(path, "pms.locations", "csv", "location_id, _source_row")
    assert [(row, reason) for row, _, reason in quarantine] == [
        (3, "truncated row: fewer fields than the header"),
        (5, "more fields than the header"),
    ]
    assert valid == [("L1", 1), ("L2", 2), ("L4", 4), ("L6", 6)]


def test_blank_lines_are_found_outside_quotes_only(tmp_path):
    # positions among records and blank lines: 0 header, 1 blank, 2 a record spanning four
    # lines with a blank line and a CRLF inside quotes, 3 blank, 4 record (a CR-only line
    # outside quotes in an LF file is a file DuckDB refuses: mixed line endings)
    path = write(tmp_path, "e1.csv", b'h\n\n"a\n\n\r\nb"\n\nx\n')
    assert blank_line_records(path) == [1, 3]
    assert blank_line_records(write(tmp_path, "e2.csv", b"h\nx\ny")) == []
