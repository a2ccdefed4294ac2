"""Freed heap pages go back to the OS between the generator's tables (glibc only)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from demo.heap import AVAILABLE

#: Arrays of 64 KiB sit below glibc's mmap threshold (128 KiB), so they come from the heap;
#: 3,000 of them are ~190 MB. All but the last are freed: the last one pins the heap's top,
#: so glibc cannot shrink the heap by itself and keeps the freed pages mapped.
_MEASURE = """
import json, sys
import numpy as np
from demo.heap import release_freed_heap

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

arrays = [np.ones(8192) for _ in range(3000)]
last = arrays.pop()
held = rss_mb()
del arrays
freed = rss_mb()
released = release_freed_heap()
print(json.dumps({"held": held, "freed": freed, "after": rss_mb(), "released": released}))
"""


@pytest.mark.skipif(
    not AVAILABLE or not sys.platform.startswith("linux"), reason="glibc's malloc_trim only"
)
def test_freed_heap_pages_are_returned_to_the_os() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True
    )
    mb = json.loads(proc.stdout.strip().splitlines()[-1])
    assert mb["released"] is True
    # Freeing alone keeps (most of) the ~190 MB mapped; releasing hands it back.
    assert mb["freed"] - mb["after"] > 150, mb
