"""A CSV with empty lines above its header row loads; one mixing CRLF and LF says so.

An exporter's stray empty first line got the file refused as "empty file: no header row"; the
header is now the first line with text, and the rows keep their numbers (header = row 0, a
blank line is no row). A file whose rows end partly in CRLF and partly in LF was refused as
"unreadable CSV file (InvalidInputException)", which told the clinic nothing.

Fixture (membership_plans), after the empty lines: header, M1, a truncated row `M2,Gold`, a
blank line, M3. By hand: M1 is row 1, the truncated row is row 2, M3 is row 3; 3 rows read,
2 loaded, 1 quarantined.

With every value quoted (as most exporters write them), DuckDB's reader does not fail on mixed
endings: in a CRLF file it joined a row ending in LF with the next one into one rejected row
and the second row went nowhere (not loaded, not quarantined, not counted). Such files are
refused too, with every row counted as a row of a refused file; files of one kind of ending
(a quoted value may still hold a bare LF) load whole.
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


QUOTED_COLUMNS = ",".join(f'"{c}"' for c in header("pms.membership_plans"))


def _quoted(plan_id: str, name: str = "Gold") -> str:
    return f'"{plan_id}","{name}","10.00",1,"2026-11-01T00:00:00Z"'


def _file(*lines: tuple[str, str]) -> bytes:
    """The quoted header, then each (row, the line ending after it)."""
    return "".join(text + ending for text, ending in lines).encode()


CR, LF = "\r\n", "\n"
P1, P2, P3, P4 = (_quoted(f"P{i}") for i in range(1, 5))


def _ledger(settings) -> list[tuple]:
    return query(
        settings,
        "select status, refusal_reason, rows_read, rows_inserted, rows_quarantined "
        "from raw_meta.loaded_files where table_name = 'membership_plans'",
    )


@pytest.mark.parametrize(
    ("name", "content", "rows"),
    [
        pytest.param(
            "2026-11-20.csv",
            _file((QUOTED_COLUMNS, CR), (P1, CR), (P2, LF), (P3, CR), (P4, CR)),
            4,
            id="CRLF file, one row ending LF mid-file",
        ),
        pytest.param(
            "2026-11-20.csv.gz",
            gzip.compress(_file((QUOTED_COLUMNS, CR), (P1, CR), (P2, LF), (P3, CR), (P4, CR))),
            4,
            id="the same, gzip-compressed",
        ),
        pytest.param(
            "2026-11-20.csv",
            _file((QUOTED_COLUMNS, CR), (P1, CR), (P2, CR), (P3, LF)),
            3,
            id="CRLF file whose last row ends LF",
        ),
        pytest.param(
            "2026-11-20.csv",
            _file((QUOTED_COLUMNS, LF), (P1, LF), (P2, CR), (P3, LF), (P4, LF)),
            4,
            id="LF file, one row ending CRLF",
        ),
    ],
)
def test_quoted_rows_with_mixed_line_endings_are_refused_and_every_row_counted(
    tmp_root, name, content, rows
):
    settings, report = _ingest(tmp_root, name, content)
    entry = report.table("pms", "membership_plans")
    assert (entry.files_loaded, entry.files_refused, entry.rows_in_refused_files) == (0, 1, rows)
    assert _ledger(settings) == [("refused", f"pms/membership_plans/{name}: {MIXED}", rows, 0, 0)]
    assert query(settings, "select count(*) from raw_quarantine.rejected_rows") == [(0,)]


@pytest.mark.parametrize(
    ("content", "names"),
    [
        pytest.param(
            _file((QUOTED_COLUMNS, CR), (P1, CR), (P2, CR), (P3, CR), (P4, CR)),
            ["Gold"] * 4,
            id="quoted, CRLF only",
        ),
        pytest.param(
            _file((QUOTED_COLUMNS, LF), (P1, LF), (P2, LF), (P3, LF), (P4, LF)),
            ["Gold"] * 4,
            id="quoted, LF only",
        ),
        pytest.param(
            _file((QUOTED_COLUMNS, CR), (P1, CR), (_quoted("P2", "Gold\nPlus"), CR), (P3, CR),
                  (P4, CR)),
            ["Gold", "Gold\nPlus", "Gold", "Gold"],
            id="CRLF file, a quoted value holding a bare LF",
        ),
    ],
)  # fmt: skip
def test_quoted_rows_with_one_kind_of_line_ending_load_whole(tmp_root, content, names):
    settings, report = _ingest(tmp_root, "2026-11-20.csv", content)
    assert report.table("pms", "membership_plans").files_loaded == 1, report.to_text()
    assert query(
        settings, "select plan_id, name, _source_row from raw_pms.membership_plans order by 3"
    ) == [(f"P{i}", n, i) for i, n in enumerate(names, start=1)]
    assert _ledger(settings) == [("loaded", None, 4, 4, 0)]


def test_a_bare_lf_in_a_value_keeps_a_crlf_files_row_numbers_and_rejected_rows(tmp_root):
    # header | P1 row 1 | P2 row 2 (its name holds a bare LF) | `"P3","Gold"` row 3, truncated
    # | a blank line (no row) | P4 row 4
    content = _file(
        (QUOTED_COLUMNS, CR),
        (P1, CR),
        (_quoted("P2", "Gold\nPlus"), CR),
        ('"P3","Gold"', CR),
        ("", CR),
        (P4, CR),
    )
    settings, _ = _ingest(tmp_root, "2026-11-20.csv", content)
    assert query(
        settings, "select plan_id, _source_row from raw_pms.membership_plans order by 2"
    ) == [("P1", 1), ("P2", 2), ("P4", 4)]
    assert query(
        settings, "select row_number, reason, raw_record from raw_quarantine.rejected_rows"
    ) == [(3, "truncated row: fewer fields than the header", '{"raw_line":"\\"P3\\",\\"Gold\\""}')]
    assert _ledger(settings) == [("loaded", None, 4, 3, 1)]


def test_rows_the_reader_neither_reads_nor_rejects_refuse_the_file(tmp_root):
    # A stray `;` inside the quoted header: DuckDB's reader then reads none of the rows below
    # and rejects none either. Counted against the file's own records, the file is refused
    # (it was once refused as "header-only", its 3 rows counted as none).
    content = _file(
        (QUOTED_COLUMNS.replace('","name","', '","name";"'), LF), (P1, LF), (P2, LF), (P3, LF)
    )
    settings, report = _ingest(tmp_root, "2026-11-20.csv", content)
    assert report.table("pms", "membership_plans").rows_in_refused_files == 3
    assert _ledger(settings) == [
        (
            "refused",
            "pms/membership_plans/2026-11-20.csv: rows unaccounted for: the file holds 3 data "
            "row(s) but the CSV reader read or rejected 0 (check the file's quoting and line "
            "endings); nothing of it loads",
            3,
            0,
            0,
        )
    ]
