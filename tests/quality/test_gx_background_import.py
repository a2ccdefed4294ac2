"""Importing GX on a background thread (as `medspa run` does during the load) is safe.

The import and the suites' own `import_gx` may overlap; both apply GX patches that wrap GX's
methods, and a lock makes them apply once (a property wrapped twice would go through two
caches). This checks the outcome of overlapping imports: GX imported once and patched once. It
runs in a fresh interpreter, since the test process has imported GX already.
"""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from quality import gx_duckdb

    assert "great_expectations" not in sys.modules
    threads = [gx_duckdb.import_gx_in_background() for _ in range(3)]
    gx = gx_duckdb.import_gx()  # overlaps the background imports
    for thread in threads:
        thread.join()
    from great_expectations.expectations.expectation import Expectation

    fget = Expectation.__dict__["configuration"].fget
    assert getattr(fget, "_medspa_cached", False), "patch not applied"
    wrapped = [c.cell_contents for c in fget.__closure__ if callable(c.cell_contents)]
    assert wrapped, "patched property has no wrapped getter"
    assert not any(getattr(f, "_medspa_cached", False) for f in wrapped), "wrapped twice"
    assert gx is sys.modules["great_expectations"]
    print("ok")
    """
)


def test_background_import_overlapping_the_suites_import_patches_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


EXIT_SCRIPT = textwrap.dedent(
    """
    import atexit
    import sys
    import threading
    from quality import gx_duckdb
    from medspa import cli

    gx_duckdb.import_gx_in_background()
    atexit.register(lambda: print(
        "import running at exit:", any(t.name == "gx-import" for t in threading.enumerate())
    ))
    sys.argv = ["medspa", "status", "--data-dir", sys.argv[1]]
    cli.entry()
    """
)


def test_a_command_that_ends_at_once_waits_for_the_import_before_it_exits(tmp_path) -> None:
    """A run that fails in its first second (a required table missing) ended while the import
    was still loading GX's compiled dependencies; Python's shutdown stopped that daemon thread
    inside C++ code and the process aborted (SIGABRT: "FATAL: exception not rethrown"), so
    `medspa run --all-tenants` reported the tenant killed, not failed. `medspa status` on an
    empty data dir ends as fast: its own exit status (1, nothing published) must come through,
    with the import finished first."""
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "import running at exit: False" in done.stdout
