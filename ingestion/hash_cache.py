"""Content hashes of landing files, remembered so a nightly run does not re-read the chain.

A file's identity is its content hash, so every run used to hash every file in the landing
folder: at chain scale gigabytes of old extracts re-read to find one night's new ones. The
hash is kept here with the file's size, inode, mtime and ctime; while all four are unchanged
the file is the same file (ctime moves on any write or metadata change, and cannot be set
back by a user), so its hash is reused. Anything else, or a missing or unreadable cache,
simply hashes the file again: the cache can make a run faster, never different.
A file changed within `settle_ns` of being hashed is not remembered (timestamps tick
coarsely, so a rewrite in the same tick could keep all four), as git does for racy entries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ingestion.landing import LandingFile
from safeio.private import write_private_text


class HashCache:
    """`sha256(file)` with the remembered hash when the file is unchanged; `save()` after."""

    def __init__(self, path: Path, settle_ns: int = 2_000_000_000) -> None:
        self.path, self.settle_ns = path, settle_ns
        self.entries: dict[str, list[int | str]] = {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, ValueError):
            pass

    def sha256(self, file: LandingFile) -> str:
        st = file.path.stat()
        stamp: list[int | str] = [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]
        entry = self.entries.get(file.rel_path)
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == stamp:
            return str(entry[4])
        digest = file.sha256()
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > self.settle_ns:
            self.entries[file.rel_path] = [*stamp, digest]
        else:
            self.entries.pop(file.rel_path, None)  # too fresh to trust next time
        return digest

    def save(self) -> None:
        """Write the cache atomically (a crash leaves the old one, or none: both are safe).

        Owner-only (0600), as the warehouse is: it lists every extract's file name, and a
        per-patient export may be named after the patient.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private_text(self.path, json.dumps(self.entries))


class PrefetchedHashes:
    """The cache's hashes of `files`, computed ahead on a thread of their own, in that order.

    A first load hashes every extract right before reading it: at the large chain 3.7 GB and
    about 3 s of the loader's one thread, during which DuckDB waits. Hashing on a second thread
    overlaps that with DuckDB reading the files before, and leaves the next files in the page
    cache for DuckDB's read. The hashes, and what the cache remembers, are the same: only when
    they are computed changes. `sha256(file)` waits for that file's hash (and raises what
    hashing it raised); `close()` cancels what was not started (a load that stops early).
    """

    def __init__(self, cache: HashCache, files: Iterable[LandingFile]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medspa-hash")
        self._futures: dict[str, Future[str]] = {
            file.rel_path: self._executor.submit(cache.sha256, file) for file in files
        }

    def sha256(self, file: LandingFile) -> str:
        return self._futures[file.rel_path].result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
