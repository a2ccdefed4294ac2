"""A selection built over a parent that is behind its raw rows does not corrupt the next night.

The day's delta lands in two loads, practice management first (L1), then the point of sale
(L2). Someone then builds the point of sale's raw tables "and everything downstream" (the
Dagster UI's selection): `fct_appointments` is built while `stg_pms__appointments` still
holds only the rows before L1, and its load watermark moves to L2. When staging catches up,
the day's appointments carry L1, older than that watermark, and an incremental build never
took them: the nights after published marts missing them, every check passing. Now the
selection's step finds the models it built on a parent that was not current
(`unchanged.stale_builds_in_warehouse`) and resets them (`record_outcome`), and the next
build of the whole graph equals a full refresh of the same raw rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, apply_delta, build_chain

from medspa.settings import DEMO_PHI_KEY
from orchestration.defs.dbt import unchanged
from orchestration.manifest import load_manifest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

KEY = "a key used for both the records and the check"
REPO = Path(__file__).resolve().parents[2]
COMPARED = ("marts.fct_appointments", "marts.kpi_operations", "marts.kpi_financial")


def _record_every_model(warehouse: Path, key: str = KEY) -> None:
    """What the pipeline's dbt step records after a good build of the whole graph."""
    plan = unchanged.plan_for_warehouse(load_manifest(), warehouse, key, leave_out=False)
    outcome = unchanged.BuildOutcome(frozenset(plan.fingerprints), frozenset())
    unchanged.record_outcome(warehouse, outcome, plan.fingerprints, "night-0")


def _built(work: Path) -> set[str]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1] for r in results if r["status"] == "success"}


def _differences(a: Path, b: Path, relation: str) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        return con.execute(
            f"select (select count(*) from (select * from a.{relation} except all "
            f"select * from b.{relation})) + (select count(*) from (select * from b.{relation} "
            f"except all select * from a.{relation}))"
        ).fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def chains() -> tuple[Chain, Chain, Chain]:
    base = build_chain()
    delta = apply_delta(base)
    pms = Chain(as_of=delta.as_of, tables={k: v for k, v in delta.tables.items() if k[0] == "pms"})
    rest = Chain(as_of=delta.as_of, tables={k: v for k, v in delta.tables.items() if k[0] != "pms"})
    assert pms.tables and rest.tables
    return base, pms, rest


def test_a_fact_built_over_a_stale_parent_is_rebuilt_and_the_night_equals_a_full_refresh(
    tmp_path: Path, chains: tuple[Chain, Chain, Chain]
) -> None:
    base, pms, rest = chains
    work = tmp_path / "nightly"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base)
    dbt(["seed"], warehouse, work)
    dbt(["run"], warehouse, work)
    _record_every_model(warehouse)
    write_chain(warehouse, pms)  # load L1
    write_chain(warehouse, rest)  # load L2, after it
    dbt(["run", "--select", "source:raw_pos+"], warehouse, work)
    built = _built(work)
    assert "fct_appointments" in built and "stg_pms__appointments" not in built
    stale = unchanged.stale_builds_in_warehouse(load_manifest(), warehouse, KEY, built)
    assert "fct_appointments" in stale
    assert not {"stg_pos__invoices", "stg_pos__invoice_lines"} & stale  # over raw, current
    unchanged.record_outcome(warehouse, unchanged.BuildOutcome(frozenset(), stale), {}, "")
    dbt(["run"], warehouse, work)  # the next build of the whole graph

    full_work = tmp_path / "full"
    full_work.mkdir()
    full = write_chain(full_work / "warehouse.duckdb", base, pms, rest)
    dbt(["seed"], full, full_work)
    dbt(["run", "--full-refresh"], full, full_work)
    assert {r: _differences(warehouse, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_medspa_transform_select_resets_a_model_built_over_a_stale_parent(
    tmp_path: Path, chains: tuple[Chain, Chain, Chain]
) -> None:
    """The same through `medspa transform --select` (dbt in-process): it says which models it
    built over a stale parent, and their load watermarks are gone when it returns."""
    base, pms, _rest = chains
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    warehouse = write_chain(data_dir / "warehouse.duckdb", base)
    dbt(["seed"], warehouse, tmp_path)
    dbt(["run"], warehouse, tmp_path)
    _record_every_model(warehouse, key=DEMO_PHI_KEY)
    write_chain(warehouse, pms)
    env = {k: v for k, v in os.environ.items() if k != "MEDSPA_PHI_KEY"}
    env["DBT_PROFILES_DIR"] = str(REPO / "dbt_project")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medspa.cli",
            "transform",
            "--data-dir",
            str(data_dir),
            "--select",
            "fct_appointments",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "built on a parent that was not current" in proc.stderr
    assert "fct_appointments" in proc.stderr.split("not current", 1)[1]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        left = con.execute(
            "select count(*) from dbt_state.load_watermarks "
            "where model_name in ('fct_appointments', 'fct_appointments:definition')"
        ).fetchone()[0]
    finally:
        con.close()
    assert left == 0
