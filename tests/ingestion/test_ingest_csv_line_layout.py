"""A CSV with empty lines above its header row loads; one mixing CRLF and LF says so.

An exporter's stray empty first line got the file refused as "empty file: no header row"; the
header is now the first line with text, and the rows keep their numbers (header = row 0, a
blank line is no row). A file whose rows end partly in CRLF and partly in LF was refused as
"unreadable CSV file (InvalidInputException)", which told the clinic nothing.

Fixture (membership_plans), after the empty lines: header, M1, a truncated row `M2,Gold`, a
blank line, M3. By hand: M1 is row 1, the truncated row is row 2, M3 is row 3; 3 rows read,
2 loaded, 1 quarantined.
"""

from __future__ import annotations

import gzip

import pytest
from ingest_fixtures import header, query, settings_for, write, write_required

from ingestion.pipeline import ingest

COLUMNS = ",".join(header("pms.membership_plans"))
M1, M3 = "M1,Gold,10.00,1,2026-11-01T00:00:00Z", "M3,Gold,12.00,3,2026-11-01T00:00:00Z"
ROWS = [COLUMNS, M1, "M2,Gold", "", M3]
MIXED = (
    "mixed line endings: CRLF and LF (some rows end in CRLF, others in LF; save the export "
    "with one kind of line ending)"
)


def _ingest(tmp_root, name: str, content: bytes):
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, f"pms/membership_plans/{name}", content)
    settings = settings_for(tmp_root)
    return settings, ingest(settings)


@pytest.mark.parametrize(
    ("name", "top", "newline"),
    [
        ("2026-11-20.csv", "\n", "\n"),
        ("2026-11-20.csv", "\ufeff\r\n\r\n", "\r\n"),  # byte-order mark, two CRLF empty lines
        ("2026-11-20.csv.gz", "\n", "\n"),
    ],
)
def test_empty_lines_above_the_header_are_skipped_and_rows_keep_their_numbers(
    tmp_root, name, top, newline
):
    content = (top + newline.join(ROWS) + newline).encode()
    settings, report = _ingest(
        tmp_root, name, gzip.compress(content) if name.endswith(".gz") else content
    )
    assert report.table("pms", "membership_plans").files_loaded == 1, report.to_text()
    assert query(
        settings, "select plan_id, _source_row from raw_pms.membership_plans order by 2"
    ) == [("M1", 1), ("M3", 3)]
    assert query(settings, "select row_number, reason from raw_quarantine.rejected_rows") == [
        (2, "truncated row: fewer fields than the header")
    ]
    assert query(
        settings,
        "select rows_read, rows_inserted, rows_quarantined from raw_meta.loaded_files "
        "where table_name = 'membership_plans'",
    ) == [(3, 2, 1)]


def _refusal(settings) -> list[tuple]:
    return query(
        settings,
        "select status, refusal_reason from raw_meta.loaded_files "
        "where table_name = 'membership_plans'",
    )


def test_a_line_of_spaces_above_the_header_refuses_the_file_with_that_reason(tmp_root):
    settings, _ = _ingest(tmp_root, "2026-11-20.csv", ("  \n" + "\n".join(ROWS) + "\n").encode())
    assert _refusal(settings) == [
        (
            "refused",
            "pms/membership_plans/2026-11-20.csv: a line of only spaces or tabs where the header "
            "row belongs (the header row must be the first line with text; remove that line in "
            "the export)",
        )
    ]


@pytest.mark.parametrize(
    "content",
    [
        # rows alternate CRLF and LF
        COLUMNS + "\r\n" + M1 + "\n" + M3 + "\r\n",
        # an LF empty line above a CRLF file (DuckDB's reader read no row of it at all)
        "\n" + "\r\n".join([COLUMNS, M1, M3]) + "\r\n",
    ],
)
def test_mixed_crlf_and_lf_line_endings_are_refused_with_that_reason(tmp_root, content):
    settings, _ = _ingest(tmp_root, "2026-11-20.csv", content.encode())
    assert _refusal(settings) == [("refused", f"pms/membership_plans/2026-11-20.csv: {MIXED}")]
