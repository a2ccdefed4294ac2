"""Golden KPI values: the seeded small demo chain's KPI marts, cell for cell.

Why: refactoring the dbt project (moving models, sharing macros, new lead-events model) must
not change a single KPI value. This test generates the small demo chain with the CLI, loads it,
builds every KPI mart and compares each one, sorted, with the gzip CSV committed under
`tests/dbt/golden/`. Floats are rounded to 9 significant digits so that summation order
(threads, join order) cannot fail the test; any real change shows as a differing row.

A deliberate change of a KPI rule changes the golden files. Regenerate them with:

    MEDSPA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/dbt/test_kpi_golden.py -n 0

and review the diff of the files (`zdiff` or `git diff --text` after `gunzip -k`).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_runner import dbt

GOLDEN = Path(__file__).parent / "golden"
#: The published scorecard and every family mart it is built from (the by-dimension marts too).
MARTS = (
    "kpi_scorecard",
    "kpi_alerts",
    "kpi_appointment_engagement",
    "kpi_by_channel",
    "kpi_by_cohort",
    "kpi_by_device",
    "kpi_by_line_type",
    "kpi_by_patient_type",
    "kpi_by_provider",
    "kpi_by_room",
    "kpi_by_service_category",
    "kpi_cohorts",
    "kpi_engagement",
    "kpi_financial",
    "kpi_operations",
    "kpi_providers",
    "kpi_rooms",
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_golden")]


def _medspa(*args: str) -> None:
    """Run a `medspa` CLI command in a subprocess; fail the test with its output on error."""
    proc = subprocess.run(
        [sys.executable, "-m", "medspa.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"medspa {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def _cell(value: object) -> str:
    """One cell as text: floats to 9 significant digits, NULL as an empty string."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.9g}"
    return str(value)


def mart_csv(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """The mart as CSV text, its columns in model order, rows sorted by their text form."""
    cur = con.execute(f'select * from marts."{mart}"')
    header = [d[0] for d in cur.description]
    rows = sorted([_cell(v) for v in row] for row in cur.fetchall())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


@pytest.fixture(scope="module")
def demo_marts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The small demo chain, loaded and built up to every KPI mart (models and seeds only)."""
    root = tmp_path_factory.mktemp("golden")
    landing, data = root / "landing", root / "data"
    _medspa("generate", "--out", str(landing), "--scale", "small")
    _medspa("ingest", "--data-dir", str(data), "--landing", str(landing))
    warehouse = data / "warehouse.duckdb"
    selection = [f"+{m}" for m in MARTS]
    dbt(
        ["build", "--select", *selection, "--exclude-resource-type", "test", "unit_test"],
        warehouse,
        root,
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {mart: mart_csv(con, mart) for mart in MARTS}
    finally:
        con.close()


@pytest.mark.parametrize("mart", MARTS)
def test_kpi_mart_matches_golden(demo_marts: dict[str, str], mart: str) -> None:
    path = GOLDEN / f"{mart}.csv.gz"
    if os.environ.get("MEDSPA_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        # mtime=0: the same values give byte-identical files, so git sees no change
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(demo_marts[mart].encode("utf-8"))
    expected = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    actual = demo_marts[mart].splitlines()
    assert actual[0] == expected[0], f"{mart}: columns changed"
    missing = sorted(set(expected) - set(actual))[:5]
    extra = sorted(set(actual) - set(expected))[:5]
    assert actual == expected, (
        f"{mart}: {len(actual) - 1} rows vs {len(expected) - 1} golden; "
        f"golden rows not built (first 5): {missing}; built rows not in golden: {extra}"
    )
