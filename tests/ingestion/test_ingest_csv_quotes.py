"""A CSV's rows keep their numbers below a quote that opens no quoted value.

DuckDB's reader opens a quoted value only where a field starts (after one space at most): a
quote inside an unquoted field, such as `Suite 5" wide`, is data. `ingestion.csv_records`
counted quote parity instead, took such a quote for an open quoted value and missed the blank
lines below it. Rejects below them were then numbered one row too far down, and the parsed rows
after them numbered wrongly (a truncated row 4 reported as row 5, the good row 5 as row 4).

Each layout's blank lines are counted by hand below, and checked against DuckDB itself: read
with the loader's options and more columns than any record has, every record is rejected, so
the reject table's `line` numbers show which positions DuckDB took for records.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
from ingest_fixtures import validate_one, write, write_csv

import ingestion.csv_records as csv_records
from ingestion.csv_records import blank_line_records

# Positions count the header as 0, then every record and every blank line; each layout ends
# with a record `z`, so every blank line lies below a record DuckDB reports.
LAYOUTS = {
    # 0 header | 1 the stray quote's record | 2 blank | 3 b,y | 4 z
    "stray quote mid-field": (b'h,i\nSuite 5" wide,x\n\nb,y\nz\n', [2]),
    "stray quote, CRLF": (b'h,i\r\nSuite 5" wide,x\r\n\r\nb,y\r\nz\r\n', [2]),
    # 0 | 1 blank | 2 one record: a quoted value holding a blank line, then a stray quote |
    # 3 blank | 4 c,y | 5 z
    "quoted newlines, stray quote, blank lines before and after": (
        b'h,i\n\n"a\n\nb",Suite 5" wide\n\nc,y\nz\n',
        [1, 3],
    ),
    # 0 | 1 blank | 2 `""` escapes inside quotes, then a stray quote | 3 blank | 4 | 5
    "escaped quotes": (b'h,i\n\n"He said ""hi""",Suite 5" wide\n\nc,y\nz\n', [1, 3]),
    # 0 | 1 `1 "x` is data; ` "a...b"` (one space, then a quote) is one quoted value holding
    # two blank lines | 2 blank | 3 | 4
    "a space before a quote still opens it": (b'h,i\n1 "x, "a\n\n\nb"\n\nc,y\nz\n', [2]),
    # 0 | 1 two spaces first: the quote is data | 2 blank | 3 | 4
    "two spaces before a quote: data": (b'h,i\n1,  "a\n\nc,y\nz\n', [2]),
    # 0 | 1 `"a"b",x`: after text following a closing quote, a quote is data | 2 blank | 3 | 4
    "a quote after a closed value and text": (b'h,i\n"a"b",x\n\nc,y\nz\n', [2]),
    # 0 | 1 `"a" "b,...c"`: a quote after the closing quote and a space reopens the value, so
    # the record runs to `c"`; then a stray quote | 2 blank | 3 | 4
    "a value reopened after a space": (
        b'h,i\n"a" "b,\n\nc" ,Suite 5" wide\n\nd,y\nz\n',
        [2],
    ),
    # An LF file: a `\r` after a delimiter ends the record, and the `\n` after it ends an
    # empty one. 0 | 1 `1,` | 2 blank | 3 2,x | 4 blank | 5 z
    "LF file, a CR after an empty last field": (b"h,i\n1,\r\n2,x\n\nz\n", [2, 4]),
    # An LF file: a line holding only `\r` is two line breaks. 0 | 1 blank | 2 blank | 3 | 4
    "LF file, a CR-only line below the header": (b"h,i\n\r\n1,2\nz\n", [1, 2]),
    # A CRLF file: a lone `\r` is a line break. 0 | 1 `1,2` | 2 `"a...b",x` (quoted blank
    # lines) | 3 blank | 4 z
    "CRLF file, a lone CR before a quote": (b'h,i\r\n1,2\r"a\r\n\r\nb",x\r\n\r\nz\r\n', [3]),
}


def _duckdb_blank_lines(path: Path) -> list[int]:
    """The blank lines' positions as DuckDB's reader counts them, with `ingestion.readers`'
    options: 40 columns, so every record is rejected and its `line` is in the reject table."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(40)) + "}"
    compression = "gzip" if path.name.endswith(".gz") else "none"
    con = duckdb.connect()
    try:
        con.execute(
            f"""create temp table t as select * from read_csv('{path}', header = true,
                auto_detect = false, delim = ',', quote = '"', escape = '"',
                columns = {columns}, compression = '{compression}', null_padding = false,
                strict_mode = true, store_rejects = true, rejects_table = 'rj',
                rejects_scan = 'rs')"""
        )
        assert con.execute("select count(*) from t").fetchone() == (0,)
        records = {line - 1 for (line,) in con.execute("select distinct line from rj").fetchall()}
    finally:
        con.close()
    return sorted(set(range(1, max(records))) - records)


@pytest.mark.parametrize(("data", "blanks"), LAYOUTS.values(), ids=LAYOUTS.keys())
def test_blank_lines_are_where_duckdb_counts_them(tmp_path, data, blanks):
    path = write(tmp_path, "e1.csv", data)
    assert blank_line_records(path) == blanks
    assert _duckdb_blank_lines(path) == blanks


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch, chunk):
    # A file is read in chunks: a line, a `\r\n` or the first line break may be cut anywhere.
    monkeypatch.setattr(csv_records, "_CHUNK", chunk)
    for name, (data, blanks) in LAYOUTS.items():
        path = write(tmp_path, "e1.csv.gz", gzip.compress(data))
        assert blank_line_records(path) == blanks, name


ROOMS = "room_id,location_id,name,room_type,active_from,active_to,updated_at"


def _room(room_id: str, name: str = "T", room_type: str = "treatment") -> str:
    return f"{room_id},LOC01,{name},{room_type},2024-07-11,,2024-06-11T08:00:00-07:00"


@pytest.mark.parametrize(("ending", "compressed"), [("\n", False), ("\r\n", False), ("\n", True)])
def test_rows_below_a_stray_quote_keep_their_numbers(tmp_path, ending, compressed):
    # Data rows, by hand: 1 RM1 (its name holds a stray quote, which DuckDB reads as data);
    # a blank line; 2 RM2; 3 RM3 with an unknown room type; 4 a truncated row; 5 RM5.
    lines = [ROOMS, _room("RM1", 'Suite 5" wide'), "", _room("RM2")]
    lines += [_room("RM3", room_type="bogus_type"), "RM4,short", _room("RM5")]
    text = ending.join(lines) + ending
    path = write_csv(tmp_path, "e1", text, compressed)
    quarantine, valid = validate_one(path, "pms.rooms", "csv", "room_id, name, _source_row")
    assert quarantine == [
        (3, "room_type", "unknown enum value (not one of treatment, consult, other)"),
        (4, None, "truncated row: fewer fields than the header"),
    ]
    assert valid == [("RM1", 'Suite 5" wide', 1), ("RM2", "T", 2), ("RM5", "T", 5)]
