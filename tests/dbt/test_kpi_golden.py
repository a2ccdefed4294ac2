"""Golden KPI values: the seeded small demo chain's KPI marts, cell for cell.

Why: refactoring the dbt project (moving models, sharing macros, new lead-events model) must
not change a single KPI value. This test generates the small demo chain with the CLI, loads it,
builds every KPI mart and compares each one with the gzip CSV committed under
`tests/dbt/golden/`: same columns, same rows (sorted by their text cells), every text cell
equal and every float equal to 9 significant digits (a relative tolerance, not rounding, so
summation order in DuckDB cannot flip a last digit into a failure).

A deliberate change of a KPI rule changes the golden files. Regenerate them with:

    MEDSPA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/dbt/test_kpi_golden.py -n 0

and review the diff of the files (`zdiff` or `git diff --text` after `gunzip -k`).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
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
    "kpi_by_cohort_provider",
    "kpi_by_device",
    "kpi_by_line_type",
    "kpi_by_patient_type",
    "kpi_by_provider",
    "kpi_by_response_time",
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
    """One cell as text: floats with 12 significant digits, NULL as an empty string."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def mart_csv(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """The mart as CSV text: a header naming each column and whether it is a float (`:f`),
    rows sorted (so a regenerated golden file diffs row by row)."""
    cur = con.execute(f'select * from marts."{mart}"')
    floats = [str(d[1]).upper() in {"DOUBLE", "FLOAT", "REAL"} for d in cur.description]
    header = [d[0] + (":f" if f else "") for d, f in zip(cur.description, floats, strict=True)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in cur.fetchall())
    header, rows = _rows(buf.getvalue())
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows, rows sorted by their non-float cells (the mart's key), then the rest."""
    header, *rows = list(csv.reader(io.StringIO(text)))
    floats = [h.endswith(":f") for h in header]

    def key(row: list[str]) -> tuple:
        text_cells = [c for c, f in zip(row, floats, strict=True) if not f]
        numbers = [float(c) if c else float("-inf") for c, f in zip(row, floats, strict=True) if f]
        return (text_cells, numbers)

    return header, sorted(rows, key=key)


def _same(a: list[str], b: list[str], floats: list[bool]) -> bool:
    for x, y, is_float in zip(a, b, floats, strict=True):
        if is_float and x and y:
            if not math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif x != y:
            return False
    return True


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    return warehouse


@pytest.fixture(scope="module")
def demo_marts(demo_warehouse: Path) -> dict[str, str]:
    """Every KPI mart of the small demo chain as CSV text."""
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        return {mart: mart_csv(con, mart) for mart in MARTS}
    finally:
        con.close()


def test_each_lead_kpi_carries_its_window(demo_warehouse: Path) -> None:
    """How long after its period each lead KPI may still change, in minutes, from the vars:
    contact_window_minutes 15; booking_window_days 30 = 43,200; lead_response_settle_hours 48
    = 2,880 for the first response, which may come after the period (a weekend lead answered
    on Monday). The golden marts' newest week is settled, so they cannot show this."""
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        windows = dict(
            con.execute(
                "select kpi, list(distinct window_minutes) from intermediate.int_lead_kpi_events "
                "group by kpi"
            ).fetchall()
        )
    finally:
        con.close()
    assert windows == {
        "new_leads": [0],
        "leads_unanswered": [2880],
        "lead_response_minutes": [2880],
        "contact_rate": [15],
        "booking_conversion_rate": [43200],
        "cac": [0],
    }


@pytest.mark.parametrize("mart", MARTS)
def test_kpi_mart_matches_golden(demo_marts: dict[str, str], mart: str) -> None:
    path = GOLDEN / f"{mart}.csv.gz"
    if os.environ.get("MEDSPA_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        # mtime=0: the same values give byte-identical files, so git sees no change
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(demo_marts[mart].encode("utf-8"))
    header, expected = _rows(gzip.decompress(path.read_bytes()).decode("utf-8"))
    actual_header, actual = _rows(demo_marts[mart])
    assert actual_header == header, f"{mart}: columns changed"
    assert len(actual) == len(expected), f"{mart}: {len(actual)} rows, golden {len(expected)}"
    floats = [h.endswith(":f") for h in header]
    differing = [(a, e) for a, e in zip(actual, expected, strict=True) if not _same(a, e, floats)]
    assert not differing, f"{mart}: {len(differing)} rows differ; first (built, golden): " + str(
        differing[0]
    )
