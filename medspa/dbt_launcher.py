"""`medspa-dbt`: dbt's own command line, with dbt's modules kept out of the collector's walks.

Dagster runs every dbt command of the pipeline through this executable (`orchestration.manifest.
dbt_executable`); it takes exactly dbt's arguments and exits with dbt's status.

Why: a dbt process imports about 135,000 objects the garbage collector tracks before it reads
a single model, and every full collection walks all of them again. In the large chain's nightly
`dbt build` the collector held the interpreter lock for 2.8-3.3 s (11 full collections, 1.6 s),
time in which neither of dbt's threads ran Python. This launcher imports dbt first and freezes
what the imports created (`gc.freeze`: those objects live as long as the process anyway), and
lets ten times as many new objects pass between young collections (`YOUNG_THRESHOLD`): the
same nightly then spends 1.7-2.1 s collecting, 0.2 s of it in 3 full collections (measured
with `gc.callbacks`, two nightlies each way; freezing alone gave 2.4-2.7 s, 18 full ones).

It also stops dbt formatting log lines that no handler writes (`medspa.dbt_log_lines`), and a
command that opens the warehouse creates its files owner-only (umask 077): DuckDB's write-ahead
log beside the warehouse holds the rows being written, raw PHI included. `parse` and `deps`
keep the caller's umask: the manifest they write is read by other processes (a Dagster code
location, an image's non-root user).

And it ends with the process that started it (`die_with_parent`). The tenant's run lock is
held by that process (`medspa run` or a Dagster run worker), not by dbt: a dbt left running
after its parent was killed kept writing the warehouse for up to a minute after the lock was
gone, and the next run passed the lock and failed on DuckDB's file lock. On Linux the kernel
now sends dbt SIGTERM when its parent dies; dbt does not handle SIGTERM, so it ends at once,
as a `kill -9` of the whole run would have ended it (DuckDB keeps only committed writes). And
dbt's SIGINT handling (a KeyboardInterrupt: dbt cancels its queries and exits) is restored
when the parent started it with SIGINT ignored (a background job of a non-interactive shell,
as cron starts it): dagster-dbt stops dbt with SIGINT when its run is interrupted or
terminated, and dbt used to ignore it and run on, orphaned.
"""

from __future__ import annotations

import gc
import os
import signal
import sys

#: New objects between two young collections (Python's default: 700). dbt allocates in bursts
#: (each node's Jinja context and compiled SQL): at 700 the survivors of each burst were
#: promoted and made full collections come 18 times a night instead of 3.
YOUNG_THRESHOLD = 7000

#: dbt commands that write only the project's artifacts, never the warehouse.
PROJECT_ONLY_COMMANDS = frozenset({"parse", "deps", "clean"})


#: `prctl` option: the signal the kernel sends this process when its parent dies (Linux).
PR_SET_PDEATHSIG = 1

#: The parent this process had when it started (read before anything else).
_PARENT_AT_START = os.getppid()


def die_with_parent(parent: int | None = None) -> None:
    """End this process with its parent (Linux), and let SIGINT interrupt it again.

    `parent`: the pid the parent had when this process started (default: as read when this
    module was imported). The death signal is SIGTERM, with SIGTERM's default action restored
    (an ignored signal is inherited): it ends the process. A parent that died before the
    signal was set up is caught by comparing the parent's pid: the process then exits at once
    (status 143, as SIGTERM would end it). Elsewhere only the SIGINT part applies.
    """
    parent = _PARENT_AT_START if parent is None else parent
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        failed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0
    except (OSError, AttributeError):  # no usable libc: dbt runs as it did before
        return
    if failed:
        return
    if os.getppid() != parent:  # the parent died before the death signal was set
        os._exit(128 + signal.SIGTERM)


def main() -> None:
    """Import dbt and the DuckDB adapter, freeze what exists, then run dbt's CLI."""
    die_with_parent()
    if not PROJECT_ONLY_COMMANDS & set(sys.argv[1:]):
        os.umask(0o077)  # a process of its own: nothing to restore
    import dbt.adapters.duckdb  # noqa: F401  (dbt imports it when it opens the profile)
    from dbt.cli.main import cli

    from medspa.dbt_log_lines import skip_unwritten_events, skip_unwritten_lines

    skip_unwritten_lines()
    skip_unwritten_events()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    sys.exit(cli())


if __name__ == "__main__":
    main()
