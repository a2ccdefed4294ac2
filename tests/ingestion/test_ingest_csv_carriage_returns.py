"""Carriage returns (CR) that end no CRLF line get a reason that names them, and a row count.

DuckDB's strict reader fails a whole LF file on a CR outside quotes ("the CSV Parser state
machine reached an invalid state"); the file was refused as "unreadable CSV file
(InvalidInputException)" with no rows counted, so neither the cause nor what the refusal held
back could be seen. A file whose lines end in a CR alone (old Mac exports) was refused as a
"malformed header row", also with no rows. Quoted, the same CR loads as part of its value.
"""

from __future__ import annotations

import duckdb
import pytest
from ingest_fixtures import header, validate_one, write, write_csv

from ingestion.landing import LandingFile
from ingestion.readers import CR_LINE_ENDINGS, FileRefused, read_file

SERVICES = ",".join(header("pms.services"))
TS = "2026-11-16T09:00:00-08:00"


def _service(service_id: str, name: str) -> str:
    return f"{service_id},{name},filler,false,60,725.00,,{TS}"


def _refusal(path) -> FileRefused:
    file = LandingFile("pms", "services", "e1", path, path.name, "csv")
    with pytest.raises(FileRefused) as refused:
        read_file(duckdb.connect(), file, "t")
    return refused.value


@pytest.mark.parametrize("compressed", [False, True])
def test_a_cr_outside_quotes_in_an_lf_file_is_named_and_the_rows_counted(tmp_path, compressed):
    # Three data rows by hand; the second's name holds a bare CR, unquoted.
    rows = [_service("S1", "a"), _service("S2", "bare\rCR"), _service("S3", "c")]
    path = write_csv(tmp_path, "e1", "\n".join([SERVICES, *rows]) + "\n", compressed)
    refused = _refusal(path)
    assert refused.reason == (
        "unreadable CSV file (InvalidInputException): it holds 1 carriage return(s) (CR) that "
        "end no CRLF line, outside quotes the CSV reader cannot place them; quote the values "
        "that hold them (or remove them) in the export"
    )
    assert refused.rows_read == 3


def test_the_same_cr_quoted_loads_as_part_of_its_value(tmp_path):
    rows = [_service("S1", "a"), _service("S2", '"bare\rCR"'), _service("S3", "c")]
    path = write(tmp_path, "e1.csv", "\n".join([SERVICES, *rows]) + "\n")
    quarantine, valid = validate_one(path, "pms.services", "csv", "service_id, name")
    assert quarantine == []
    assert valid == [("S1", "a"), ("S2", "bare\rCR"), ("S3", "c")]


@pytest.mark.parametrize(("ending", "rows"), [("\r", 2), ("", 2)])
def test_a_file_whose_lines_end_in_cr_alone_is_refused_with_its_rows(tmp_path, ending, rows):
    # Two data rows, with and without a CR after the last.
    text = "\r".join([SERVICES, _service("S1", "a"), _service("S2", "b")]) + ending
    refused = _refusal(write(tmp_path, "e1.csv", text))
    assert (refused.reason, refused.rows_read) == (CR_LINE_ENDINGS, rows)
