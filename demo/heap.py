"""Give the C heap's freed pages back to the operating system between tables.

The generator builds one table at a time from NumPy arrays, pandas frames and Python strings,
most of them below glibc's mmap threshold, so they live on the C heap. When a table is written
and dropped, glibc keeps its freed chunks mapped (only the heap's top is returned by itself)
and the next table's allocations rarely fit them exactly: at chain scale the generator held
~300 MB of freed heap while building the POS, the step that sets its peak. `malloc_trim(0)`
hands every free page back (madvise); it takes milliseconds, so it runs after every table.
Where the C library has no `malloc_trim` (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's `malloc_trim`, or None where there is none (or no C library to ask)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # Windows cannot open the process's own C library by None
        return None


_TRIM = _malloc_trim()

#: Whether `release_freed_heap` can do anything on this platform.
AVAILABLE = _TRIM is not None


def release_freed_heap() -> bool:
    """Return the C heap's free pages to the OS; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
