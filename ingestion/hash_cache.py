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
import os
import time
from pathlib import Path

from ingestion.landing import LandingFile


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
        """Write the cache atomically (a crash leaves the old one, or none: both are safe)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.entries), encoding="utf-8")
        os.replace(tmp, self.path)
