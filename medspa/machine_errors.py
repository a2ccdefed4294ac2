"""Errors of the machine rather than the code: a full disk, a file that cannot be read or
written. The commands say these in one line with what to do, not as a traceback.

Dagster keeps its run history in SQLite under the data dir, so a disk that fills during a run
surfaces as SQLite's `OperationalError` ("database or disk is full", "disk I/O error"),
wrapped by SQLAlchemy, not as an `OSError`: the chain of causes is searched for either.
"""

from __future__ import annotations

import sqlite3

#: words of SQLite's messages for storage trouble (sqlite3 has no error codes before 3.11's
#: `sqlite_errorname`, and its messages are fixed English)
_STORAGE_WORDS = ("disk", "full", "readonly", "read-only", "unable to open")


def machine_error(exc: BaseException) -> BaseException | None:
    """The `OSError`, or SQLite storage error, in `exc`'s chain of causes; None without one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        if isinstance(current, sqlite3.OperationalError) and any(
            word in str(current).lower() for word in _STORAGE_WORDS
        ):
            return current
        # SQLAlchemy keeps the driver's error as `orig` as well as the cause
        orig = getattr(current, "orig", None)
        following = orig if isinstance(orig, BaseException) else None
        current = following or current.__cause__ or current.__context__
    return None
