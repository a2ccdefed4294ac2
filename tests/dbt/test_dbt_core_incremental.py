"""An incremental build after a nightly delta gives exactly the marts a full refresh gives.

The raw rows carry load ids as the loader writes them, so the incremental runs take the
watermark path (only rows whose inputs changed since the last build are computed,
macros/loads.sql); every test also checks the watermark was used.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, apply_delta, late_delta, relink_delta

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

COMPARED = (
    "fct_appointments",
    "fct_invoice_lines",
    "kpi_financial",
    "kpi_rooms",
    "kpi_providers",
    "kpi_operations",
    "kpi_cohorts",
    "kpi_appointment_engagement",
    "kpi_by_patient_type",
    "kpi_by_provider",
)
SELECTION = [
    "+kpi_financial",
    "+kpi_rooms",
    "+kpi_providers",
    "+kpi_operations",
    "+kpi_cohorts",
    "+kpi_appointment_engagement",
    "+kpi_by_patient_type",
    "+kpi_by_provider",
]


def _differences(left: Path, right: Path, relation: str) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        query = (
            f"select count(*) from ((select * from l.marts.{relation} except all "
            f"select * from r.marts.{relation}) union all (select * from r.marts.{relation} "
            f"except all select * from l.marts.{relation}))"
        )
        return con.execute(query).fetchone()[0]
    finally:
        con.close()


def _watermarks(warehouse: Path) -> dict[str, str | None]:
    """The load id each incremental fact was last built through (macros/loads.sql)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select model_name, load_id from dbt_state.load_watermarks").fetchall()
    finally:
        con.close()
    return dict(rows)


def _newest_load(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select max(_dlt_load_id) from raw_pos.invoices").fetchone()[0]
    finally:
        con.close()


def _incremental_and_full(
    tmp_path: Path, base_chain: Chain, delta: Chain
) -> tuple[Path, Path, Path]:
    """(before, incremental, full): the base built, then the delta built incrementally on top,
    and base + delta built from scratch."""
    incremental_dir, full_dir = tmp_path / "incremental", tmp_path / "full"
    incremental_dir.mkdir()
    full_dir.mkdir()
    incremental = write_chain(incremental_dir / "warehouse.duckdb", base_chain)
    dbt(["seed"], incremental, incremental_dir)  # `dbt run` loads no seeds; the marts read them
    dbt(["run", "--select", *SELECTION], incremental, incremental_dir)
    before = incremental_dir / "before.duckdb"
    shutil.copy(incremental, before)
    # the base build recorded its watermark: the next run computes only what changed after it
    assert _watermarks(before)["fct_invoice_lines"] == _newest_load(before)
    write_chain(incremental, delta)
    dbt(["run", "--select", *SELECTION], incremental, incremental_dir)
    assert _watermarks(incremental)["fct_invoice_lines"] == _newest_load(incremental)

    full = write_chain(full_dir / "warehouse.duckdb", base_chain, delta)
    dbt(["seed"], full, full_dir)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full_dir)
    return before, incremental, full


def test_incremental_after_delta_equals_full_refresh(tmp_path: Path, base_chain: Chain) -> None:
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, apply_delta(base_chain))
    # the delta really changed the facts (a refund, new visits, a corrected first visit) ...
    assert _differences(before, incremental, "fct_appointments") > 0
    assert _differences(before, incremental, "fct_invoice_lines") > 0
    # ... and the incremental result is identical to the full refresh
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_late_extract_with_old_timestamps_equals_full_refresh(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A delta whose rows are 10 days older than the newest loaded: found by change detection
    against the built facts, not missed by a timestamp window."""
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, late_delta(base_chain))
    # the late rows changed the facts: one visit lost, one invoice voided, one line re-priced
    assert _differences(before, incremental, "fct_appointments") > 0
    assert _differences(before, incremental, "fct_invoice_lines") >= 2
    # ... and reached the month-old KPI rows
    assert _differences(before, incremental, "kpi_financial") > 0
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_late_relinked_invoice_reaches_the_marts_incrementally(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A month-old invoice moved to another visit by a late extract (old updated_at): the visit
    it left changes although none of its own rows did. The watermark path still finds it (its
    built revenue no longer matches) and the provider KPIs of that month follow."""
    delta = relink_delta(base_chain)
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta)
    # both visits changed: the one that lost the invoice and the one that gained it
    assert _differences(before, incremental, "fct_appointments") == 4  # 2 old rows + 2 new
    assert _differences(before, incremental, "kpi_by_provider") > 0
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)
