"""Owner-only files and folders for everything that can hold patient data.

The warehouse (raw PHI), dlt's working folder, run logs and kept validation results are
created 0600 / 0700 whatever the process umask, so another account on the machine cannot
read them. `serving.duckdb` and the site hold no PHI and keep the umask's modes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Make an existing file owner-only (0600); a missing file is left alone."""
    if path.exists():
        path.chmod(PRIVATE_FILE_MODE)


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside are owner-only (DuckDB's database and WAL files, dlt's packages).

    The umask is per process: used only around the loader's own writes, which run one at a
    time, and restored afterwards.
    """
    saved = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(saved)


def write_private_text(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically, owner-only (0600) from its first byte.

    Written to a hidden temporary file beside it (`mkstemp` creates it 0600 whatever the
    umask, and a reader globbing for the final name never sees it half-written), then renamed.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
