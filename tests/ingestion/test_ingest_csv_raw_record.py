"""A rejected CSV record is kept in the quarantine exactly as the file holds it.

The quarantine's `raw_record` was DuckDB's copy of the rejected line (`csv_line`), which
replaces bytes that are not UTF-8 with `?` (`Salón` in Latin-1 became `Sal?? 2`), keeps the
first 10,000 characters of a longer record, carries the blank lines above the record, and for
a badly quoted record is often empty or the line above it. Once the extract was gone, such a
row could not be rebuilt. `ingestion.csv_records` now keeps each rejected record's bytes as it
finds the file's blank lines.

Expected records are the fixture's own lines, written out below (the line break that ends a
record is not part of it; one inside a quoted value is).
"""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from ingest_fixtures import (
    quarantined_records,
    query,
    settings_for,
    write,
    write_required,
)

import ingestion.csv_records as csv_records
from ingestion.pipeline import ingest

HEADER = b"location_id,name,timezone,opened_on,closed_on,updated_at"
TAIL = b",America/New_York,2024-01-01,,2026-11-05T21:00:00Z"


def _row(location: bytes, name: bytes) -> bytes:
    return location + b"," + name + TAIL


def test_a_record_that_is_not_utf8_keeps_its_bytes(tmp_path):
    # row 1 good; row 2 spells the name in Latin-1 (0xF3 is `ó`), so DuckDB rejects it
    latin = _row(b"L2", b"Sal\xf3n 2")
    path = write(tmp_path, "e1.csv", b"\n".join([HEADER, _row(b"L1", b"One"), latin, b""]))
    ((row, record),) = quarantined_records(path, "pms.locations", "csv")
    assert row == 2
    assert record == {
        "raw_line": "L2,Sal\ufffdn 2,America/New_York,2024-01-01,,2026-11-05T21:00:00Z",
        "raw_bytes_base64": base64.b64encode(latin).decode("ascii"),
    }
    assert base64.b64decode(record["raw_bytes_base64"]) == latin


def test_a_record_longer_than_duckdbs_row_limit_is_kept_whole(tmp_path):
    # a 3,000,000-character name: DuckDB refuses rows over 2 MB and kept 10,000 characters
    name = b"z" * 3_000_000
    path = write(tmp_path, "e1.csv", b"\n".join([HEADER, _row(b"L1", name), b""]))
    ((row, record),) = quarantined_records(path, "pms.locations", "csv")
    assert row == 1
    assert record == {"raw_line": _row(b"L1", name).decode()}


def test_a_record_cut_at_the_limit_says_how_long_it_was(tmp_path, monkeypatch):
    # kept up to RECORD_LIMIT bytes (here 10). The record, one field too many, is
    # `L1,Abcdefé` (3 + 6 + 2 bytes) + TAIL (50) + `,extra` (6) = 67 bytes; its 10th byte is
    # the first of `é`, which is left out rather than shown as a byte that is not UTF-8
    monkeypatch.setattr(csv_records, "RECORD_LIMIT", 10)
    record_bytes = _row(b"L1", "Abcdefé".encode()) + b",extra"
    assert len(TAIL) == 50 and len(record_bytes) == 67
    path = write(tmp_path, "e1.csv", b"\n".join([HEADER, record_bytes, b""]))
    assert quarantined_records(path, "pms.locations", "csv") == [
        (1, {"raw_line": "L1,Abcdef", "raw_bytes_total": 67})
    ]


def test_records_past_the_files_limit_keep_duckdbs_copy(tmp_path, monkeypatch):
    # FILE_LIMIT 30 bytes: the first truncated row (`L3,truncated`, 12 bytes) and the second
    # (`L4,also short`, 13 bytes) are kept; of the third (`L5,still short`, 14 bytes) only 5
    # fit, so it is kept cut; nothing is left for the fourth, which falls back to DuckDB's copy
    # (the same text here: plain ASCII, one line)
    monkeypatch.setattr(csv_records, "FILE_LIMIT", 30)
    lines = [HEADER, b"L3,truncated", b"L4,also short", b"L5,still short", b"L6,last one", b""]
    path = write(tmp_path, "e1.csv", b"\n".join(lines))
    assert quarantined_records(path, "pms.locations", "csv") == [
        (1, {"raw_line": "L3,truncated"}),
        (2, {"raw_line": "L4,also short"}),
        (3, {"raw_line": "L5,st", "raw_bytes_total": 14}),
        (4, {"raw_line": "L6,last one"}),
    ]


def test_a_record_below_blank_lines_and_spanning_lines_is_exact(tmp_path):
    # CRLF file: row 1 good; two blank lines; row 2 is truncated and its quoted name holds a
    # CRLF and a blank line (DuckDB's copy began with the blank lines above the record)
    spanning = b'L2,"Two\r\n\r\nlines"'
    text = b"\r\n".join([HEADER, _row(b"L1", b"One"), b"", b"", spanning, b""])
    path = write(tmp_path, "e1.csv", text)
    assert quarantined_records(path, "pms.locations", "csv") == [
        (2, {"raw_line": 'L2,"Two\r\n\r\nlines"'}),
    ]


def test_a_badly_quoted_record_is_its_own_text(tmp_path):
    # row 1 good; row 2 is `""a ,"a"a`: an empty quoted value followed by text (bad quoting),
    # and too few fields. DuckDB 1.5.5's copy of it is row 1's line (`L1,One,...`)
    bad = b'""a ,"a"a'
    path = write(tmp_path, "e1.csv", b"\n".join([HEADER, _row(b"L1", b"One"), bad, b""]))
    assert quarantined_records(path, "pms.locations", "csv") == [(2, {"raw_line": bad.decode()})]


def test_the_warehouse_quarantine_holds_the_exact_record(tmp_root):
    # through the loader: gzip, a Latin-1 row among good ones
    landing = tmp_root / "landing"
    write_required(landing)
    latin = _row(b"L9", b"Caf\xe9")
    text = b"\n".join([HEADER, _row(b"L8", b"Eight"), latin, b""])
    write(landing, "pms/locations/2026-11-21.csv.gz", gzip.compress(text))
    settings = settings_for(tmp_root)
    ingest(settings)
    ((record,),) = query(
        settings,
        "select raw_record from raw_quarantine.rejected_rows "
        "where source_file = 'pms/locations/2026-11-21.csv.gz'",
    )
    assert base64.b64decode(json.loads(record)["raw_bytes_base64"]) == latin


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunk_boundaries_change_no_kept_record(tmp_path, monkeypatch, chunk):
    # a record, a `\r\n` or a quoted line break may be cut anywhere by the reads: positions
    # 0 header | 1 `a,"b\r\n\r\nc"` | 2 blank | 3 `d,e` (CRLF file, gzip)
    data = b'h,i\r\na,"b\r\n\r\nc"\r\n\r\nd,e\r\n'
    path = write(tmp_path, "e1.csv.gz", gzip.compress(data))
    monkeypatch.setattr(csv_records, "_CHUNK", chunk)
    scan = csv_records.scan_records(path, wanted={1, 3})
    assert scan.blanks == [2]
    assert {p: k.data for p, k in scan.records.items()} == {1: b'a,"b\r\n\r\nc"', 3: b"d,e"}
