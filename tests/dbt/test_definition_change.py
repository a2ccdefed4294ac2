"""A changed definition rebuilds an incremental model whole; an unchanged one stays incremental.

Each test runs dbt on its own copy of the project, so it can edit a macro the way an upgrade
does (macros/definitions.sql). The fixture chain is the core-chain one: the figures below are
read from the warehouse before the edit, and the edit's effect on them is worked out by hand
(doubling every paid line's net amount doubles every appointment's net revenue).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT, dbt, newest_builds, write_chain
from dbt_core_chain import Chain

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SELECTION = ["--select", "+fct_appointments"]
REVENUE_MACRO = Path("macros") / "appointment_revenue.sql"


def _project_copy(tmp_path: Path) -> Path:
    """The dbt project as the repository holds it, without anything a run wrote."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")
    )
    return copy


def _revenue(warehouse: Path) -> tuple[int, float]:
    """(appointments with revenue, Σ net revenue) of fct_appointments."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        count, total = con.execute(
            "select count(*) filter (where net_revenue <> 0), sum(net_revenue) "
            "from marts.fct_appointments"
        ).fetchone()
    finally:
        con.close()
    return count, float(total)


@pytest.fixture
def built(tmp_path: Path, base_chain: Chain) -> tuple[Path, Path, Path]:
    """(project copy, warehouse, work dir): the chain built once, then a night with no change."""
    project, work = _project_copy(tmp_path), tmp_path / "work"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["run", *SELECTION], warehouse, work, project=project)
    dbt(["run", *SELECTION], warehouse, work, project=project)
    return project, warehouse, work


def test_unchanged_definition_stays_incremental(built: tuple[Path, Path, Path]) -> None:
    _, warehouse, _ = built
    builds = newest_builds(warehouse)
    assert "fct_appointments" in builds
    assert "stg_pms__appointments" in builds
    # the second night changed nothing: every model took its incremental path
    assert all(builds.values()), builds


def test_changed_macro_rebuilds_with_the_new_code(built: tuple[Path, Path, Path]) -> None:
    project, warehouse, work = built
    count_before, total_before = _revenue(warehouse)
    assert count_before > 0 and total_before > 0

    macro = project / REVENUE_MACRO
    source = macro.read_text()
    assert "sum(invoice_lines.net_amount) as net_revenue" in source
    macro.write_text(
        source.replace(
            "sum(invoice_lines.net_amount) as net_revenue",
            "sum(invoice_lines.net_amount) * 2 as net_revenue",
        )
    )
    dbt(["run", *SELECTION], warehouse, work, project=project)

    # no new data, but the macro changed: every incremental model was rebuilt whole ...
    builds = newest_builds(warehouse)
    assert not any(builds.values()), builds
    # ... so every appointment's revenue is the new code's: the same appointments, twice the sum
    count_after, total_after = _revenue(warehouse)
    assert count_after == count_before
    assert total_after == pytest.approx(2 * total_before, rel=1e-12)

    # the next night with no change is incremental again
    dbt(["run", *SELECTION], warehouse, work, project=project)
    assert all(newest_builds(warehouse).values())
    assert _revenue(warehouse) == (count_after, total_after)


def test_missing_definition_record_rebuilds_whole(built: tuple[Path, Path, Path]) -> None:
    """A warehouse whose incremental models were built before the record existed (an upgrade
    from an earlier version) cannot tell what code built its rows: each model rebuilds once."""
    project, warehouse, work = built
    con = duckdb.connect(str(warehouse))
    try:
        recorded = con.execute(
            "select count(*) from dbt_state.load_watermarks where model_name like '%:definition'"
        ).fetchone()[0]
        con.execute("delete from dbt_state.load_watermarks where model_name like '%:definition'")
    finally:
        con.close()
    assert recorded == len(newest_builds(warehouse))

    dbt(["run", *SELECTION], warehouse, work, project=project)
    builds = newest_builds(warehouse)
    assert not any(builds.values()), builds


def test_a_new_results_version_rebuilds_whole_once(built: tuple[Path, Path, Path]) -> None:
    """`results_version` stands for what computes rows outside the models and macros (the
    session's settings, DuckDB): raising it rebuilds every incremental model once."""
    project, warehouse, work = built
    config = project / "dbt_project.yml"
    text = config.read_text()
    assert "  results_version: 2\n" in text
    config.write_text(text.replace("  results_version: 2\n", "  results_version: 3\n"))

    dbt(["run", *SELECTION], warehouse, work, project=project)
    assert not any(newest_builds(warehouse).values())
    dbt(["run", *SELECTION], warehouse, work, project=project)
    assert all(newest_builds(warehouse).values())
