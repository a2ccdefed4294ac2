"""The `medspa` console command exits without Python's slow teardown, and only it does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import medspa.cli

REPO = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_the_console_command_is_entry():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"medspa": "medspa.cli:entry"}


def test_entry_exits_with_mains_code_after_collecting_and_freezing():
    """What the command left unreachable is finalized before the freeze (a cycle holding an
    object with a finalizer, as a DuckDB connection would be), and atexit handlers still run."""
    proc = _run(
        """
        import atexit, gc, sys
        import medspa.cli as cli

        class Resource:
            def __del__(self):
                print("finalized", flush=True)

        def fake_main():
            cycle = [Resource()]
            cycle.append(cycle)  # unreachable once main returns: only a collection frees it
            return 3

        gc.disable()  # no automatic collection: only entry's own can finalize the cycle
        cli.main = fake_main
        atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0, flush=True))
        cli.entry()
        """
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.split() == ["finalized", "frozen", "True"]


def test_main_itself_leaves_collection_alone(tmp_path: Path):
    """Tests and other callers run `main` in their own process: it must not freeze it."""
    assert "freeze" not in medspa.cli.main.__code__.co_names
    proc = _run(
        """
        import gc
        import medspa.cli as cli
        try:
            cli.main(["--help"])
        except SystemExit:
            pass
        print(gc.get_freeze_count())
        """
    )
    assert proc.stdout.split()[-1] == "0", proc.stderr
