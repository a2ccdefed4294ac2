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


#: packages whose exceptions are this project's own verdicts (a bad setting, a refused
#: file): said by their own handlers, never taken for the machine's trouble they wrap
_OWN_PACKAGES = ("medspa", "orchestration", "ingestion", "quality", "serving", "dashboards")


def machine_error(exc: BaseException) -> BaseException | None:
    """The `OSError`, or SQLite storage error, that `exc` is or was explicitly raised from
    (`raise ... from`, SQLAlchemy's `orig`); None without one.

    Only explicit causes are followed: an error raised while handling another (a bug in an
    `except OSError:` block) is not the machine's trouble, and an error of this project's
    own (a `SettingsError` naming a data dir that cannot be a folder) keeps its message."""
    if type(exc).__module__.split(".")[0] in _OWN_PACKAGES:
        return None
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
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None
