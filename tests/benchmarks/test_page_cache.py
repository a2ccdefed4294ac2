"""`benchmarks.page_cache.evict` drops a data dir's files from the page cache, and only those.

Checked with util-linux's `fincore`, which reports how many of a file's bytes are resident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import page_cache

pytestmark = pytest.mark.skipif(
    not page_cache.AVAILABLE or shutil.which("fincore") is None,
    reason="needs posix_fadvise and util-linux's fincore",
)

SIZE = 4 << 20


def _resident(path: Path) -> int:
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip())


def _cached_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(SIZE))
    os.sync()
    path.read_bytes()
    return path


def test_every_file_under_the_root_leaves_the_cache_and_a_linked_file_stays(
    tmp_path: Path,
) -> None:
    root = tmp_path / "run"
    warehouse = _cached_file(root / "warehouse.duckdb")
    nested = _cached_file(root / "dagster" / "storage" / "runs.db")
    outside = _cached_file(tmp_path / "landing" / "appointments.csv")
    (root / "landing").symlink_to(outside)
    if min(_resident(p) for p in (warehouse, nested, outside)) == 0:
        pytest.skip("this filesystem does not keep the files in the page cache")

    advised = page_cache.evict(root)

    assert advised == 2 * SIZE  # the two files under the root; the link is not followed
    assert _resident(warehouse) == 0
    assert _resident(nested) == 0
    assert _resident(outside) == SIZE


def test_a_file_just_written_is_written_back_first_so_it_can_leave_the_cache(
    tmp_path: Path,
) -> None:
    fresh = tmp_path / "run" / "serving.duckdb"
    fresh.parent.mkdir()
    fresh.write_bytes(os.urandom(SIZE))  # dirty pages: no sync here, evict must do it
    if _resident(fresh) == 0:
        pytest.skip("this filesystem does not keep the file in the page cache")

    assert page_cache.evict(fresh.parent) == SIZE
    assert _resident(fresh) == 0
