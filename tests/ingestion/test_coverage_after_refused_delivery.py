"""A refused first delivery reaches the coverage marts as refused, not as an absent system.

A clinic whose first phone extract misses a contract column has a phone system and a file to
fix. The loader refuses the file (the table's load stops); nothing of the phone system loads,
so the system is absent by its rows. `kpi_coverage` must still say the calls arrived and were
refused, and why, rather than "no phone system: calls never delivered", which sends the owner
looking for a system they already have.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from ingest_fixtures import header, settings_for, write, write_required

from ingestion.pipeline import ingest
from ingestion.report import LOAD_STOPPED
from ingestion.validate import STOPS_LOAD
from tests.dbt.dbt_runner import PROJECT, dbt

pytestmark = pytest.mark.xdist_group("e2e")

MISSING_COLUMN_REASON = (
    "phone.calls delivered but refused: a file misses a contract column (replace it with a "
    "complete extract, or remove it)"
)


def test_the_dbt_suffix_is_the_loaders_stop_reason():
    """The ledger's refusal text is the loader's; dbt recognises a stop by its ending."""
    macro = (PROJECT / "macros" / "loads.sql").read_text()
    (literal,) = re.findall(r"macro stopping_refusal_suffix\(\) -%}\s*'((?:[^']|'')*)'", macro)
    assert literal.replace("''", "'") == f"; {STOPS_LOAD}"


@pytest.fixture
def refused_phone(tmp_root: Path) -> Path:
    """Required tables loaded; the first calls extract lacks `outcome`; coverage built."""
    landing = tmp_root / "landing"
    write_required(landing)
    columns = [c for c in header("phone.calls") if c != "outcome"]
    row = {
        "call_id": "C1",
        "location_id": "L1",
        "direction": "inbound",
        "started_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:05:00Z",
    }
    write(
        landing,
        "phone/calls/2026-11-20.csv",
        ",".join(columns) + "\n" + ",".join(row.get(c, "") for c in columns) + "\n",
    )
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert report.table("phone", "calls").state == LOAD_STOPPED
    assert "phone" not in report.absent_systems  # the load report knows a file arrived
    # cautious: leave out the tests that also read marts this selection does not build (the
    # check that no mart has rows for a KPI not computable reads every KPI mart)
    build = ["build", "--select", "+kpi_coverage", "--indirect-selection", "cautious"]
    dbt(build, settings.warehouse_path, tmp_root / "dbt")
    return settings.warehouse_path


def _one(warehouse: Path, sql: str) -> tuple:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (row,) = con.execute(sql).fetchall()
        return row
    finally:
        con.close()


def test_coverage_counts_the_refusal_that_stops_the_table(refused_phone: Path):
    assert _one(
        refused_phone,
        """select status, system_status, files_loaded, files_refused, files_missing_columns
        from marts.data_coverage where table_key = 'phone.calls'""",
    ) == ("absent", "absent", 0, 1, 1)


def test_the_kpi_reason_says_refused_not_never_delivered(refused_phone: Path):
    assert _one(
        refused_phone,
        "select computable, reason from marts.kpi_coverage where kpi = 'missed_call_rate'",
    ) == (False, MISSING_COLUMN_REASON)
