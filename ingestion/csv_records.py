"""A CSV file's blank lines and the bytes of chosen records, found as DuckDB's reader finds them.

A rejected CSV row is reported by its data row number (the header is row 0), as a parsed row
is. DuckDB's reject table gives a `line` that counts every record *and every blank line*
before it (a quoted value spanning several lines counts once), while its parsed rows skip
blank lines. Without a correction, a file with a blank line above a rejected row reported the
reject one row too far down and numbered the parsed rows after it wrongly (the numbering
skips the rejects' numbers), so the quarantine pointed at the wrong line of the extract.

This module finds the blank lines in one pass, following the file as DuckDB 1.5's reader does
with the options `ingestion.readers` gives it (`quote = '"'`, `escape = '"'`, strict mode):

- A quote opens a quoted value only where a field starts, or after one space there; anywhere
  else in an unquoted field it is data (`Suite 5" wide`). Counting quote parity instead took
  `Suite 5" wide` for an open quote, so the blank lines after it went uncounted and the rows
  below were numbered wrongly.
- Inside a quoted value line breaks and commas are data and `""` is a quote. After the closing
  quote, spaces may follow and a quote there opens the value again.
- A record ends at a line break outside quotes. In a file whose first line ends in `\\r\\n`
  that is `\\r\\n`, `\\n` or a lone `\\r`. In any other file it is `\\n`, and a `\\r` that
  does not follow a quoted value: so `\\r\\n` is two breaks there, and a line holding only
  `\\r` is two blank lines (DuckDB refuses most other stray `\\r`s in such a file).

`tests/ingestion/test_ingest_csv_quotes.py` checks each of these against DuckDB itself.

The same pass keeps the exact bytes of the records asked for (the rejected ones), which the
quarantine stores: DuckDB's own copy of a rejected line (`csv_line`) replaces bytes that are not
UTF-8 with `?`, keeps only the first 10,000 characters of a longer record and carries the blank
lines above it, so a rejected row could not be rebuilt from it once the extract is gone.

It also counts the records and notes how each ends (CRLF or LF), so the reader can refuse a file
that mixes the two, or whose records DuckDB's reader did not all account for.

It runs only for files with rejected rows, or whose line breaks a byte count cannot settle
(blank lines, line breaks inside quoted values, both CRLF and LF: `ingestion.readers`). Most
lines are decided by one C-level scan (no quote, or quotes that open and close at field
boundaries); only the others are walked field by field. Per 100 MB (1 M lines): 0.5 s without
quotes, 2 s with every field quoted, 4 s if every line holds a stray quote.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

#: Bytes read per step: the file is never held whole.
_CHUNK = 1 << 24
#: Bytes kept of one wanted record: twice DuckDB's largest row (2 MB), so a record the reader
#: refused as too long is kept whole up to that size. The rest is counted, not kept.
RECORD_LIMIT = 1 << 22
#: Bytes kept of all wanted records of one file: a file of many long bad rows (or one quote
#: left open to the end of a large file) cannot fill the memory. Past it, records are left out.
FILE_LIMIT = 1 << 26
#: How far to look for the first line break. DuckDB looks in its first read buffer (tens of
#: MB); a header line is far shorter than either.
_HEAD_LIMIT = 1 << 25

#: A line that is one whole record whose quoted values open and close in it, at field
#: boundaries. Possessive, so a line that does not match fails without backtracking.
_FIELD = rb'(?:"(?:[^"]|"")*+"|[^",\r]*+)'
_WHOLE_RECORD = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*+")
#: Where an unquoted field may end (or, for a `\r`, the record).
_FIELD_END = re.compile(rb"[,\r]")
#: The file's first line break, as DuckDB detects its line-break style.
_FIRST_BREAK = re.compile(rb"\r*\n|\r|\n")

_QUOTE, _SPACE, _COMMA, _CR = b'"'[0], b" "[0], b","[0], b"\r"[0]

# Reader states, named after DuckDB's CSV state machine.
_RECORD_START = 0  # nothing of the record read yet: a line break here makes a blank line
_FIELD_START = 1  # just after a delimiter
_SPACE_LED = 2  # one space at a field's start: a quote still opens a quoted value
_UNQUOTED = 3  # inside an unquoted field: a quote is data
_QUOTED = 4  # inside a quoted value: line breaks, commas and `""` are data
_CLOSED = 5  # after a quoted value's closing quote (and any spaces): a quote reopens it
_INVALID = 6  # after a quoted value and other text (a rejected row): a quote is data, and so
# is a `\r` in a file that is not CRLF

_OPENS_QUOTE = (_RECORD_START, _FIELD_START, _SPACE_LED, _CLOSED)


def _chunks(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _is_crlf(head: bytes) -> bool:
    """Whether DuckDB reads the file as CRLF: its first line break is `\\r` (or several) then
    `\\n`, wherever it falls, quotes or not (DuckDB looks no further)."""
    found = _FIRST_BREAK.search(head)
    return found is not None and found.group().endswith(b"\r\n")


class _Records:
    """Records and blank lines seen so far, fed one physical line (split at `\\n`, without
    it) at a time; `blanks` holds the blank lines' positions, `records` the bytes of the
    records at the `wanted` positions (without the line break that ends them)."""

    def __init__(self, *, crlf: bool, wanted: Collection[int] = ()) -> None:
        self.crlf = crlf
        self.wanted = frozenset(wanted)
        self.blanks: list[int] = []
        self.records: dict[int, KeptRecord] = {}
        self._room = FILE_LIMIT  # bytes of this file still to keep
        self._size = 0  # bytes of the wanted record being read so far
        self.position = 0  # of the record being read, among records and blank lines
        self.state = _RECORD_START
        #: the wanted record being read: its parts on earlier lines (None: not wanted)
        self._parts: list[bytes] | None = [] if 0 in self.wanted else None
        self._line = b""
        self._from = 0  # where in `_line` the record being read starts
        #: the kinds of `\n` line break that ended a record or blank line: `\r\n`, `\n`
        self.endings: set[bytes] = set()
        self._lines_taken = 0  # physical lines begun inside the record being read's quotes
        self.unclosed_quote: UnclosedQuote | None = None

    def feed(self, line: bytes, ending: bytes = b"\n") -> None:
        """Take one physical line and the `ending` that followed it in the file (none for a
        last line without one), noting how a line break outside quotes ended it (`endings`)."""
        kind = b"\r\n" if line.endswith(b"\r") else b"\n"
        if self.state == _QUOTED:
            self._lines_taken += 1
        self._feed(line, ending)
        if ending and self.state != _QUOTED:
            self.endings.add(kind)

    def _feed(self, line: bytes, ending: bytes) -> None:
        """`feed` without noting the line break."""
        if self.crlf and line.endswith(b"\r"):
            line, ending = line[:-1], b"\r" + ending  # `\r\n` is one line break
        self._line, self._from = line, 0
        if self.state == _RECORD_START and b"\r" not in line:
            if not line:
                self._end_record(0)
                return
            if b'"' not in line or _WHOLE_RECORD.fullmatch(line):
                # one whole record: the line break ends it
                if self._parts is None and self.position + 1 not in self.wanted:
                    self.position += 1  # the common case, kept short
                else:
                    self.state = _UNQUOTED
                    self._end_record(len(line))
                return
        self._walk(line)
        if self.state != _QUOTED:  # the line break ends the record, or makes a blank line
            self._end_record(len(line))
        elif self._parts is not None:  # the line break is part of a quoted value
            self._keep(line[self._from :] + ending)

    def finish(self) -> None:
        """Keep what was read of a wanted record the file ended inside (an unclosed quote), and
        count it: DuckDB's reader rejects it as a record of its own."""
        if self._parts is not None and self._size:
            self._store()
        if self.state == _QUOTED:
            self.unclosed_quote = UnclosedQuote(self.position, self._lines_taken)
            self.position += 1

    def _keep(self, piece: bytes) -> None:
        room = min(RECORD_LIMIT - self._size, self._room)
        if room > 0 and self._parts is not None:
            self._parts.append(piece[:room])
            self._room -= min(room, len(piece))
        self._size += len(piece)

    def _store(self) -> None:
        data = b"".join(self._parts or [])
        if data or not self._size:  # nothing kept of a record with bytes: the file's limit
            self.records[self.position] = KeptRecord(data, self._size)

    def _end_record(self, at: int) -> None:
        """The record being read ends at `at` in the current line (a blank line if nothing of
        it was read)."""
        if self.state == _RECORD_START:
            self.blanks.append(self.position)
        if self._parts is not None:
            self._keep(self._line[self._from : at])
            self._store()
        self.position += 1
        self.state = _RECORD_START
        self._from = at + 1
        self._parts = [] if self.position in self.wanted else None
        self._size = 0
        self._lines_taken = 0

    def _walk(self, line: bytes) -> None:
        """Follow the reader's states through a line the fast checks could not decide."""
        pos, end = 0, len(line)
        while pos < end:
            if self.state == _QUOTED:
                close = line.find(b'"', pos)
                if close < 0:
                    return  # the line break is part of the value
                pos, self.state = close + 1, _CLOSED
                continue
            if self.state in (_UNQUOTED, _INVALID):
                found = _FIELD_END.search(line, pos)
                if found is None:
                    return
                pos = found.start()
            byte = line[pos]
            if byte == _COMMA:
                self.state = _FIELD_START
            elif byte == _CR:
                self._carriage_return(pos)
            else:
                self.state = self._after(byte)
            pos += 1

    def _carriage_return(self, at: int) -> None:
        """A `\\r` outside quotes (at `at`): a line break, except after a quoted value in a
        file that is not CRLF (DuckDB takes it as data there, and the record goes on)."""
        if not self.crlf and self.state in (_CLOSED, _INVALID):
            self.state = _INVALID
        else:
            self._end_record(at)

    def _after(self, byte: int) -> int:
        """The state after `byte` (not a comma or `\\r`) outside quotes and unquoted text."""
        if byte == _QUOTE:
            return _QUOTED if self.state in _OPENS_QUOTE else self.state
        if byte == _SPACE and self.state in (_RECORD_START, _FIELD_START):
            return _SPACE_LED
        if byte == _SPACE and self.state == _CLOSED:
            return _CLOSED
        return _INVALID if self.state == _CLOSED else _UNQUOTED


def _head(chunks: Iterator[bytes]) -> bytes:
    """The file's first bytes, through its first `\\n` (up to `_HEAD_LIMIT`): enough to see
    the line-break style whatever the chunk size."""
    head = b""
    for chunk in chunks:
        head += chunk
        if b"\n" in head or len(head) >= _HEAD_LIMIT:
            break
    # A UTF-8 byte order mark stays: DuckDB's reader sees it as the first field's text, so a
    # quote right after it is data, as in any unquoted field.
    return head


@dataclass(frozen=True)
class KeptRecord:
    """A wanted record's bytes (without the line break that ends it), cut at `RECORD_LIMIT`."""

    data: bytes
    #: the record's whole length in bytes (more than `len(data)` when it was cut)
    size: int


@dataclass(frozen=True)
class UnclosedQuote:
    """A quoted value opened and never closed: the record holding it runs to the end of the
    file, and every line after its start is read as part of that one value."""

    #: the record's position (as `CsvRecords.blanks` counts them)
    position: int
    #: the physical lines below the record's first that it took in (0: the file's last line)
    lines_taken: int


@dataclass(frozen=True)
class CsvRecords:
    """What one pass over a CSV file found (positions count the file's records and blank lines
    from 0, its first line, as `blank_line_records` says)."""

    #: the blank lines' positions, in order
    blanks: list[int] = field(default_factory=list)
    #: each wanted record's bytes, by position
    records: dict[int, KeptRecord] = field(default_factory=dict)
    #: how many records and blank lines the file holds (its header and the empty lines above
    #: it included): DuckDB's reader must account for every one
    positions: int = 0
    #: the kinds of line break (`\r\n`, `\n`) that end its records and blank lines; a line
    #: break inside a quoted value is part of the value, not an ending
    endings: frozenset[bytes] = frozenset()
    #: when the file ends inside a quoted value: that record's position and how many physical
    #: lines after its first one it took in (`UnclosedQuote`)
    unclosed_quote: UnclosedQuote | None = None

    @property
    def mixed_line_endings(self) -> bool:
        """Whether some records end in CRLF and others in LF. DuckDB's reader takes one kind
        per file: in a file of quoted values it joined an LF-ended record with the next one
        into one rejected row, and the second record was lost without a word."""
        return len(self.endings) > 1


def scan_records(path: Path, wanted: Collection[int] = ()) -> CsvRecords:
    """The file's blank lines and the bytes of the records at the `wanted` positions (a
    position that is no record of the file, or past `FILE_LIMIT`, is left out)."""
    chunks = _chunks(path)
    head = _head(chunks)
    records = _Records(crlf=_is_crlf(head), wanted=wanted)
    carry = b""
    for chunk in chain([head], chunks):
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        for line in lines:
            records.feed(line)
    if carry:
        records.feed(carry, ending=b"")
    records.finish()
    return CsvRecords(
        records.blanks,
        records.records,
        records.position,
        frozenset(records.endings),
        records.unclosed_quote,
    )


def blank_line_records(path: Path) -> list[int]:
    """0-based positions, among the file's records and blank lines (0 = its first line: the
    header, unless empty lines stand above it), of the blank lines: empty records between two
    line breaks outside quotes.

    Position k is what DuckDB reports as `line` k + 1, so a reject at `line` L is data row
    `L - 1 - (blank lines at positions below L - 1)`.
    """
    return scan_records(path).blanks


def raw_record_json(kept: KeptRecord) -> str:
    """The quarantine's `raw_record` of a rejected CSV record: `{"raw_line": text}` with the
    record's exact text.

    DuckDB's own copy (`csv_line`) is not used where this pass found the record: besides the
    losses above, for a badly quoted record it is often empty or the line above (about 1 in 100
    random malformed records; checked against DuckDB 1.5.5: wherever both copies are UTF-8 and
    the record's quoting is good, they are the same text).

    Bytes that are not UTF-8 are shown as U+FFFD in `raw_line`, and the record's exact bytes
    are added as `raw_bytes_base64`; a record cut at `RECORD_LIMIT` adds its whole length as
    `raw_bytes_total`.
    """
    cut = kept.size > len(kept.data)
    text, is_utf8 = _text(kept.data, cut=cut)
    record: dict[str, str | int] = {"raw_line": text}
    if not is_utf8:
        record["raw_bytes_base64"] = base64.b64encode(kept.data).decode("ascii")
    if cut:
        record["raw_bytes_total"] = kept.size
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _text(data: bytes, *, cut: bool) -> tuple[str, bool]:
    """`data` as text, and whether it is UTF-8. A record cut at the limit may end inside a
    character: those last bytes are left out, not taken for bytes that are not UTF-8."""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError as exc:
        if cut and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8"), True
        return data.decode("utf-8", "replace"), False
