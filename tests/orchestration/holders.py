"""Another process holding what a tenant's runs share, for as long as a test needs it.

A busy warehouse or a held run lock is what a sensor or a run meets while the tenant's next run
works; a child process holds it (DuckDB's and the lock file's locks are per process), says
`held`, and lets go when the test closes its stdin. No sleeping: the test decides when.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Opens the DuckDB file at argv[1] for writing and keeps it open.
HOLD_WAREHOUSE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
"""

#: Takes the run lock of the data dir at argv[1], as a running `medspa run` does.
HOLD_RUN_LOCK = """
import sys
from pathlib import Path
from medspa.run_lock import data_dir_lock
with data_dir_lock(Path(sys.argv[1]), "the tenant's next run"):
    print("held", flush=True)
    sys.stdin.read()
"""


def start_holding(script: str, path: Path) -> subprocess.Popen[str]:
    """Run `script` on `path` in a child process; return it once it holds. It lets go when its
    stdin is closed (`let_go`), which a test may do from a timer thread."""
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def let_go(holder: subprocess.Popen[str]) -> None:
    """End a holder started by `start_holding` (closing its stdin twice is harmless)."""
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=60)


@contextmanager
def held(script: str, path: Path) -> Iterator[None]:
    """Run `script` on `path` in a child process until the block ends."""
    holder = start_holding(script, path)
    try:
        yield
    finally:
        let_go(holder)
