"""Build an expensive session fixture once per test run, whichever xdist worker asks first.

A session fixture runs once per *worker*: with `-n 2` two workers that both need the nightly
run would each build it (minutes, and two DuckDB writers on a 2-core machine). `xdist_group`
keeps such tests on one worker today, but only as long as pytest and xdist agree on item ids
(pytest 9.2 broke that). So the build itself is guarded: the first worker builds under an
exclusive file lock in a folder all workers share, the others wait and load its pickled result.
"""

from __future__ import annotations

import fcntl
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder every xdist worker of this run shares (the run's own basetemp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if worker_id != "master" else base


def once(lock_dir: Path, name: str, build: Callable[[], T]) -> T:
    """Run `build` once per test run across workers; the others load its pickled result.

    A build that raises leaves no result behind, so the next worker tries again and reports
    the same error itself instead of a confusing missing-file error.
    """
    result = lock_dir / f"{name}.pickle"
    with open(lock_dir / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not result.exists():
                value = build()
                result.write_bytes(pickle.dumps(value))
                return value
            return pickle.loads(result.read_bytes())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
