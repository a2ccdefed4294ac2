"""Read one extract file into a DuckDB temp table of VARCHAR columns, tolerating bad rows.

Every format lands the same shape: the file's own columns, all VARCHAR (typing is the
validator's job, so a bad value becomes a quarantined row instead of a failed file), plus
`__row`, the 1-based data row number the quarantine table reports. Structurally broken
rows (truncated, bad quoting, invalid UTF-8, malformed JSON) go to a second temp table
`<name>__rej` with a reason, so nothing read is dropped silently. A file that cannot be
read at all raises `FileRefused` with a reason that never quotes the file's contents.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.csv_records import CsvRecords, raw_record_json, scan_records
from ingestion.gzip_stream import gzip_defect
from ingestion.landing import UNSUPPORTED, LandingFile, unsupported_format_reason
from ingestion.temp_tables import drop_prefixed
from safeio.sqlquote import quote_ident, sql_str, sql_str_list

__all__ = ["FileRefused", "RawFile", "quote_ident", "read_file", "sql_str"]

#: DuckDB CSV reject error types -> the reason recorded in the quarantine.
_CSV_REASONS: dict[str, str] = {
    "MISSING COLUMNS": "truncated row: fewer fields than the header",
    "TOO MANY COLUMNS": "more fields than the header",
    "UNQUOTED VALUE": "bad quoting (unterminated or stray quote)",
    "INVALID ENCODING": "not valid UTF-8",
    "INVALID UNICODE": "not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "row longer than the maximum row size",
}


#: Columns the loader owns: its lineage and the readers' row number. A file carrying one
#: would override the loader's value (and `_extract_id` decides merge ties): refused.
LOADER_COLUMNS = frozenset({"_extract_id", "_source_file", "_source_row", "__row"})


#: Why a readable file with no rows is refused, per format (JSON Lines without a line is
#: already an empty file).
NO_ROWS_REASON = {
    "csv": "header-only file: a header row but no data rows (an extract with nothing new "
    "belongs out of the landing folder)",
    "parquet": "no rows: a Parquet schema but no data rows (an extract with nothing new "
    "belongs out of the landing folder)",
    "jsonl": "no JSON lines",
}


class FileRefused(Exception):
    """The file cannot be loaded at all; `reason` names the problem, never a value.

    `rows_read`: the data rows the file holds, when the reader counted them before refusing
    it (None: not counted). A refused file's rows are reported as rows in refused files, so a
    refusal that knows them must not report none.
    """

    def __init__(self, reason: str, rows_read: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rows_read = rows_read


#: A file in which no contract column is found is malformed, refused on its own (the
#: validator's verdict; the CSV reader gives it too when such a file's rows could not be read).
NO_CONTRACT_COLUMNS = (
    "malformed file: none of the table's contract columns was found (not comma-separated with "
    "a header row, or not JSON objects?)"
)


#: Characters DuckDB's readers expand in a path as a pattern of other files (`*`, `?`, `[...]`).
GLOB_CHARACTERS = frozenset("*?[")


def refuse_unreadable_path(path: Path) -> None:
    """Raise `FileRefused` for a path DuckDB's readers cannot take as one file's name.

    A path goes into the reader's SQL as text, so it must be valid UTF-8 (a name in another
    encoding once stopped the whole load), and DuckDB expands `*`, `?` and `[...]` in it: a
    file named `2026-01-0?.csv` read every file of its table again and stamped their rows as
    its own. Neither can be escaped, so the file is refused and the others still load.
    """
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FileRefused(
            "file name is not valid UTF-8 (rename the file: DuckDB's readers take UTF-8 paths)"
        ) from None
    if GLOB_CHARACTERS & set(text):
        raise FileRefused(
            "path holds *, ? or [, which DuckDB's readers expand into a pattern that also "
            "matches other files (rename the file or its folder)"
        )


@dataclass(frozen=True)
class RawFile:
    """A file read into `relation` (VARCHAR columns + `__row`) and `rejects` (bad rows)."""

    relation: str
    rejects: str
    columns: list[str]
    rows_read: int  # data rows seen: parsed rows + structurally rejected rows
    #: Columns kept in the type the file stored them in (`read_file`'s `keep_types`); every
    #: other column is VARCHAR.
    typed_columns: frozenset[str] = field(default_factory=frozenset)
    #: Money columns the file stored as FLOAT (single precision), read as the amount the float
    #: holds (`_as_read`); the validator refuses one too large for a float to hold its cents.
    single_precision: frozenset[str] = field(default_factory=frozenset)


def read_file(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    name: str,
    keep_types: Mapping[str, str] | None = None,
    text_columns: Collection[str] = (),
    contract_columns: Collection[str] = (),
) -> RawFile:
    """Read `file` into temp tables `name` and `name__rej`; raise `FileRefused` if unreadable.

    `keep_types` (column -> DuckDB type): a Parquet column stored in exactly that type stays
    typed instead of becoming text (`RawFile.typed_columns`); the validator then checks the
    value itself rather than its text. CSV and JSON carry text only, so it changes nothing there.

    `text_columns`: the contract's text columns. Every other column is typed by the validator,
    which refuses a nested value's text rendering; a text column would take it as text. So a
    JSON object or array in one is a rejected row, and a Parquet file storing one as a struct,
    list or map is refused (a CSV has no nested values).

    `contract_columns`: the table's columns. A JSON line with none of them is not a record of
    the table (a map keyed by values, another export's object): it is a rejected row, and its
    keys are no columns, so they never reach the drift report as "new columns".
    """
    refuse_unreadable_path(file.path)
    if file.misplaced is not None:
        raise FileRefused(file.misplaced)
    if file.fmt == UNSUPPORTED:
        raise FileRefused(unsupported_format_reason(file.rel_path.rsplit("/", 1)[-1]))
    if file.path.stat().st_size == 0:
        raise FileRefused("empty file (0 bytes): no header row, nothing to load")
    typed: frozenset[str] = frozenset()
    single: frozenset[str] = frozenset()
    if file.fmt == "parquet":
        columns, typed, single = _read_parquet(con, file, name, keep_types or {}, text_columns)
    elif file.fmt == "jsonl":
        columns = _read_jsonl(con, file, name, text_columns, contract_columns)
    else:
        columns = _read_csv(con, file, name, contract_columns)
    parsed = con.execute(f"select count(*) from {name}").fetchone()[0]
    rejected = con.execute(f"select count(*) from {name}__rej").fetchone()[0]
    if parsed + rejected == 0:
        # The landing contract counts a file with a header (or schema) and no rows as
        # malformed: an export that died after its header looks exactly like this.
        raise FileRefused(NO_ROWS_REASON[file.fmt])
    return RawFile(name, f"{name}__rej", columns, int(parsed) + int(rejected), typed, single)


#: Why a CSV whose header row holds a `\r` before its end is refused: its lines end in a CR
#: alone, or a CR stands in its header. The header is read up to the first `\n`, and the
#: record checks count `\n`s; DuckDB reads CR-ended lines, the checks could not.
CR_LINE_ENDINGS = (
    "lines end in a carriage return (CR) alone, as old Mac 'CSV (Macintosh)' exports write "
    "them, or the header row holds one: export with LF or CRLF line endings"
)

#: Empty lines a CSV may have above its header row (an exporter's stray first line); more
#: are no export's header but something else.
MAX_LEADING_BLANK_LINES = 100

#: Why a CSV whose records end in both CRLF and LF is refused (DuckDB's reader takes one kind).
MIXED_LINE_ENDINGS = (
    "mixed line endings: CRLF and LF (some rows end in CRLF, others in LF; save the export "
    "with one kind of line ending)"
)

_BOM = b"\xef\xbb\xbf"


def _header_line(file: LandingFile) -> tuple[bytes, int]:
    """The header row's raw line (one short line) and how many empty lines stand above it.

    An exporter may write an empty first line: the header is then the first line with text,
    and the reader skips the empty ones (`read_csv`'s `skip`) instead of taking the empty line
    for the header. Their line endings must be the file's own (`_refuse_mixed_line_endings`
    sees to it): DuckDB's reader decides the line ending from the first line, and a file whose
    first line ends otherwise read as no rows at all.
    """
    opener = gzip.open if file.path.name.endswith(".gz") else open
    try:
        with opener(file.path, "rb") as fh:
            raw = fh.readline(1 << 20)
            if raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            skipped = 0
            while raw in (b"\n", b"\r\n"):
                skipped += 1
                if skipped > MAX_LEADING_BLANK_LINES:
                    raise FileRefused(
                        f"no header row: more than {MAX_LEADING_BLANK_LINES} empty lines at the "
                        "top of the file"
                    )
                raw = fh.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileRefused(f"unreadable compressed file ({type(exc).__name__})") from None
    return raw, skipped


def _csv_header(file: LandingFile) -> tuple[list[str], int]:
    """The header row, parsed by Python's RFC 4180 reader (it is one short line), and how many
    empty lines stand above it (`_header_line`)."""
    raw, skipped = _header_line(file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileRefused("header row is not valid UTF-8 (the contract requires UTF-8)") from None
    if not text:
        reason = "only empty lines, no header row" if skipped else "no header row"
        raise FileRefused(f"empty file: {reason}")
    if not text.strip():
        # Not an empty line (DuckDB would take it for a record and misnumber every row after).
        raise FileRefused(
            "a line of only spaces or tabs where the header row belongs (the header row must "
            "be the first line with text; remove that line in the export)"
        )
    if "\r" in text.rstrip("\r\n"):
        raise FileRefused(CR_LINE_ENDINGS)
    try:
        header = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration):
        raise FileRefused("malformed header row") from None
    header = [h.strip() for h in header]
    if any(not h for h in header):
        raise FileRefused("header row has a blank column name")
    if len(header) > 1 and all("\x00" in h for h in header):
        # UTF-16 without a byte-order mark: each ASCII character comes with a NUL byte
        raise FileRefused(
            "header row: every column name holds NUL characters, as UTF-16 text does (the "
            "contract requires UTF-8)"
        )
    refuse_nul_names(header, "header row")
    repeats = [str(i) for i, h in enumerate(header, 1) if header.index(h) + 1 != i]
    if repeats:
        # Positions, not names: in a file without a header row the "names" are a patient's
        # values, and this reason is printed and stored.
        raise FileRefused(
            f"header row repeats an earlier column name at position(s) {', '.join(repeats)} "
            "(is the header row missing?)"
        )
    refuse_case_clashes(header, "CSV column names")
    refuse_loader_columns(header)
    return header, skipped


def refuse_nul_names(names: Sequence[str], what: str) -> None:
    """Refuse a file with a column name holding a NUL character (`what`: "header row", ...).

    DuckDB's SQL cannot spell such a name (a NUL ends its text), so the file failed with an
    internal error on every run. Positions, not names: a name may be a value.
    """
    positions = [str(i) for i, name in enumerate(names, start=1) if "\x00" in name]
    if positions:
        raise FileRefused(
            f"{what}: the column name at position(s) {', '.join(positions)} holds a NUL "
            "character, which no column name may hold (rename the column in the export)"
        )


def refuse_blank_names(names: Sequence[str], what: str) -> None:
    """Refuse a file with a column name that is empty or only whitespace (`" "`, a tab, a
    no-break space): it is stored under an empty name, which no column may have (DuckDB renames
    an empty Parquet name to one the file never had, and fails on a blank one). Positions only.
    """
    positions = [str(i) for i, name in enumerate(names, start=1) if not name.strip()]
    if positions:
        raise FileRefused(
            f"{what}: the column name at position(s) {', '.join(positions)} is empty or only "
            "whitespace, so it cannot name a column (name the column in the export)"
        )


def refuse_loader_columns(header: list[str]) -> None:
    """Refuse a file whose columns include one the loader owns (`LOADER_COLUMNS`, `_dlt_*`),
    in any case: names are stored lower-cased, so `_DLT_ID` would land on `_dlt_id`."""
    owned = [
        str(position)
        for position, h in enumerate(header, start=1)
        if h.casefold() in LOADER_COLUMNS or h.casefold().startswith(("__", "_dlt"))
    ]
    if owned:
        # Positions, not names: a name starting with `__` may be anything, a value included,
        # and this reason is stored, published (ops.loaded_files) and printed.
        raise FileRefused(
            f"column(s) at position(s) {', '.join(owned)} use names reserved for the loader's "
            f"lineage ({', '.join(sorted(LOADER_COLUMNS - {'__row'}))}, or starting with __ or "
            "_dlt) and may not come from a file (rename them in the export)"
        )


def _refuse_broken_gzip(file: LandingFile, sink: Callable[[bytes], None] | None = None) -> None:
    """Refuse a `.gz` file that is not one complete, intact gzip stream (`gzip_defect`).

    DuckDB would read such a file up to the damage and report no error, so the check comes
    before it reads anything: a half-delivered export must not load as a smaller one. `sink`
    sees the inflated text (`gzip_defect`).
    """
    try:
        defect = gzip_defect(file.path, sink)
    except OSError as exc:
        raise FileRefused(f"unreadable compressed file ({type(exc).__name__})") from None
    if defect is not None:
        raise FileRefused(defect)


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    name: str,
    contract_columns: Collection[str] = (),
) -> list[str]:
    """Read a CSV with DuckDB's strict reader; refuse it rather than lose a record.

    DuckDB's reader neither loads nor rejects some records of a file it misreads (it joined an
    LF-ended record of a CRLF file with the next one into one rejected row; it read nothing of
    a `;`-separated file of quoted values), and says nothing. So the line endings are checked
    before the read (`_refuse_mixed_line_endings`) and the records after it
    (`_refuse_unaccounted_records`): both ride on one byte-level count of the line breaks,
    and the file is walked record by record only when that count cannot settle the question.
    """
    breaks = LineBreaks()
    if file.path.name.endswith(".gz"):
        _refuse_broken_gzip(file, breaks.feed)  # counted while the check inflates the file
    else:
        breaks = count_line_breaks(file.path)
    try:
        header, skipped = _csv_header(file)
    except FileRefused as refused:
        if refused.reason != CR_LINE_ENDINGS:
            raise
        raise FileRefused(CR_LINE_ENDINGS, rows_read=breaks.cr_only_rows) from None
    scan = _refuse_mixed_line_endings(file, breaks, skipped)
    _load_csv(con, file, name, len(header), skipped, breaks)
    duckdb_lines = [r for (r,) in con.execute(f"select distinct line from {name}__rj").fetchall()]
    accounted = con.execute(f"select count(*) from {name}__parsed").fetchone()[0] + len(
        duckdb_lines
    )
    # Every physical line is a record here (the header, the rows DuckDB read or rejected, the
    # empty lines above the header): no blank line, no line break inside a value, none lost.
    settled = accounted + 1 + skipped == breaks.lines
    if duckdb_lines or (scan is None and not settled):
        scan = scan_records(file.path, wanted={line - 1 for line in duckdb_lines})
    blanks: list[int] = []
    if scan is not None:
        blanks = sorted(set(scan.blanks) | set(range(skipped)))
        _refuse_unclosed_quote(scan, blanks)
    if not settled and scan is not None:
        _refuse_unaccounted_records(scan, len(blanks), accounted, header, contract_columns)
    _reject_table(con, name, duckdb_lines, scan, blanks)
    _number_rows(con, name, header)
    return header


def _load_csv(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    name: str,
    width: int,
    skipped: int,
    breaks: LineBreaks,
) -> None:
    """DuckDB's strict read of the file into `<name>__parsed` (its `width` columns as text,
    under the reader's own names: `_number_rows` renames them back), its rejects into
    `<name>__rj`; `skipped`: the empty lines above the header row.

    A file DuckDB cannot read at all is refused with its lines counted as rows (`breaks`: a
    line break inside a quoted value makes that count one too high), so the report shows how
    much the refusal holds back; a carriage return outside a CRLF line ending, the one cause
    seen, is named."""
    columns = "{" + ", ".join(f"{c}: 'VARCHAR'" for c in _positional(width)) + "}"
    compression = "gzip" if file.path.name.endswith(".gz") else "none"
    skip = f", skip = {skipped}" if skipped else ""
    try:
        con.execute(
            f"""create or replace temp table {name}__parsed as
            select * from read_csv({sql_str(str(file.path))}, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', columns = {columns},
                compression = '{compression}', null_padding = false, strict_mode = true,
                store_rejects = true, rejects_table = '{name}__rj', rejects_scan = '{name}__rs'
                {skip})"""
        )
    except duckdb.Error as exc:
        reason = f"unreadable CSV file ({type(exc).__name__})"
        if breaks.cr > breaks.crlf:
            reason += (
                f": it holds {breaks.cr - breaks.crlf} carriage return(s) (CR) that end no CRLF "
                "line, outside quotes the CSV reader cannot place them; quote the values that "
                "hold them (or remove them) in the export"
            )
        raise FileRefused(reason, rows_read=max(breaks.lines - 1 - skipped, 0)) from None


def _reject_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    duckdb_lines: list[int],
    scan: CsvRecords | None,
    blanks: list[int],
) -> None:
    """Turn DuckDB's rejects (`<name>__rj`, at `duckdb_lines`) into `<name>__rej`: one row per
    rejected record, numbered as a data row, holding the record as the file has it (`scan`,
    which kept the bytes of those records; `blanks`: the blank lines' positions)."""
    reasons = " ".join(f"when {sql_str(k)} then {sql_str(v)}" for k, v in _CSV_REASONS.items())
    # DuckDB's `line` counts records and blank lines (header = 1), its parsed rows skip blank
    # lines: data row = line - 1 - the blank lines above it (`ingestion.csv_records`).
    # (`line` counts the skipped empty lines above the header too: they are blank lines.)
    blanks_above, exact, join = "0", "null::varchar", ""
    if duckdb_lines and scan is not None:
        con.execute(
            f"create or replace temp table {name}__blank as "
            "select unnest(cast(? as bigint[])) as position",
            [blanks],
        )
        blanks_above = f"(select count(*) from {name}__blank as b where b.position < r.line - 1)"
        # the rejected records as the file holds them (`csv_records.raw_record_json`); DuckDB's
        # copy only where the pass kept none (past `csv_records.FILE_LIMIT`)
        records = pa.table(  # noqa: F841 - read by DuckDB's replacement scan
            {
                "line": list(duckdb_lines),
                "raw_record": [
                    raw_record_json(kept) if (kept := scan.records.get(line - 1)) else None
                    for line in duckdb_lines
                ],
            },
            schema=pa.schema([("line", pa.int64()), ("raw_record", pa.string())]),
        )
        con.execute(f"create or replace temp table {name}__exact as select * from records")
        exact, join = "e.raw_record", f"left join {name}__exact as e on e.line = r.line"
    con.execute(
        f"""create or replace temp table {name}__rej as
        select r.line - 1 - {blanks_above} as row_number,
            null::varchar as column_name,
            string_agg(distinct case error_type {reasons} else lower(error_type) end, '; ')
                as reason,
            coalesce(any_value({exact}), to_json({{'raw_line': any_value(csv_line)}})::varchar)
                as raw_record
        from {name}__rj as r {join} group by r.line"""
    )
    con.execute(
        f"drop table {name}__rj; drop table {name}__rs; drop table if exists {name}__blank; "
        f"drop table if exists {name}__exact"
    )


@dataclass
class LineBreaks:
    """A CSV's `\\n` line breaks, counted byte by byte at C speed (`bytes.count`), fed the
    file's text piece by piece in order."""

    lf: int = 0  # every `\n`
    crlf: int = 0  # the `\n`s right after a `\r`
    cr: int = 0  # every `\r`
    last: bytes = b""  # the last byte fed so far

    def feed(self, piece: bytes) -> None:
        """Count the line breaks in the file's next `piece` (one may straddle two pieces)."""
        if not piece:
            return
        self.lf += piece.count(b"\n")
        if self.last == b"\r" and piece[:1] == b"\n":
            self.crlf += 1
        if b"\r" in piece:  # a quick scan; counting `\r\n` costs twice counting `\n`
            self.crlf += piece.count(b"\r\n")
            self.cr += piece.count(b"\r")
        self.last = piece[-1:]

    @property
    def both_kinds(self) -> bool:
        """Whether the file holds both a `\\r\\n` and a bare `\\n`, inside quoted values or
        not: only then can its records end in both, and only then must it be walked."""
        return 0 < self.crlf < self.lf

    @property
    def cr_only_rows(self) -> int:
        """The data rows of a file whose lines end in a `\r` alone (its header's line left out)."""
        return self.cr - (self.last == b"\r")

    @property
    def lines(self) -> int:
        """Physical lines: one per `\\n`, and an unterminated last line."""
        return self.lf + (self.last not in (b"", b"\n"))


#: Bytes read per step when counting line breaks: the file is never held whole.
_COUNT_CHUNK = 1 << 24


def count_line_breaks(path: Path) -> LineBreaks:
    """`LineBreaks` of an uncompressed file, in one read: from the page cache about 0.05 s per
    100 MB of an LF file, 0.15 s of a CRLF file (a `.gz` file is counted while its gzip check
    inflates it instead)."""
    breaks = LineBreaks()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_COUNT_CHUNK), b""):
            breaks.feed(chunk)
    return breaks


def _refuse_mixed_line_endings(
    file: LandingFile, breaks: LineBreaks, skipped: int
) -> CsvRecords | None:
    """Refuse a CSV whose records end in both CRLF and LF, as the landing contract says.

    DuckDB's reader takes one kind of ending per file and misreads the others: rows of
    unquoted values failed the whole read, but in a file of quoted values an LF-ended record
    was joined with the next one into one rejected row, and the second record was lost without
    a word. A file whose line breaks are all of one kind (the common case) is settled by the
    byte count alone; only a file holding both (a CRLF file with a bare LF inside a quoted
    value, say) is walked record by record (`scan_records`), which tells a value's line break
    from a record's. That walk is returned, for the record check to reuse.
    """
    if not breaks.both_kinds:
        return None
    scan = scan_records(file.path)
    if scan.mixed_line_endings:
        rows = scan.positions - 1 - len(set(scan.blanks) | set(range(skipped)))
        raise FileRefused(MIXED_LINE_ENDINGS, rows_read=rows)
    return scan


def _refuse_unclosed_quote(scan: CsvRecords, blanks: list[int]) -> None:
    """Refuse a CSV in which a quoted value opens and never closes, when lines follow it.

    DuckDB's reader and the record scan alike read everything from that quote to the end of
    the file as one record, which is rejected as one row: every row below it was lost to a
    single quarantined row, and the share of bad rows looked like one row in the file. Where
    that record should have ended cannot be known, so the file is refused and nothing of it
    loads. An open quote on the file's last line (a row cut off mid-value) takes in no other
    line and stays one quarantined row.
    """
    unclosed = scan.unclosed_quote
    if unclosed is None or not unclosed.lines_taken:
        return
    row = unclosed.position - sum(1 for b in blanks if b < unclosed.position)
    records = scan.positions - 1 - len(blanks)
    raise FileRefused(
        f"a quoted value opened in data row {row} never closes, so the {unclosed.lines_taken} "
        "line(s) below it would be read as part of that one value; nothing of the file loads "
        "(close the quote in the export, or double every quote inside a quoted value)",
        rows_read=records + unclosed.lines_taken,
    )


def _refuse_unaccounted_records(
    scan: CsvRecords,
    blank_lines: int,
    accounted: int,
    header: list[str],
    contract_columns: Collection[str],
) -> None:
    """Refuse a CSV when DuckDB's reader parsed or rejected (`accounted`) fewer or more rows
    than the file holds (`scan`: its records and blank lines, `blank_lines` of them blank).

    A record neither loaded nor quarantined would be lost without a word: the file is refused
    instead, and nothing of it loads. A file none of whose header's names is a contract column
    gets the validator's reason (`NO_CONTRACT_COLUMNS`: a `;`-separated file of quoted values,
    of which DuckDB read nothing, is no header-only file).
    """
    expected = scan.positions - 1 - blank_lines
    if accounted == expected:
        return
    if contract_columns and not _contract_keys(header, contract_columns):
        raise FileRefused(NO_CONTRACT_COLUMNS, rows_read=expected)
    raise FileRefused(
        f"rows unaccounted for: the file holds {expected} data row(s) but the CSV reader read "
        f"or rejected {accounted} (check the file's quoting and line endings); nothing of it "
        "loads",
        rows_read=expected,
    )


def _positional(count: int) -> list[str]:
    """The reader's own names for a file's `count` columns while it numbers the rows.

    The rows are numbered by DuckDB's `rowid`, which a file column named `rowid` (any case)
    shadows: such a file lost rows and misnumbered the rest, or failed on every run. Names
    starting with `__` are refused in any file (`refuse_loader_columns`), so `__c1`, `__c2`, ...
    never clash with a file's column and never shadow `rowid`.
    """
    return [f"__c{i}" for i in range(1, count + 1)]


def _number_rows(con: duckdb.DuckDBPyConnection, name: str, header: list[str]) -> None:
    """Give parsed rows their data row numbers: file order, skipping the rejected rows'.

    `<name>__parsed` holds the columns under the reader's own names (`_positional`), in header
    order; the rows come out under the file's names.
    """
    cols = ", ".join(
        f"p.{own} as {quote_ident(h)}"
        for own, h in zip(_positional(len(header)), header, strict=True)
    )
    if not con.execute(f"select count(*) from {name}__rej").fetchone()[0]:
        # The common case costs nothing: row n of the file is rowid n - 1.
        con.execute(
            f"create or replace temp view {name} as "
            f"select {cols}, p.rowid + 1 as __row from {name}__parsed p"
        )
        return
    con.execute(
        f"""create or replace temp table {name} as
        with nums as (
            select n from range(1, (select count(*) from {name}__parsed)
                + (select count(*) from {name}__rej) + 1) t(n)
            anti join {name}__rej r on r.row_number = t.n
        ),
        numbered as (select n, row_number() over (order by n) - 1 as pos from nums)
        select {cols}, numbered.n as __row
        from {name}__parsed p join numbered on p.rowid = numbered.pos
        order by numbered.n"""
    )
    con.execute(f"drop table {name}__parsed")


def _newline_records(file: LandingFile) -> int:
    """Records in a file if every line is one: newlines, plus an unterminated last line."""
    count, last = 0, b"\n"
    with open(file.path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 24), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


#: A JSON line whose object has none of the table's fields: not a record of this table.
_NO_CONTRACT_FIELD_REASON = "JSON object has none of the table's fields (not a record of it)"


#: Distinct key sets a JSON Lines file may have for the native read (an export writes a
#: handful: optional keys left out); more send the file to the line-by-line reader.
MAX_KEY_SETS = 1000


def _contract_keys(keys: Collection[str], contract_columns: Collection[str]) -> list[str]:
    """The file's keys that are stored as a contract column, by the rule the validator matches
    columns with (`drift_names.stored_name`: `surveyId` and `Survey ID` are `survey_id`)."""
    if not contract_columns:
        return []
    from ingestion.drift_names import stored_name  # it imports this module

    wanted = set(contract_columns)
    # dlt's normaliser costs ~15 us a key, and a map keyed by values has a key per line: only
    # keys whose letters and digits (after dlt's own symbol spellings) are a contract column's
    # can be stored as one, so only those are normalised
    squashed = {_letters_and_digits(c) for c in wanted}
    return sorted(
        k for k in keys if _letters_and_digits(k) in squashed and stored_name(k) in wanted
    )


def _letters_and_digits(name: str) -> str:
    """`name` lower-cased, with dlt's spellings of + * @ | (x x a l), letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower().translate(_DLT_SYMBOLS))


#: The symbols dlt's snake_case naming spells as letters.
_DLT_SYMBOLS = str.maketrans("+*@|", "xxal")


def _no_contract_field(json_expr: str, contract_keys: Collection[str]) -> str:
    """SQL: true when the object `json_expr` has none of `contract_keys` (`_contract_keys`);
    false when there are none: a file none of whose keys is a contract column is no stray
    line's business but the validator's (a missing column stops the table)."""
    if not contract_keys:
        return "false"
    return f"not list_has_any(json_keys({json_expr}), [{sql_str_list(sorted(contract_keys))}])"


def _jsonl_keys(
    con: duckdb.DuckDBPyConnection, path: str, contract_columns: Collection[str] = ()
) -> list[str] | None:
    """Every top-level key of the file's objects, in order of first appearance.

    The order comes from DuckDB's sampled schema (the first lines); the complete set from one
    pass over the whole file that only lists each object's keys. Asking DuckDB's reader to
    sample the whole file instead infers every value's type too: twice the cost, and the
    types are thrown away (every value is read as text). A key the sample missed (drift that
    starts late in a file) is rare: only then is the whole file sampled for its place.
    The raw keys are checked here (`refuse_unusable_keys`): the sampled schema has already
    renamed a clashing key.
    None when some object has none of the file's keys that are stored as a contract column
    (`_contract_keys`): such a line is rejected by the line-by-line reader, and its keys are
    not columns. When no key of the file is a contract column the rule is off and the
    validator decides (a missing contract column stops the table). None too for a file of
    more than `MAX_KEY_SETS` distinct key sets (a map keyed by values has one per line).
    """
    # one pass: each distinct set of keys an object has (an export writes a handful), from
    # which both the file's keys and whether some object has none of the table's fields
    key_sets = [
        set(ks)
        for (ks,) in con.execute(
            f"""select distinct json_keys(json)
            from read_json_objects({path}, format = 'newline_delimited')"""
        ).fetchall()
    ]
    if len(key_sets) > MAX_KEY_SETS:
        return None  # not one export's records: the line-by-line reader sorts them out
    keys: set[str] = set().union(*key_sets)
    contract_keys = set(_contract_keys(keys, contract_columns))
    if contract_keys and any(not ks & contract_keys for ks in key_sets):
        return None
    refuse_unusable_keys(keys)
    sampled = _described_keys(con, path, whole_file=False)
    return sampled if keys <= set(sampled) else _described_keys(con, path, whole_file=True)


def _described_keys(con: duckdb.DuckDBPyConnection, path: str, whole_file: bool) -> list[str]:
    """The columns DuckDB's JSON reader infers from the first lines, or from `whole_file`."""
    sample = ", sample_size = -1" if whole_file else ""
    described = con.execute(
        f"""describe select * from read_json({path}, format = 'newline_delimited',
            records = true{sample}, maximum_depth = 1)"""
    ).fetchall()
    return [row[0] for row in described]


def refuse_unusable_keys(keys: Collection[str]) -> None:
    """Refuse a JSON Lines file whose keys cannot each become their own column.

    DuckDB's reader would turn an empty key into a column `C<n>` holding NULL, losing its
    values; a key of only whitespace is stored under an empty name and a key holding a NUL
    cannot be spelled in SQL: either failed the file on every run. Keys that differ only by
    case are refused as any file's columns are (`refuse_case_clashes`).
    """
    if "" in keys:
        raise FileRefused('a JSON object has an empty key (""): it cannot name a column')
    # Keys, not positions: a file's keys have no one order. A key is never printed.
    if any(not key.strip() for key in keys):
        raise FileRefused(
            "a JSON object has a key that is only whitespace (a space, a tab, a no-break "
            "space): it cannot name a column"
        )
    if any("\x00" in key for key in keys):
        raise FileRefused(
            "a JSON object has a key holding a NUL character: it cannot name a column"
        )
    refuse_case_clashes(keys, "JSON keys")


#: Most columns a file may have (a contract table has about twenty; drift adds a few).
MAX_COLUMNS = 1000


def refuse_case_clashes(names: Collection[str], what: str) -> None:
    """Refuse a file whose column names (`what`: "JSON keys", "CSV column names", ...) differ
    only by upper/lower case, or that has more than `MAX_COLUMNS` of them (every format's
    names pass here before a reader makes a column of each).

    Column names are case-insensitive (in DuckDB, and so in the raw layer): DuckDB's readers
    turn `Name` beside `name` into a column `Name_1` (holding NULL for JSON, the values under
    an invented name for Parquet) or fail to bind (CSV). The names are not printed: a name may
    be a value (a header row missing, a map keyed by a patient's name), and this reason is
    printed and stored.
    """
    if len(names) > MAX_COLUMNS:
        # before any reader makes a column of each: 300,000 keys once took DuckDB past 18 GB
        raise FileRefused(
            f"{what}: {len(names)} distinct names, more than {MAX_COLUMNS}: not one table's "
            "columns (a map keyed by values?)"
        )
    folded: dict[str, int] = {}
    for name in names:
        folded[name.casefold()] = folded.get(name.casefold(), 0) + 1
    clashes = sum(1 for n in folded.values() if n > 1)
    if clashes:
        raise FileRefused(
            f"{what} differ only by upper/lower case ({clashes} such name(s)); column names "
            "are case-insensitive, so their values would collide (rename them in the export)"
        )


def _read_jsonl_fast(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    name: str,
    text_columns: Collection[str],
    contract_columns: Collection[str] = (),
) -> list[str] | None:
    """Native read of a well-formed JSONL file; None when it must be read line by line."""
    path = sql_str(str(file.path))
    header = _jsonl_keys(con, path, contract_columns)
    if header is None:
        return None  # a line with none of the table's fields: rejected line by line
    refuse_loader_columns(header)
    spec = "{" + ", ".join(f"{sql_str(h)}: 'VARCHAR'" for h in header) + "}"
    own = ", ".join(
        f"{quote_ident(h)} as {c}" for h, c in zip(header, _positional(len(header)), strict=True)
    )
    con.execute(
        f"""create or replace temp table {name}__parsed as select {own} from read_json({path},
            format = 'newline_delimited', records = true, columns = {spec})"""
    )
    rows = con.execute(f"select count(*) from {name}__parsed").fetchone()[0]
    if rows != _newline_records(file):
        return None  # blank lines: numbering by line needs the tolerant path
    con.execute(
        f"""create or replace temp table {name}__rej (
            row_number bigint, column_name varchar, reason varchar, raw_record varchar)"""
    )
    _number_rows(con, name, header)
    if _may_hold_nested_text(con, name, [h for h in header if h in text_columns]):
        return None  # the tolerant path tells `{...}` the text from `{...}` the object
    return header


def _may_hold_nested_text(
    con: duckdb.DuckDBPyConnection, relation: str, text_columns: list[str]
) -> bool:
    """Whether a text column of the native read holds a value that could have been a JSON
    object or array: the reader renders those as their JSON text, which starts with `{` or
    `[`. A text value that merely starts so sends the file down the exact (slower) path, so
    the common file pays one prefix test per text value (about 0.1 s per million messages)."""
    if not text_columns:
        return False
    nested = " or ".join(
        f"starts_with({quote_ident(c)}, '{{') or starts_with({quote_ident(c)}, '[')"
        for c in text_columns
    )
    return bool(con.execute(f"select exists (from {relation} where {nested})").fetchone()[0])


def _read_parquet(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    name: str,
    keep_types: Mapping[str, str],
    text_columns: Collection[str] = (),
) -> tuple[list[str], frozenset[str], frozenset[str]]:
    """A Parquet file's rows: text, except the columns stored in their `keep_types` type.

    Returns the columns, the ones kept typed, and the money columns stored as FLOAT
    (`RawFile.single_precision`).

    Casting a typed column to text only for the validator to parse it back cost most of a
    Parquet file's load (about 2.5 s of the large chain's two POS files).
    """
    path = sql_str(str(file.path))
    try:
        # The names as written (DuckDB's own list has renamed a case clash to `name_1`).
        written = pq.read_schema(file.path).names
    except (OSError, pa.ArrowException) as exc:
        raise FileRefused(f"unreadable Parquet file ({type(exc).__name__})") from None
    refuse_blank_names(written, "Parquet schema")
    refuse_nul_names(written, "Parquet schema")
    refuse_case_clashes(written, "Parquet column names")
    try:
        described = con.execute(f"describe select * from read_parquet({path})").fetchall()
        header = [row[0] for row in described]
        refuse_loader_columns(header)
        refuse_nested_text(described, text_columns)
        typed = frozenset(
            column for column, stored, *_ in described if keep_types.get(column) == stored
        )
        stored = {column: kind for column, kind, *_ in described}
        # Under the reader's own names, numbered by the copy's `rowid` (`_number_rows`), not by
        # the reader's `file_row_number` column: a file column of that name clashed with it and
        # the file was refused as unreadable.
        cols = ", ".join(
            f"{_as_read(h, h in typed, stored[h], keep_types.get(h))} as {own}"
            for h, own in zip(header, _positional(len(header)), strict=True)
        )
        con.execute(
            f"create or replace temp table {name}__parsed as "
            f"select {cols} from read_parquet({path})"
        )
    except duckdb.Error as exc:
        raise FileRefused(f"unreadable Parquet file ({type(exc).__name__})") from None
    con.execute(
        f"""create or replace temp table {name}__rej (
            row_number bigint, column_name varchar, reason varchar, raw_record varchar)"""
    )
    _number_rows(con, name, header)
    single = frozenset(
        h
        for h in header
        if stored[h] == "FLOAT" and _is_decimal(keep_types.get(h)) and h not in typed
    )
    return header, typed, single


def _is_decimal(wanted: str | None) -> bool:
    """Whether the contract type `wanted` (a DuckDB type, or None for no contract column) is
    money: a DECIMAL."""
    return wanted is not None and wanted.startswith("DECIMAL")


def refuse_nested_text(described: list[tuple], text_columns: Collection[str]) -> None:
    """A Parquet file whose schema stores a text column as a struct, list or map is refused:
    every value in it would load as its rendering, never as the text the contract wants."""
    # The contract's column name and the kind only: a STRUCT's type names its fields, and a
    # field name may be a value (a dict keyed by a patient's name), while this reason is
    # stored, published (ops.loaded_files, ops.check_results) and printed.
    nested = [
        f"{column} ({_nested_kind(kind)})"
        for column, kind, *_ in described
        if column in text_columns and _nested_kind(kind)
    ]
    if nested:
        raise FileRefused("nested Parquet type where the contract wants text: " + ", ".join(nested))


def _nested_kind(duckdb_type: str) -> str | None:
    """STRUCT, MAP, UNION or LIST for a nested DuckDB type (its base kind, without the field
    names or element types the full type spells out); None for any other type."""
    if duckdb_type.endswith("]"):
        return "LIST"  # a list of anything, STRUCT(...)[] included
    for kind in ("STRUCT", "MAP", "UNION"):
        if duckdb_type.startswith(kind):
            return kind
    return None


def _as_read(column: str, typed: bool, stored: str, wanted: str | None) -> str:
    """SQL for a Parquet column as the reader hands it on: as stored when `typed`, else as text.

    A DOUBLE or FLOAT column where the contract wants a decimal is the one exception
    (`_double_money`): its text is that of the amount it stands for. A FLOAT is widened to
    DOUBLE first (exactly: every float is a double) so it is judged by the value it holds. Its
    own shortest text is a rounded amount: 149999.99 stored as a float holds 149999.984375, and
    its text `149999.98` loaded a cent that was never written.
    """
    ident = quote_ident(column)
    if typed:
        return ident
    if stored in ("DOUBLE", "FLOAT") and _is_decimal(wanted):
        return _double_money(ident if stored == "DOUBLE" else f"cast({ident} as double)")
    return f"cast({ident} as varchar)"


#: How far a double may sit from a whole cent and still be read as it: a billionth of a dollar.
_DOUBLE_CENT_TOLERANCE = 1e-9
#: DECIMAL(18,2)'s bound: a larger double keeps its own text (`1e+16`, refused as a decimal).
_DOUBLE_MONEY_LIMIT = 1e16


def _double_money(ident: str) -> str:
    """SQL giving a DOUBLE amount's text: whole cents when it is one, else its full digits.

    A binary double cannot hold most decimal amounts exactly: an export's 12.35 arrives as
    12.3499999999999996447..., and a sum such as 0.1 + 0.2 as 0.30000000000000004. Judging that
    digit string would quarantine such amounts as "more than 2 decimal places", and casting it
    to DECIMAL(18,2) would round away a real third decimal (12.345) unseen. So the double is
    compared with itself rounded to cents: `round` lands on the very double an exporter's cent
    amount became (difference 0), and the tolerance, far below a cent, absorbs the last-bit
    error of float arithmetic. Such a value is read as its cent amount's text; any other
    (12.345, 1e-05, NaN, infinity) keeps its own text, which the validator then refuses as it
    would the same text in a CSV. (Beyond about $7e13 a double holds no cents at all; there it
    passes as the amount it holds, as its own text would.)
    A FLOAT (single precision) comes here widened to DOUBLE (`_as_read`): a float holds whole
    cents only for amounts such as 12.25 or 12.50, so any other float amount is quarantined by
    its true digits instead of loading as a neighbouring cent.
    """
    cents = f"round({ident}, 2)"
    return (
        f"case when isfinite({ident}) and abs({ident}) < {_DOUBLE_MONEY_LIMIT}"
        f" and abs({ident} - {cents}) < {_DOUBLE_CENT_TOLERANCE}"
        f" then cast(cast({cents} as decimal(18, 2)) as varchar)"
        f" else cast({ident} as varchar) end"
    )


def _read_jsonl(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    name: str,
    text_columns: Collection[str] = (),
    contract_columns: Collection[str] = (),
) -> list[str]:
    """One JSON object per line; a line that is not one is a rejected row, not a failed file.

    DuckDB's native reader is tried first (5x faster); it rejects a whole file for one bad
    line (malformed, or an object that repeats a key) and skips blank lines (which would shift
    row numbers), so any such file is read again line by line.
    """
    try:
        header = _read_jsonl_fast(con, file, name, text_columns, contract_columns)
    except duckdb.Error:
        header = None
    if header is not None:
        return header
    drop_prefixed(con, name)
    try:
        con.execute(
            f"""create or replace temp table {name}__lines as
            select generate_subscripts(parts, 1) as n, rtrim(unnest(parts), chr(13)) as line
            from (select string_split(content, chr(10)) as parts
                  from read_text({sql_str(str(file.path))}))"""
        )
    except duckdb.Error:
        raise FileRefused("file is not valid UTF-8 (the contract requires UTF-8)") from None
    # A byte-order mark (Windows exporters write one) is not part of the first object, as the
    # CSV reader also ignores it.
    con.execute(
        f"update {name}__lines set line = substr(line, 2) "
        f"where n = 1 and starts_with(line, chr(65279))"
    )
    con.execute(f"delete from {name}__lines where trim(line) = ''")
    object_keys = con.execute(
        f"""select distinct unnest(json_keys(line)) from {name}__lines
        where json_valid(line) and json_type(line) = 'OBJECT'"""
    ).fetchall()
    stray = _no_contract_field(
        "line", _contract_keys({k for (k,) in object_keys}, contract_columns)
    )
    con.execute(
        f"""create or replace temp table {name}__rej as
        select n as row_number, null::varchar as column_name,
            case when not json_valid(line) then 'malformed JSON line'
                 when json_type(line) <> 'OBJECT' then 'JSON line is not an object'
                 when len(json_keys(line)) > len(list_distinct(json_keys(line)))
                     then 'JSON object repeats a key (which value is meant is unknown)'
                 else {sql_str(_NO_CONTRACT_FIELD_REASON)} end as reason,
            to_json({{'raw_line': line}})::varchar as raw_record
        from {name}__lines
        where not json_valid(line) or json_type(line) <> 'OBJECT'
            or len(json_keys(line)) > len(list_distinct(json_keys(line)))
            or {stray}"""
    )
    con.execute(f"delete from {name}__lines where n in (select row_number from {name}__rej)")
    keys = con.execute(
        f"""select k from (
            select unnest(json_keys(line)) as k, n,
                generate_subscripts(json_keys(line), 1) as i from {name}__lines)
        group by k order by min([n, i])"""
    ).fetchall()
    header = [k for (k,) in keys]
    refuse_unusable_keys(header)
    refuse_loader_columns(header)
    if not header and not con.execute(f"select count(*) from {name}__rej").fetchone()[0]:
        raise FileRefused("empty file: no JSON lines")
    if header:
        # One JSON parse per line for all columns (a parse per column costs 4x more), into a
        # struct named by a JSON spec: a JSON path cannot name every key (`*` is a wildcard
        # even quoted), and the values are the same text DuckDB's reader gives.
        # Text columns come as JSON, so that an object or array is told from a string.
        texts = [h for h in header if h in text_columns]
        spec = sql_str(json.dumps({h: "JSON" if h in texts else "VARCHAR" for h in header}))
        con.execute(
            f"""create or replace temp table {name}__vals as
            select n as __row, json_transform(line, {spec}) as __v
            from {name}__lines order by n"""
        )
        _reject_nested_text(con, name, texts)
        cols = ", ".join(
            f"struct_extract(__v, {sql_str(h)})"
            + ("->>'$'" if h in texts else "")
            + f" as {quote_ident(h)}"
            for h in header
        )
        con.execute(f"create or replace temp view {name} as select {cols}, __row from {name}__vals")
    else:
        con.execute(f"create or replace temp table {name} as select n as __row from {name}__lines")
    con.execute(f"drop table {name}__lines")
    return header


def _reject_nested_text(con: duckdb.DuckDBPyConnection, name: str, texts: list[str]) -> None:
    """Move the lines with a JSON object or array in a text column from `<name>__vals` to the
    rejects: one rejected row per line, naming every such column."""
    if not texts:
        return
    kinds = " union all ".join(
        f"select __row, {sql_str(h)} as col, {i} as pos from {name}__vals "
        f"where json_type(struct_extract(__v, {sql_str(h)})) in ('OBJECT', 'ARRAY')"
        for i, h in enumerate(texts)
    )
    con.execute(
        f"""insert into {name}__rej
        select bad.__row, string_agg(bad.col, ', ' order by bad.pos),
            'a JSON object or array where the contract wants text',
            to_json({{'raw_line': any_value(lines.line)}})::varchar
        from ({kinds}) as bad join {name}__lines as lines on lines.n = bad.__row
        group by bad.__row"""
    )
    con.execute(f"delete from {name}__vals where __row in (select row_number from {name}__rej)")
