"""Per-system freshness rules (quality.freshness), on hand-made deliveries (no Dagster run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ingestion.raw_schema import ensure_meta_tables
from quality import freshness

SYSTEMS = ["pms", "pos", "phone", "crm"]
LOADED_AT = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def _day(d: int) -> dt.datetime:
    return dt.datetime(2026, 11, d, tzinfo=dt.UTC)


def test_system_that_stopped_delivering_is_stale_beyond_its_window():
    deliveries = {"pms": ("2026-11-20", _day(20)), "phone": ("2026-11-17", _day(17))}
    verdicts = freshness.evaluate(deliveries, SYSTEMS, declared=None, windows={"phone": 2})
    assert verdicts["phone"].status == "stale"
    assert verdicts["phone"].lag_days == 3.0
    assert not verdicts["phone"].passed
    assert "2026-11-17" in verdicts["phone"].description


def test_lag_equal_to_the_window_is_still_fresh():
    deliveries = {"pms": ("2026-11-20", _day(20)), "phone": ("2026-11-18", _day(18))}
    verdicts = freshness.evaluate(deliveries, SYSTEMS, declared=None, windows={"phone": 2})
    assert verdicts["phone"].status == "fresh" and verdicts["phone"].passed
    assert verdicts["pms"].lag_days == 0.0


def test_never_delivered_undeclared_system_raises_nothing():
    deliveries = {"pms": ("2026-11-20", _day(20))}
    verdicts = freshness.evaluate(deliveries, SYSTEMS, declared=None)
    assert verdicts["crm"].status == "never_delivered"
    assert verdicts["crm"].passed


def test_declared_system_that_never_delivered_fails():
    deliveries = {"pms": ("2026-11-20", _day(20))}
    verdicts = freshness.evaluate(deliveries, SYSTEMS, declared=("pms", "crm"))
    assert verdicts["crm"].status == "declared_missing"
    assert not verdicts["crm"].passed
    assert verdicts["phone"].passed  # not declared: still nothing to say


def test_verdict_depends_on_extract_dates_not_on_load_time(tmp_path: Path):
    """Both systems loaded in the same second; only their extract ids tell them apart."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    ensure_meta_tables(con)
    rows = [
        ("pms", "appointments", "2026-11-20"),
        ("pms", "appointments", "2026-11-14"),
        ("phone", "calls", "2026-11-14"),
    ]
    for system, table, extract in rows:
        con.execute(
            "insert into raw_meta.loaded_files values "
            "('L1', ?, 'sha', ?, ?, ?, 'loaded', null, 1, 1, 0, 0, 0, ?)",
            [f"{system}/{table}/{extract}.csv", system, table, extract, LOADED_AT],
        )
    # A refused file does not count as a delivery.
    con.execute(
        "insert into raw_meta.loaded_files values ('L1', 'phone/calls/2026-11-20.csv', 'sha', "
        "'phone', 'calls', '2026-11-20', 'refused', 'missing column', 0, 0, 0, 0, 0, ?)",
        [LOADED_AT],
    )
    con.close()
    verdicts = freshness.evaluate_warehouse(path, SYSTEMS, declared=None)
    assert verdicts["pms"].last_extract == "2026-11-20"
    assert verdicts["phone"].last_extract == "2026-11-14"
    assert verdicts["phone"].lag_days == 6.0 and verdicts["phone"].status == "stale"
    assert verdicts["pos"].status == "never_delivered"


def test_missing_warehouse_means_nothing_delivered(tmp_path: Path):
    verdicts = freshness.evaluate_warehouse(tmp_path / "none.duckdb", SYSTEMS, declared=None)
    assert {v.status for v in verdicts.values()} == {"never_delivered"}


def test_windows_come_from_the_contract_per_system():
    """ingestion/contract.yml declares `freshness_days` per system; reviews arrive weekly."""
    from ingestion.contract import load_contract

    windows = load_contract().freshness_days
    assert set(windows) == set(load_contract().systems)
    deliveries = {"pms": ("2026-11-20", _day(20)), "reviews": ("2026-11-14", _day(14))}
    verdicts = freshness.evaluate(deliveries, ["pms", "reviews"], declared=None)
    assert verdicts["reviews"].window_days == windows["reviews"] == 7.0
    assert verdicts["reviews"].status == "fresh"  # 6 days behind, within 7
