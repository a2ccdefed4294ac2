"""Check that a `.csv.gz` extract is one complete, uncorrupted gzip stream before it is read.

DuckDB's gzip reader stops quietly where a stream ends early and does not compare the
trailer's CRC-32 and length with what it inflated: a truncated or damaged export would load
as its first part and be recorded as loaded. So the whole stream is inflated once here, in
chunks (memory stays flat whatever the file's size), and every member's trailer is checked by
zlib. A file that fails is refused with a reason that names the defect, never its bytes.

Several members one after another are a valid gzip file (RFC 1952, `cat a.gz b.gz`) and DuckDB
reads them all, so each is checked in turn; anything after the last member that is not
another member (junk, zero padding) is refused, as DuckDB refuses it too.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

#: Compressed bytes read per step, and the most inflated bytes held at once.
_CHUNK = 1 << 20
_MAX_OUT = 1 << 22

#: zlib's message (it never quotes the data) -> the reason recorded for the file.
_ZLIB_REASONS: tuple[tuple[str, str], ...] = (
    ("incorrect data check", "corrupt gzip stream: CRC check failed"),
    ("incorrect length check", "corrupt gzip stream: length check failed"),
    ("incorrect header check", "not a gzip stream (bad gzip header)"),
    ("unknown compression method", "not a gzip stream (bad gzip header)"),
    ("invalid", "corrupt gzip stream: invalid compressed data"),
)

_TRUNCATED = "corrupt gzip stream: truncated (it ends before its end-of-stream marker)"
_MAGIC = b"\x1f\x8b"
_TRAILING = "corrupt gzip stream: unexpected data after the end of the stream"


def gzip_defect(path: Path, sink: Callable[[bytes], None] | None = None) -> str | None:
    """Why `path` is not a complete, intact gzip stream; None when it is.

    Costs one inflation of the whole file (no output is kept): see the module docstring.
    `sink`, if given, sees every inflated piece in order, so a check of the text (the CSV
    reader counts line breaks) rides on this inflation instead of paying for another.
    """
    try:
        return _inflate_all(path, sink or _discard)
    except zlib.error as exc:
        message = str(exc)
        return next(
            (reason for key, reason in _ZLIB_REASONS if key in message),
            "corrupt gzip stream: invalid compressed data",
        )


def _discard(_piece: bytes) -> None:
    """The default `sink`: the inflated text is not needed."""


def _inflate_all(path: Path, sink: Callable[[bytes], None]) -> str | None:
    """Inflate every member of `path`; a defect zlib does not raise for, as a reason."""
    inflater: zlib._Decompress | None = None
    with open(path, "rb") as fh:
        for data in iter(lambda: fh.read(_CHUNK), b""):
            while data:
                if inflater is not None and inflater.eof:
                    if not _MAGIC.startswith(data[:2]):
                        return _TRAILING
                    inflater = None  # another member follows
                if inflater is None:
                    inflater = _member()
                sink(inflater.decompress(data, _MAX_OUT))
                # What zlib did not take yet: input held back by the output cap, or what
                # follows the member's end.
                data = inflater.unconsumed_tail or inflater.unused_data
    if inflater is None:
        return "not a gzip stream (empty)"
    if not inflater.eof:
        sink(inflater.flush())  # the output the cap held back; a complete member then ends
    return None if inflater.eof else _TRUNCATED


def _member() -> zlib._Decompress:
    """An inflater for one gzip member; zlib itself checks its header, CRC-32 and length."""
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
