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


def _at(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def test_chain_silence_compares_the_newest_extract_of_any_system_with_the_clock():
    """pms last delivered 2026-11-20, crm 2026-11-21 (the newest). Limit = tightest window of
    the systems that delivered (pms: 2 days; crm: 3) + 1 day of arrival = 3 days.
    At 2026-11-24 00:00 crm's extract is 3.0 days old: on the limit, still delivering.
    At 2026-11-24 12:00 it is 3.5 days old: silent."""
    deliveries = {
        "pms": ("2026-11-20", _at("2026-11-20")),
        "crm": ("2026-11-21", _at("2026-11-21")),
    }
    on_limit = freshness.chain_silence(deliveries, _at("2026-11-24"))
    assert (on_limit.status, on_limit.age_days, on_limit.limit_days) == ("delivering", 3.0, 3.0)
    assert on_limit.newest_extract == "2026-11-21"
    late = freshness.chain_silence(deliveries, _at("2026-11-24", 12))
    assert (late.status, late.age_days, late.passed) == ("silent", 3.5, False)
    assert "whole chain stopped delivering" in late.description


def test_chain_silence_limit_follows_the_systems_that_delivered():
    """Only reviews (7-day window) delivered: limit 7 + 1 = 8 days; 2026-11-10 -> 11-17 12:00
    is 7.5 days: delivering."""
    only_reviews = {"reviews": ("2026-11-10", _at("2026-11-10"))}
    verdict = freshness.chain_silence(only_reviews, _at("2026-11-17", 12))
    assert (verdict.status, verdict.age_days, verdict.limit_days) == ("delivering", 7.5, 8.0)


def test_chain_silence_is_off_for_a_demo_chain_and_before_any_load():
    deliveries = {"pms": ("2026-01-01", _at("2026-01-01"))}
    assert freshness.chain_silence(deliveries, _at("2026-12-01"), demo=True).status == "demo"
    empty = freshness.chain_silence({}, _at("2026-12-01"))
    assert empty.status == "nothing_loaded" and empty.passed
