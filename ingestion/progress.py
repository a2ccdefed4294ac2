"""Per-table progress a person watching a terminal can follow; silent anywhere else.

Long runs (generating or loading a chain of millions of rows) otherwise print nothing for
minutes. Libraries take a plain callback (`progress(table, rows)`), so they stay quiet in
tests and CI; the CLI passes a `TableProgress`, which writes only when its stream is a TTY.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TableProgress:
    """Prints `[i/n] <verb> <table>: <rows> rows (<seconds> s)` per finished table on a TTY."""

    def __init__(self, total: int, verb: str, stream: TextIO | None = None) -> None:
        self.total, self.verb, self.done = total, verb, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._since = time.perf_counter()

    def __call__(self, table: str, rows: int) -> None:
        self.done += 1
        now = time.perf_counter()
        if self.enabled:
            width = len(str(self.total))
            print(
                f"[{self.done:>{width}}/{self.total}] {self.verb} {table}: {rows:,} rows "
                f"({now - self._since:.1f} s)",
                file=self.stream,
                flush=True,
            )
        self._since = now
