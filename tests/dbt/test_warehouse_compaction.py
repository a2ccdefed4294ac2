"""The warehouse file is compacted every `compaction_every_runs` dbt runs, and only then.

Every writer opens the file with DuckDB's row-group merging off (macros/compaction.sql): a probe
table thinned by deletes keeps its row groups through the runs in between, and the run that is
due merges them, although it never touched the probe (a compaction covers the whole file).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import dbt

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_engagement")]

ROW_GROUP = 122_880  # DuckDB's default row-group size
STATE = "dbt_state.warehouse_compaction"


def _thin_probe(warehouse: Path) -> None:
    """Four full row groups, three rows in four deleted: the live rows fit one row group."""
    con = duckdb.connect(str(warehouse), config={"max_vacuum_tasks": 0})
    try:
        con.execute(
            f"create table main.compaction_probe as select range as id from range({4 * ROW_GROUP})"
        )
        con.execute("checkpoint")
        con.execute("delete from main.compaction_probe where id % 4 <> 0")
        con.execute("checkpoint")
    finally:
        con.close()


def _state(warehouse: Path) -> tuple[int, tuple[int, str | None]]:
    """(row groups of the probe, (runs since the last compaction, compacting invocation))."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        groups = con.execute(
            "select count(distinct row_group_id) from pragma_storage_info('main.compaction_probe')"
        ).fetchone()
        counter = con.execute(
            f"select runs_since_compaction, compacted_invocation_id from {STATE}"
        ).fetchall()
    finally:
        con.close()
    assert groups is not None and len(counter) == 1
    return groups[0], counter[0]


def _run(warehouse: Path, work: Path) -> str:
    """One small `dbt run` with a compaction every third run; its invocation id."""
    dbt(
        ["run", "--select", "int_data_as_of", "--vars", "{compaction_every_runs: 3}"],
        warehouse,
        work,
    )
    return json.loads((work / "target" / "run_results.json").read_text())["metadata"][
        "invocation_id"
    ]


def test_every_third_run_compacts_the_whole_file_and_the_runs_between_leave_it(
    tmp_path: Path, engagement_built: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(engagement_built, warehouse)
    _thin_probe(warehouse)
    con = duckdb.connect(str(warehouse), config={"max_vacuum_tasks": 0})
    try:  # the fixture's own build counted once; start the count here
        con.execute(f"update {STATE} set runs_since_compaction = 0, compacted_invocation_id = null")
    finally:
        con.close()
    assert _state(warehouse) == (4, (0, None))

    _run(warehouse, tmp_path)
    _run(warehouse, tmp_path)
    # Two runs: counted, and their checkpoints (each wrote the model and the counter) merged
    # nothing, the close's included.
    assert _state(warehouse) == (4, (2, None))

    third = _run(warehouse, tmp_path)
    assert _state(warehouse) == (1, (0, third))

    _run(warehouse, tmp_path)
    assert _state(warehouse) == (1, (1, third))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:  # merging moved rows, lost none
        assert con.execute("select count(*), sum(id) from main.compaction_probe").fetchone() == (
            ROW_GROUP,
            sum(range(0, 4 * ROW_GROUP, 4)),
        )
    finally:
        con.close()


def test_a_compaction_cadence_below_one_is_refused(tmp_path: Path, engagement_built: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(engagement_built, warehouse)
    proc = dbt(
        ["run", "--select", "int_data_as_of", "--vars", "{compaction_every_runs: 0}"],
        warehouse,
        tmp_path,
        check=False,
    )
    assert proc.returncode != 0
    assert "compaction_every_runs must be 1 or more (got 0)" in proc.stdout
