"""Take a data dir's files out of the operating system's page cache, for a cold-start figure.

Why: the bench's nightlies run right after the bench has copied the day-0 data dir, so the
warehouse (about 5 GB at large) and the published file are read from memory. A nightly that
runs at 3 a.m. on a machine that served BI queries all day finds the warehouse on disk. By
hand on the large chain the same night took 52-54 s cached and 56-61 s from disk; in the bench
the night from disk took as long as the others (docs/performance.md, pass 16): the figure tells
which holds on the machine at hand. Dropping the whole cache needs root and disturbs
everything else on the machine; asking the kernel to drop only these files' clean pages
(`posix_fadvise(POSIX_FADV_DONTNEED)`) needs neither.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Whether this platform can drop one file's cached pages (not on macOS or Windows).
AVAILABLE = hasattr(os, "posix_fadvise")


def evict(root: Path) -> int:
    """Ask the kernel to drop the cached pages of every regular file under `root`.

    Dirty pages cannot be dropped, so everything is written back first (`os.sync`). Symbolic
    links are not followed: a link out of the data dir (a landing folder, say) keeps its cache.
    Returns the bytes of the files advised. Callers check `AVAILABLE` first: without
    `posix_fadvise` there is nothing to ask, and the cold figure is reported as not measured.
    """
    os.sync()
    advised = 0
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if path.is_symlink() or not path.is_file():
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            advised += path.stat().st_size
    return advised
