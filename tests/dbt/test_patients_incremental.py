"""stg_pms__patients built incrementally equals a full refresh, also when only the as-of date
moved: age bands are banded at the data's as-of date, so a night that crosses a patient's 25th,
35th ... birthday must rebuild that patient although none of its raw rows changed.

The delta moves the as-of date 75 days (the chain's nightly delta, stamped later), changes one
patient's phone (a new load) and adds a patient; both copies then build the patients and their
dependants, one incrementally, one with --full-refresh.
"""

from __future__ import annotations

import shutil
from datetime import date, time
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, _ts, apply_delta

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SELECTION = ["+dim_patients", "+int_contact_identities", "+fct_surveys"]
COMPARED = (
    "staging.stg_pms__patients",
    "marts.dim_patients",
    "intermediate.int_contact_identities",
)


def _delta(chain: Chain) -> Chain:
    delta = apply_delta(chain, days=75)
    stamp = _ts(delta.as_of, time(6, 0), "UTC")
    patients = chain.tables[("pms", "patients")]
    delta.add("pms", "patients", dict(patients[3], phone="(212) 555-0303", updated_at=stamp))
    delta.add(
        "pms",
        "patients",
        dict(patients[4], patient_id="PT9999", date_of_birth=date(2001, 2, 3), updated_at=stamp),
    )
    return delta


def _rows(db: Path, relation: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        # load ids differ between the two copies (each write is a new load): lineage, not content
        columns = "* exclude (_dlt_load_id)" if relation.startswith("staging.") else "*"
        return con.execute(f"select {columns} from {relation} order by all").fetchall()
    finally:
        con.close()


def _bands(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(
            con.execute("select patient_key, age_band from staging.stg_pms__patients").fetchall()
        )
    finally:
        con.close()


def test_patients_incremental_equals_full_refresh_when_ages_move(
    tmp_path: Path, base_chain: Chain
) -> None:
    inc_dir, full_dir = tmp_path / "inc", tmp_path / "full"
    inc_dir.mkdir()
    full_dir.mkdir()
    incremental = write_chain(inc_dir / "warehouse.duckdb", base_chain)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    before = tmp_path / "before.duckdb"
    shutil.copy(incremental, before)
    delta = _delta(base_chain)
    write_chain(incremental, delta)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    full = write_chain(full_dir / "warehouse.duckdb", base_chain, delta)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full_dir)

    # the run took the incremental path and rewrote only some patients
    compiled = next((inc_dir / "target" / "compiled").rglob("stg_pms__patients.sql")).read_text()
    assert "built_age_years" in compiled
    old, new = _bands(before), _bands(incremental)
    moved = {k for k in old if old[k] != new.get(k)}
    assert moved  # some birthdays crossed a band edge in those 75 days
    assert len(new) == len(old) + 1  # the new patient
    for relation in COMPARED:
        assert _rows(incremental, relation) == _rows(full, relation), relation
