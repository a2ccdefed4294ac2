"""The landing folder's PHI *values*, and a scanner that finds them in any file.

A column-name check cannot see a name copied into a log line, a phone number in a chart
label or a message body in a quality report. This collects every value of every column the
landing contract marks `phi: true` (plus the raw patient and lead ids, which must appear
downstream only as keyed hashes), in the forms a leak would take: emails raw and
lower-cased, phones as their national digits (raw `(415) 555-0134`, `+14155550134` and
`4155550134` all normalise to the same), full names, dates of birth, postal codes, message
bodies and reviewer names. The column list comes from the contract, never a typed copy.
"""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
from landing_frames import read_table

from ingestion.contract import load_contract

#: Raw source identifiers that staging replaces by `patient_key` / `lead_key`.
ID_COLUMNS = ("patient_id", "lead_id")

# Token patterns that never backtrack over long runs (files hold long blobs): emails are the
# tokens of email characters that contain an `@`; phones are runs of phone characters.
_EMAIL_TOKEN = re.compile(r"[\w.+'@-]+")
_PHONE_RUN = re.compile(r"[\d ().+-]{7,}")
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_WORD = re.compile(r"[^\W\d_][\w'.-]*")
_TOKEN = re.compile(r"[\w-]+")
_SEGMENT = re.compile(r'["<>\n\r\t]|\\n|\\"')
#: In a binary file, a run of printable characters this long is text someone wrote; shorter
#: runs are chance bytes of compressed data (`binary_text`).
MIN_BINARY_TEXT = 8
_BINARY_TEXT_RUN = re.compile(rf"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]{{{MIN_BINARY_TEXT},}}")


def phone_digits(text: str) -> str | None:
    """National significant digits of a North American phone in any format, else None."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def _phone_candidates(run: str) -> set[str | None]:
    """Phones a run of phone characters may hold: the whole run, each space-separated part
    and up to four adjacent parts (`+1 415 555 0134`), as national digits."""
    parts = run.split()
    spans = [" ".join(parts[i : i + n]) for n in (1, 2, 3, 4) for i in range(len(parts))]
    return {phone_digits(span) for span in [run, *spans]}


@dataclass
class PhiValues:
    """Every PHI value of one landing folder, grouped by the form a search needs."""

    emails: set[str] = field(default_factory=set)  # lower-case
    phones: set[str] = field(default_factory=set)  # 10 national digits
    dates: set[str] = field(default_factory=set)  # ISO dates of birth
    full_names: set[str] = field(default_factory=set)  # "First Last"
    whole_values: set[str] = field(default_factory=set)  # names, postal codes, bodies, ...
    ids: set[str] = field(default_factory=set)  # raw patient and lead ids
    columns: list[str] = field(default_factory=list)  # `system.table.column` searched
    _first_words: set[str] | None = field(default=None, repr=False)

    @property
    def first_words(self) -> set[str]:
        """First words of the full names: a cheap filter before pairing words."""
        if self._first_words is None:
            self._first_words = {name.split(" ", 1)[0] for name in self.full_names}
        return self._first_words

    def __len__(self) -> int:
        sets = (self.emails, self.phones, self.dates, self.full_names, self.whole_values, self.ids)
        return sum(len(s) for s in sets)


def _add_value(values: PhiValues, text: str, is_date: bool) -> None:
    text = text.strip()
    if not text:
        return
    if is_date:
        values.dates.add(text[:10])
    elif "@" in text:
        values.emails.add(text.lower())
    elif (digits := phone_digits(text)) is not None and re.fullmatch(r"[\d\s().+-]+", text):
        values.phones.add(digits)
    else:
        values.whole_values.add(text)


def collect(landing: Path) -> PhiValues:
    """PHI values of every contract table with `phi: true` columns, as delivered."""
    values = PhiValues()
    for table in load_contract().tables:
        ids = [c for c in ID_COLUMNS if c in table.column_names]
        if not table.phi_columns and not ids:
            continue
        frame = read_table(landing, table)
        for name in table.phi_columns:
            values.columns.append(f"{table.qualified_name}.{name}")
            is_date = table.column(name).type in ("date", "timestamp")
            for raw in frame[name].dropna().astype(str):
                _add_value(values, raw, is_date)
        if {"first_name", "last_name"} <= set(table.phi_columns):
            both = frame[["first_name", "last_name"]].dropna()
            values.full_names |= {f"{f.strip()} {lst.strip()}" for f, lst in both.to_numpy()}
        for name in ids:
            values.ids |= set(frame[name].dropna().astype(str))
    _drop_staff_names(values, landing)
    return values


def _drop_staff_names(values: PhiValues, landing: Path) -> None:
    """Staff names are not PHI (the dashboards list providers as `Elena G.`): a patient or
    reviewer who shares a name with a provider cannot be told apart by value, so such names
    are not searched. Values under 3 characters (an initial) say nothing either."""
    providers = read_table(landing, load_contract().table("pms.providers"))
    names = providers[["first_name", "last_name"]].fillna("").astype(str)
    staff: set[str] = set()
    for first, last in zip(
        names["first_name"].str.strip(), names["last_name"].str.strip(), strict=True
    ):
        staff |= {first, last, f"{first} {last}", f"{first} {last[:1]}."}
    values.whole_values = {v for v in values.whole_values - staff if len(v) >= 3}
    values.full_names -= staff


def find(values: PhiValues, text: str) -> dict[str, int]:
    """How many PHI values of each kind occur in `text` (kinds only: never the values)."""
    emails = {t.lower().strip(".-'") for t in _EMAIL_TOKEN.findall(text) if "@" in t}
    phones = {d for run in _PHONE_RUN.findall(text) for d in _phone_candidates(run)}
    dates = {m.group() for m in _ISO_DATE.finditer(text)}
    words = _WORD.findall(text)
    firsts = values.first_words
    pairs = {f"{a} {b.rstrip('.')}" for a, b in itertools.pairwise(words) if a in firsts}
    segments = {s.strip() for s in _SEGMENT.split(text)}
    tokens = set(_TOKEN.findall(text))
    hits = {
        "email": len(emails & values.emails),
        "phone": len(phones & values.phones),
        "date_of_birth": len(dates & values.dates),
        "full_name": len(pairs & values.full_names),
        "whole_value": len(segments & values.whole_values),
        "raw_id": len(tokens & values.ids),
    }
    return {kind: n for kind, n in hits.items() if n}


def _file_text(path: Path) -> str:
    """A file's text: a text file whole (gzip'd ones decompressed; a stray byte that is not
    UTF-8 becomes U+FFFD, never glues its neighbours), a binary one (it holds NUL bytes, as
    git and grep tell them apart) as its runs of printable text (`binary_text`)."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    if b"\x00" in data:
        return binary_text(data)
    return data.decode("utf-8", errors="replace")


def binary_text(data: bytes) -> str:
    """The text a binary file (DuckDB, SQLite, msgpack) holds: its runs of at least
    `MIN_BINARY_TEXT` printable characters, one per line.

    Why not the whole file decoded leniently: dropping the bytes that are not UTF-8 joins
    the fragments around them, and compressed blocks are full of short printable fragments;
    a vertical tab, `Me`, an invalid byte and `i` in a DuckDB block once read as a segment
    `Mei`, a patient's first name, in a file that held no PHI. Here an invalid byte ends a
    run, and runs shorter than a written text are chance bytes. What this gives up, a short
    value stored on its own in binary, was found before only where a separator happened to
    flank it; a DuckDB file's cells are read decompressed (`_duckdb_cells`), and Dagster's
    SQLite files and dbt's msgpack hold values inside longer texts (event JSON, SQL).
    """
    text = data.decode("utf-8", errors="replace")
    return "\n".join(_BINARY_TEXT_RUN.findall(text))


def _duckdb_cells(path: Path, schemas: tuple[str, ...] | None) -> Iterator[tuple[str, str]]:
    """Every table of a DuckDB file (of `schemas`, default all) as one text of its values:
    DuckDB compresses strings, so the file's bytes alone could hide a leaked value."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables"
        ).fetchall()
        for catalog, schema, name in tables:
            if schemas is not None and schema not in schemas:
                continue
            frame: pd.DataFrame = con.execute(f'select * from "{catalog}"."{schema}"."{name}"').df()
            cells = "\n".join("\t".join(map(str, row)) for row in frame.itertuples(index=False))
            yield f"{schema}.{name}", cells
    finally:
        con.close()


def scan(
    values: PhiValues, files: list[Path], root: Path, schemas: tuple[str, ...] | None = None
) -> dict[str, dict[str, int]]:
    """PHI kinds found per file (DuckDB files also per table), as `relative path -> kind -> n`.

    `schemas` limits DuckDB files to those schemas' cells (their bytes are then not read).
    """
    found: dict[str, dict[str, int]] = {}
    for path in files:
        rel = str(path.relative_to(root))
        texts = [] if schemas is not None else [(rel, _file_text(path))]
        if path.suffix == ".duckdb":
            texts += [(f"{rel}::{t}", cells) for t, cells in _duckdb_cells(path, schemas)]
        for where, text in texts:
            if hits := find(values, text):
                found[where] = hits
    return found
