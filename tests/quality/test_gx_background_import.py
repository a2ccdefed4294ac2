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
