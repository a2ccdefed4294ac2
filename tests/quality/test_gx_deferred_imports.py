"""GX's import leaves `scipy.stats` and `altair` for later, and they still work when used.

`quality.gx_duckdb.defer_unused_imports` registers stand-ins for modules GX imports only for
expectations our suites do not have. This proves, in a fresh interpreter (the test process has
imported GX already): GX's import does not load them, our suites run without loading them, and
code that does use them (GX's KL-divergence expectation module, or any other import) gets the
real modules on first use.
"""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from quality import gx_duckdb

    gx_duckdb.import_gx()
    for name in gx_duckdb.DEFERRED_MODULES:
        assert type(sys.modules[name]).__name__ == "_Deferred", name
    assert "scipy.linalg" not in sys.modules

    import duckdb
    from pathlib import Path
    import tempfile
    from quality.runner import run_suite
    from quality.spec import ExpectationSpec, SuiteSpec

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.duckdb"
        with duckdb.connect(str(db)) as con:
            con.execute("create schema s; create table s.t as select range as id from range(5)")
        unique = ExpectationSpec(
            "ExpectColumnValuesToBeUnique", {"column": "id"}, "error", "key is unique", "id"
        )
        spec = SuiteSpec("s__t", "s.t", (unique,))
        assert run_suite(spec, db).success
    assert type(sys.modules["scipy.stats"]).__name__ == "_Deferred", "a suite loaded scipy.stats"

    from great_expectations.expectations.core import (
        expect_column_kl_divergence_to_be_less_than as kl,
    )
    assert kl.stats.entropy([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert kl.alt.Chart.__name__ == "Chart"
    from scipy import stats
    assert stats.norm.cdf(0) == 0.5
    assert type(sys.modules["scipy.stats"]) is type(sys)
    assert sys.modules["scipy"].stats is sys.modules["scipy.stats"]
    print("ok")
    """
)


def test_unused_modules_wait_for_their_first_use() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
