"""How the `medspa` command spares itself garbage collections: none while `medspa run` imports
Dagster and dbt, and none in Python's shutdown (only the console command: tests call `main`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import medspa.cli
from medspa.commands.run import _collection_paused

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
    assert scripts["medspa"] == "medspa.cli:entry"


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

        def fake_main(own_process=False):
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


def test_entry_tells_the_command_it_owns_the_process_and_main_does_not():
    proc = _run(
        """
        import medspa.cli as cli

        cli.build_parser = lambda: type("P", (), {"parse_args": lambda self, argv: Args()})()

        class Args:
            _command = "run"

        class Command:
            @staticmethod
            def run(args):
                print("own process:", args._own_process)
                return 0

        cli._module = lambda name: Command
        cli.main([])
        cli.entry()
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["own process: False", "own process: True"]


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


def test_collection_is_paused_during_the_imports_and_restored_after():
    assert gc_enabled_inside(start_enabled=True) == (False, True)


def test_a_caller_that_had_collection_off_keeps_it_off():
    assert gc_enabled_inside(start_enabled=False) == (False, False)


def test_collection_comes_back_when_an_import_fails():
    import gc

    assert gc.isenabled()
    try:
        with _collection_paused():
            raise ImportError("no module named dagster")
    except ImportError:
        pass
    assert gc.isenabled()


def gc_enabled_inside(start_enabled: bool) -> tuple[bool, bool]:
    """(enabled inside `_collection_paused`, enabled after it), starting as given."""
    import gc

    was = gc.isenabled()
    (gc.enable if start_enabled else gc.disable)()
    try:
        with _collection_paused():
            inside = gc.isenabled()
        return inside, gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
