"""scorecard.duckdb: the published scorecard alone, sorted for one location's lookup."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from serving import publish
from serving.scorecard_file import scorecard_path

RELATIONS = [
    publish.MartRelation("marts", "kpi_scorecard"),
    publish.MartRelation("marts", "kpi_targets"),
    publish.MartRelation("marts", "fct_visits"),
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    # rows deliberately out of lookup order: L2 before L1, the later week first
    con.execute(
        "create table marts.kpi_scorecard as select * from (values "
        "('week', 'L2', date '2026-11-09', 'nps', 40.0), "
        "('week', 'L1', date '2026-11-16', 'nps', 35.0), "
        "('month', 'L1', date '2026-10-01', 'nps', 38.0), "
        "('week', 'L1', date '2026-11-09', 'nps', 30.0)) "
        "t(grain, location_id, period_start, kpi, value)"
    )
    con.execute("create table marts.kpi_targets as select 'nps' as kpi, 30.0 as target_low")
    con.execute("create table marts.fct_visits as select 1 as visit_id")
    con.close()
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_publish_writes_the_scorecard_file_sorted_with_serving_rows(
    warehouse: Path, tmp_path: Path
):
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    card = scorecard_path(serving)
    assert card == tmp_path / "scorecard.duckdb"
    assert publish.table_names(card) == [("marts", "kpi_scorecard"), ("marts", "kpi_targets")]
    stored = _rows(card, "select * from marts.kpi_scorecard")  # storage order
    assert stored == sorted(_rows(serving, "select * from marts.kpi_scorecard"))
    assert _rows(card, "select * from marts.kpi_targets") == [("nps", 30.0)]
    assert not list(tmp_path.glob("*.tmp-*"))


def test_a_republish_replaces_the_scorecard_file(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    con = duckdb.connect(str(warehouse))
    con.execute("update marts.kpi_scorecard set value = value + 1")
    con.close()
    publish.publish(warehouse, serving, "run2", RELATIONS, publish.OpsData())
    total = "select sum(value) from marts.kpi_scorecard"
    assert _rows(scorecard_path(serving), total) == _rows(serving, total) == [(147.0,)]


def test_a_failed_publish_leaves_the_scorecard_file_as_it_was(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    before = scorecard_path(serving).read_bytes()
    con = duckdb.connect(str(warehouse))
    con.execute("alter table marts.kpi_scorecard add column email varchar")  # PHI: refused
    con.close()
    with pytest.raises(publish.PublishAuditError):
        publish.publish(warehouse, serving, "run2", RELATIONS, publish.OpsData())
    assert scorecard_path(serving).read_bytes() == before
    assert not list(tmp_path.glob("*.tmp-*"))


def test_a_scorecard_built_beside_a_failing_audit_is_not_left_behind(
    warehouse: Path, tmp_path: Path
):
    """The scorecard file is built and audited while serving's audit runs: when only the
    latter fails (a PHI column in another mart), the finished scorecard file is removed."""
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    before = scorecard_path(serving).read_bytes(), serving.read_bytes()
    con = duckdb.connect(str(warehouse))
    con.execute("alter table marts.fct_visits add column email varchar")  # PHI: refused
    con.close()
    with pytest.raises(publish.PublishAuditError, match=r"fct_visits\.email"):
        publish.publish(warehouse, serving, "run2", RELATIONS, publish.OpsData())
    assert (scorecard_path(serving).read_bytes(), serving.read_bytes()) == before
    assert not list(tmp_path.glob("*.tmp-*"))


def test_without_a_published_scorecard_no_stale_scorecard_file_remains(
    warehouse: Path, tmp_path: Path
):
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    only_facts = [publish.MartRelation("marts", "fct_visits")]
    publish.publish(warehouse, serving, "run2", only_facts, publish.OpsData())
    assert not scorecard_path(serving).exists()


def test_a_sealed_one_thread_reader_looks_up_one_location_week(warehouse: Path, tmp_path: Path):
    from dashboards.sealed import sealed_reader

    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    con = sealed_reader(scorecard_path(serving), threads=1)
    try:
        rows = con.execute(
            "select s.value, t.target_low from marts.kpi_scorecard as s "
            "inner join marts.kpi_targets as t on s.kpi = t.kpi "
            "where s.grain = 'week' and s.location_id = ? and s.period_start = ?",
            ["L1", "2026-11-16"],
        ).fetchall()
        with pytest.raises(duckdb.Error):  # sealed: the warehouse is out of reach
            con.execute(f"attach '{warehouse}' as wh (read_only)")
    finally:
        con.close()
    assert rows == [(35.0, 30.0)]
