"""ScorecardReader: one open connection that follows each publish of scorecard.duckdb."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import duckdb
import pytest

from serving import publish
from serving.scorecard_file import scorecard_path
from serving.scorecard_reader import ScorecardReader

RELATIONS = [
    publish.MartRelation("marts", "kpi_scorecard"),
    publish.MartRelation("marts", "kpi_targets"),
]
WEEK = dt.date(2026, 11, 9)


def _build_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_scorecard as select * from (values "
        "('week', 'L1', date '2026-11-09', 'nps', 30.0), "
        "('week', 'L1', date '2026-11-09', 'no_show_rate', 0.08), "
        "('week', 'L2', date '2026-11-09', 'nps', 40.0), "
        "('week', 'L1', date '2026-11-16', 'nps', 35.0), "
        "('month', 'L1', date '2026-11-09', 'nps', 99.0)) "
        "t(grain, location_id, period_start, kpi, value)"
    )
    con.execute("alter table marts.kpi_scorecard alter value type double")
    con.execute(
        "create table marts.kpi_targets as select * from (values "
        "('nps', 'Net promoter score', 'score', 'higher'), "
        "('no_show_rate', 'No-show rate', 'ratio', 'lower')) t(kpi, label, unit, direction)"
    )
    con.close()


def _republish(warehouse: Path, serving: Path, run_id: str, sql: str) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(sql)
    con.close()
    publish.publish(warehouse, serving, run_id, RELATIONS, publish.OpsData())


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path]:
    """(warehouse, serving) after a first publish; the scorecard file lies beside serving."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _build_warehouse(warehouse)
    publish.publish(warehouse, serving, "run1", RELATIONS, publish.OpsData())
    return warehouse, serving


def test_a_lookup_returns_one_location_week_with_its_labels(published):
    _, serving = published
    with ScorecardReader(scorecard_path(serving)) as reader:
        rows = reader.lookup("L1", WEEK)
    # ordered by label: "Net promoter score" before "No-show rate"
    assert rows == [
        ("week", "L1", WEEK, "nps", 30.0, "Net promoter score", "score", "higher"),
        ("week", "L1", WEEK, "no_show_rate", 0.08, "No-show rate", "ratio", "lower"),
    ]


def test_the_reader_follows_a_publish_and_keeps_its_connection_otherwise(published):
    warehouse, serving = published
    with ScorecardReader(scorecard_path(serving)) as reader:
        assert reader.lookup("L2", WEEK)[0][4] == 40.0
        assert reader.lookup("L2", WEEK)[0][4] == 40.0
        assert reader.reopens == 0  # same file: the first connection answered both
        _republish(warehouse, serving, "run2", "update marts.kpi_scorecard set value = value + 1")
        assert reader.lookup("L2", WEEK)[0][4] == 41.0  # the new publish, not yesterday's
        assert reader.reopens == 1
        assert reader.lookup("L1", WEEK)[0][4] == 31.0
        assert reader.reopens == 1


def test_a_failed_publish_leaves_the_reader_on_the_last_good_file(published):
    warehouse, serving = published
    with ScorecardReader(scorecard_path(serving)) as reader:
        assert reader.lookup("L2", WEEK)[0][4] == 40.0
        with pytest.raises(publish.PublishAuditError):
            # PHI in a published mart: the audit refuses the whole publish
            _republish(
                warehouse,
                serving,
                "run2",
                "alter table marts.kpi_scorecard add column email varchar",
            )
        assert reader.lookup("L2", WEEK)[0][4] == 40.0
        assert reader.reopens == 0


def test_lookup_values_are_literals_not_sql(published):
    _, serving = published
    with ScorecardReader(scorecard_path(serving)) as reader:
        assert reader.lookup("L1' or '1' = '1", WEEK) == []
        assert len(reader.lookup("L1", WEEK, grain="week")) == 2
        with pytest.raises(ValueError, match="grain must be one of"):
            reader.lookup("L1", WEEK, grain="week' or '1' = '1")
        with pytest.raises(TypeError, match="period_start must be a date"):
            reader.lookup("L1", "2026-11-09")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="period_start must be a date"):
            reader.lookup("L1", dt.datetime(2026, 11, 9))


def test_a_date_no_period_starts_on_is_refused_not_answered_empty(published):
    """2026-11-12 is a Thursday: its week starts Monday 2026-11-09; a month starts on the 1st."""
    _, serving = published
    with ScorecardReader(scorecard_path(serving)) as reader:
        with pytest.raises(ValueError, match=r"2026-11-12 is a Thursday: .* starts 2026-11-09"):
            reader.lookup("L1", dt.date(2026, 11, 12))
        with pytest.raises(ValueError, match=r"months start on the 1st \(2026-11-01\)"):
            reader.lookup("L1", dt.date(2026, 11, 9), grain="month")


def test_the_connection_is_sealed_and_read_only(published, tmp_path: Path):
    _, serving = published
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with ScorecardReader(scorecard_path(serving)) as reader:
        with pytest.raises(duckdb.Error, match="disabled"):
            reader.query(f"select * from read_csv('{outside}')")
        with pytest.raises(duckdb.Error):
            reader.query("set enable_external_access = true")
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.query("delete from marts.kpi_scorecard")
        assert reader.query("select count(*) from marts.kpi_scorecard") == [(5,)]


def test_no_published_file_and_a_wrong_file_are_named(tmp_path: Path, published):
    with pytest.raises(FileNotFoundError, match=r"no published scorecard at .*medspa run"):
        ScorecardReader(tmp_path / "nowhere" / "scorecard.duckdb").lookup("L1", WEEK)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(ValueError, match=r"no marts\.kpi_scorecard, marts\.kpi_targets"):
        ScorecardReader(other).lookup("L1", WEEK)


def test_threads_share_one_reader(published):
    _, serving = published
    answers: list[float] = []
    with ScorecardReader(scorecard_path(serving)) as reader:

        def look() -> None:
            for _ in range(20):
                answers.append(reader.lookup("L2", WEEK)[0][4])

        workers = [threading.Thread(target=look) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert answers == [40.0] * 80
