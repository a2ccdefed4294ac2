"""`run_once.once`: two processes asking at the same time, one build, one shared result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run_once import once

TESTS_DIR = Path(__file__).resolve().parents[1]

#: A "worker": builds slowly (so the other one is sure to arrive while it builds), logs each
#: build to builds.log, and prints the value it got.
WORKER = """
import os, sys, time
from pathlib import Path
from tests.run_once import once

shared = Path(sys.argv[1])

def build():
    with open(shared / "builds.log", "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    time.sleep(1.5)
    return {"built_by": os.getpid()}

print(once(shared, "scenario", build)["built_by"], flush=True)
"""


def test_two_workers_at_once_build_once_and_get_the_same_result(tmp_path: Path):
    env = dict(os.environ, PYTHONPATH=str(TESTS_DIR))
    cmd = [sys.executable, "-c", WORKER, str(tmp_path)]
    workers = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [w.communicate(timeout=120)[0].strip() for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    builds = (tmp_path / "builds.log").read_text().split()
    assert len(builds) == 1
    assert outputs == [builds[0], builds[0]]


def test_a_failed_build_leaves_nothing_so_the_next_caller_builds_again(tmp_path: Path):
    def broken() -> int:
        raise RuntimeError("dbt failed")

    with pytest.raises(RuntimeError, match="dbt failed"):
        once(tmp_path, "scenario", broken)
    assert not (tmp_path / "scenario.pickle").exists()
    assert once(tmp_path, "scenario", lambda: 42) == 42
    assert once(tmp_path, "scenario", lambda: 43) == 42  # built once: later callers reuse it
