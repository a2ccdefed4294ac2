"""dbt ends with the run that started it, and stops on SIGINT even when started with it ignored.

The tenant's run lock is held by the run's process, not by its dbt child: a dbt that outlived
a killed run kept writing the warehouse after the lock was gone (`medspa.dbt_launcher`).
These tests start real processes; the waits are generous and nothing is timed.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")

#: What `medspa-dbt` does first, then a long sleep in place of dbt.
CHILD = """
import time
from medspa.dbt_launcher import die_with_parent
die_with_parent()
print("ready", flush=True)
time.sleep(300)
"""

#: A run's process: starts the child, says its pid, waits to be killed.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "ready"
print(child.pid, flush=True)
time.sleep(300)
"""


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def test_dbt_ends_when_its_run_is_killed():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    child_pid = int(parent.stdout.readline())
    try:
        assert not _ended(child_pid)
        parent.kill()
        parent.wait(timeout=60)
        deadline = time.monotonic() + 60
        while not _ended(child_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ended(child_pid), "dbt outlived the run that started it"
    finally:
        if not _ended(child_pid):
            os.kill(child_pid, signal.SIGKILL)
        parent.stdout.close()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_sigint_stops_dbt_even_when_its_run_was_started_with_sigint_ignored():
    """A background job of a non-interactive shell (cron) starts with SIGINT ignored, and its
    children inherit that; dagster-dbt stops dbt with SIGINT."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "KeyboardInterrupt" in err  # dbt's own handling of an interrupt


def test_dbt_exits_at_once_when_its_parent_died_before_it_could_follow():
    code = "from medspa.dbt_launcher import die_with_parent\ndie_with_parent(parent=-1)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60, check=False)
    assert done.returncode == 128 + signal.SIGTERM
