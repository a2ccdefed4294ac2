"""One writer per tenant: the data dir's run lock, held by every run that may write it.

DuckDB takes one writer per file, and a tenant's runs write its warehouse. Dagster's run queue
(`dagster.yaml`) keeps the runs it launches (schedule, sensors, the UI) one at a time per
tenant, but `medspa run` executes the job in its own process, outside that queue. So every run
of a tenant, however it was started, holds an OS lock on `<data dir>/.medspa-run.lock` for as
long as it runs: `medspa run` from before Dagster is loaded (`medspa.commands.run`), a
Dagster run from the moment its resources are set up (`orchestration.resources.MedspaSettings`).
A run that finds the lock taken stops at once, before touching the warehouse, and says who
holds it; the other run is never disturbed. A run nobody watches (the schedule's, the landing
sensor's) waits for it a while first: an engineer's run from the UI at 02:00 would otherwise
cost the night its refresh.

The lock is `flock` on an open file: the kernel drops it when its process ends, a crash or
`kill -9` included, so a stale file never blocks the next run. It is re-entrant within one
process, because `medspa run` holds it and then sets up the same job's resources in-process.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: The file a run locks in the tenant's data dir for as long as it runs.
RUN_LOCK_NAME = ".medspa-run.lock"

#: How much of the lock file a refusal reads back to name the holder.
_HOLDER_BYTES = 512


class RunLockedError(RuntimeError):
    """Another run of the same tenant (and so of the same warehouse) is running."""


#: The locks this process holds: lock file -> (descriptor, depth), for re-entry.
_HELD: dict[Path, tuple[int, int]] = {}
_HELD_GUARD = threading.Lock()


def _refusal(path: Path, fd: int, data_dir: Path) -> RunLockedError:
    """The error for a lock another process holds, naming it from what it wrote."""
    pid, _, holder = os.pread(fd, _HOLDER_BYTES, 0).decode("utf-8", "replace").partition("\n")
    who = holder.strip() or "another run"
    detail = f" (pid {pid.strip()})" if pid.strip().isdigit() else ""
    return RunLockedError(
        f"{who}{detail} is running on {data_dir}: it holds the lock file {path}; "
        "nothing was changed, run again when it has finished"
    )


#: How often a waiting run tries the lock again.
_RETRY_SECONDS = 2.0

#: How often a waiting run says it still waits (`on_wait`). A Dagster run's words are events:
#: a run that waits in silence looks like one whose worker was killed to the stale-run sensor
#: (`orchestration/defs/automation/stale_run_sensor.py`, quiet for 120 s), which would fail it
#: in the moment between the holder letting go and this run taking the lock.
WAIT_NOTICE_SECONDS = 60.0


def _take(
    fd: int,
    path: Path,
    data_dir: Path,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None,
) -> None:
    """flock `fd`, trying again for up to `wait_seconds`; RunLockedError after that."""
    import fcntl

    start = time.monotonic()
    deadline = start + wait_seconds
    told_at: float | None = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                raise _refusal(path, fd, data_dir) from None
            if on_wait is not None and (told_at is None or now - told_at >= WAIT_NOTICE_SECONDS):
                waited = (
                    f"waiting up to {wait_seconds:g} s"
                    if told_at is None
                    else f"still waiting ({now - start:.0f} s of up to {wait_seconds:g} s)"
                )
                on_wait(f"{waited}: {_refusal(path, fd, data_dir)}")
                told_at = now
            time.sleep(min(_RETRY_SECONDS, left))


@contextmanager
def data_dir_lock(
    data_dir: Path,
    holder: str = "another `medspa run`",
    *,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold the exclusive run lock of `data_dir` while the block runs; yield the lock file.

    Taken without waiting by default: a run a person started that meets another is refused at
    once (`RunLockedError`, naming the holder and the lock file) rather than queued behind it,
    since neither knows how long the other will take. An unattended run passes `wait_seconds`
    (and `on_wait`, told what it waits for, then again every `WAIT_NOTICE_SECONDS`) and is
    refused only after that. `holder` is written into the file for that message.
    """
    path = Path(data_dir) / RUN_LOCK_NAME
    key = path.resolve()
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None:  # this process holds it already: one level deeper
            _HELD[key] = (held[0], held[1] + 1)
    if held is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _take(fd, path, Path(data_dir), wait_seconds, on_wait)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{holder}\n".encode(), 0)
        with _HELD_GUARD:
            _HELD[key] = (fd, 1)
    try:
        yield path
    finally:
        _release(key)


def _release(key: Path) -> None:
    """Leave one level of the lock; the outermost closes the file, which releases it."""
    with _HELD_GUARD:
        fd, depth = _HELD.pop(key)
        if depth > 1:
            _HELD[key] = (fd, depth - 1)
            return
    os.close(fd)


def lock_held(data_dir: Path) -> bool | None:
    """Whether some process holds `data_dir`'s run lock, read from the kernel's lock table
    (`/proc/locks`) without taking it: `medspa status` must never stand in a run's way.

    None when that cannot be known (no lock file yet, no `/proc/locks`): a caller then judges
    as before. A run Dagster still calls STARTED while nobody holds its tenant's lock died
    without finishing (killed, out of memory, the machine restarted).
    """
    path = Path(data_dir) / RUN_LOCK_NAME
    try:
        info = path.stat()
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    wanted = (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (a waiter's line starts "1: ->")
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        major, minor, inode = fields[5].split(":")
        if (int(major, 16), int(minor, 16), int(inode)) == wanted:
            return True
    return False
