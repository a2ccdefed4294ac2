"""Freshness against mistyped extract dates, and each table judged against its own system.

Ledger (`raw_meta.loaded_files`), every file loaded at 2026-11-22 07:00 UTC (02:00 in New
York, the night after 2026-11-21):
- pms/patients/2026-11-13, -14, -15 and -21, pms/appointments/2026-11-13, -14 and -15
  (appointments came with every pms extract, then stopped; pms did not), pms/services/2026-11-13
  (reference data, delivered with the first extract only);
- phone/calls/2026-11-21;
- reviews/reviews/2027-11-21.csv.gz: a year typo, dated after its own load.
Worked by hand:
- the reviews file's date (2027-11-21 00:00) is beyond its load + 1 day (2026-11-23 07:00),
  so its load time 2026-11-22 07:00 stands in: that is the newest delivery of any system;
- pms and phone (2026-11-21 00:00) lag it by 1 day 7 h = 1.29 days, within their 2-day window;
  read from the id, they would lag by 365 days and all be stale;
- appointments lags pms's newest (11-21) by 6 days, beyond the 2-day window, and came with
  3 of the 3 pms extracts up to its last one (at least 3, at least half): WARN;
  services lags by 8 days but came with 1 of 1: not a table that comes every night, passes;
  patients lags by 0; rooms never delivered a file of its own: nothing to say;
- the chain: newest delivery 2026-11-22 07:00; the limit is the tightest window (2) + 1 = 3
  days; at 2026-11-26 08:00 it is 4.04 days old: silent (read from the id it would be
  -359.67 days old and "delivering" for a year).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.raw_schema import ensure_meta_tables
from orchestration.defs.raw.freshness import CHECK_NAME, results_for
from quality import freshness

LOADED_AT = dt.datetime(2026, 11, 22, 7, 0, tzinfo=dt.UTC)
FILES = [
    *(("pms", "patients", f"pms/patients/2026-11-{d}.csv", f"2026-11-{d}") for d in (13, 14, 15)),
    ("pms", "patients", "pms/patients/2026-11-21.csv", "2026-11-21"),
    *(
        ("pms", "appointments", f"pms/appointments/2026-11-{d}.csv", f"2026-11-{d}")
        for d in (13, 14, 15)
    ),
    ("pms", "services", "pms/services/2026-11-13.csv", "2026-11-13"),
    ("phone", "calls", "phone/calls/2026-11-21.csv", "2026-11-21"),
    ("reviews", "reviews", "reviews/reviews/2027-11-21.csv.gz", "2027-11-21"),
]
SYSTEMS = ["pms", "phone", "reviews"]
TABLES = [
    ("pms", "patients"),
    ("pms", "appointments"),
    ("pms", "rooms"),
    ("pms", "services"),
    ("reviews", "reviews"),
]


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def extracts(tmp_path: Path) -> list[freshness.LoadedExtract]:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    ensure_meta_tables(con)
    for system, table, file_path, extract_id in FILES:
        con.execute(
            "insert into raw_meta.loaded_files values "
            "('L1', ?, 'sha', ?, ?, ?, 'loaded', null, 1, 1, 0, 0, 0, ?)",
            [file_path, system, table, extract_id, LOADED_AT],
        )
    con.close()
    return freshness.warehouse_extracts(path)


def test_a_future_dated_id_yields_to_its_load_time(extracts):
    deliveries = freshness.system_deliveries(extracts)
    assert deliveries["reviews"] == ("2027-11-21", LOADED_AT)
    assert deliveries["pms"] == ("2026-11-21", _utc("2026-11-21"))


def test_other_systems_are_not_pushed_a_year_behind(extracts):
    verdicts = freshness.evaluate(freshness.system_deliveries(extracts), SYSTEMS, declared=None)
    assert {s: (v.status, v.lag_days) for s, v in verdicts.items()} == {
        "pms": ("fresh", 1.29),
        "phone": ("fresh", 1.29),
        "reviews": ("fresh", 0.0),
    }


def test_an_id_up_to_a_day_ahead_of_its_load_is_still_trusted():
    """Loaded 2026-11-22 07:00: a 2026-11-23 id (00:00, within 07:00 + 1 day) is its date;
    a 2026-11-24 id (after 2026-11-23 07:00) is not."""
    assert freshness._extract_time("2026-11-23", LOADED_AT) == _utc("2026-11-23")
    assert freshness._extract_time("2026-11-24", LOADED_AT) == LOADED_AT


def test_a_stopped_chain_is_caught_despite_the_future_dated_file(extracts):
    deliveries = freshness.system_deliveries(extracts)
    soon = freshness.chain_silence(deliveries, _utc("2026-11-22T08:00"))
    assert (soon.status, soon.age_days, soon.newest_extract) == ("delivering", 0.04, "2027-11-21")
    assert soon.description == (
        "newest extract of any system (2027-11-21; its id is dated after its own load: its load "
        "time 2026-11-22 07:00 UTC stands in) is 0.04 day(s) old, within the 3-day limit"
    )
    late = freshness.chain_silence(deliveries, _utc("2026-11-26T08:00"))
    assert (late.status, late.age_days, late.limit_days, late.passed) == ("silent", 4.04, 3, False)


def test_an_id_that_names_no_date_says_its_load_time_stood_in():
    """An extract id `nightly-a` (no date): its load time 2026-11-22 07:00 is the time judged;
    at 2026-11-22 19:00 it is 0.5 day old; pms's 2-day window + 1 makes the limit 3 days."""
    deliveries = {"pms": ("nightly-a", freshness._extract_time("nightly-a", LOADED_AT))}
    verdict = freshness.chain_silence(deliveries, _utc("2026-11-22T19:00"))
    assert verdict.description == (
        "newest extract of any system (nightly-a; its id names no date: its load time "
        "2026-11-22 07:00 UTC stands in) is 0.5 day(s) old, within the 3-day limit"
    )
    dated = freshness.chain_silence({"pms": ("2026-11-21", _utc("2026-11-21"))}, _utc("2026-11-22"))
    assert dated.description.startswith("newest extract of any system (2026-11-21) is 1 day(s)")


def test_a_negative_age_never_counts_as_delivering():
    """An extract time 12 h after the clock (a clock set back, or an id a day ahead)."""
    deliveries = {"pms": ("2026-11-23", _utc("2026-11-23"))}
    verdict = freshness.chain_silence(deliveries, _utc("2026-11-22T12:00"))
    assert (verdict.status, verdict.age_days, verdict.passed) == ("ahead_of_clock", -0.5, False)
    assert "dated 0.5 day(s) after the check's clock" in verdict.description


def _tables(extracts) -> dict[tuple[str, str], freshness.TableFreshness]:
    verdicts = freshness.evaluate(freshness.system_deliveries(extracts), SYSTEMS, declared=None)
    return freshness.evaluate_tables(verdicts, extracts, TABLES)


def test_a_table_behind_its_delivering_system_warns(extracts):
    tables = _tables(extracts)
    appointments = tables[("pms", "appointments")]
    assert (appointments.status, appointments.lag_days, appointments.passed) == (
        "behind",
        6.0,
        False,
    )
    assert appointments.description.startswith(
        "appointments: last extract 2026-11-15 lags pms's newest by 6 day(s), beyond its "
        "2-day window; pms: last extract 2026-11-21 lags the newest extract by 1.29 day(s)"
    )
    patients = tables[("pms", "patients")]
    assert (patients.status, patients.lag_days, patients.passed) == ("fresh", 0.0, True)


def test_a_reference_table_silent_since_its_first_extract_passes(extracts):
    """Rooms and services change when the clinic edits them, not every night: a table that did
    not come with most of its system's extracts is not judged by its own lag."""
    services = _tables(extracts)[("pms", "services")]
    assert (services.status, services.lag_days, services.passed) == ("fresh", 8.0, True)
    assert services.description.startswith(
        "services: last extract 2026-11-13 lags pms's newest by 8 day(s) (it has not come with "
        "most of pms's extracts: not judged by it)"
    )


def test_a_table_without_a_file_of_its_own_says_so_and_passes(extracts):
    rooms = _tables(extracts)[("pms", "rooms")]
    assert rooms.passed and rooms.last_extract is None
    assert rooms.description.startswith("rooms: no extract of its own loaded yet; pms: ")


def test_the_future_dated_file_is_named_on_its_table(extracts):
    reviews = _tables(extracts)[("reviews", "reviews")]
    assert (reviews.status, reviews.passed) == ("future_dated", False)
    assert (
        "reviews/reviews/2027-11-21.csv.gz is dated 2027-11-21, after it was loaded "
        "(2026-11-22 07:00 UTC)" in reviews.description
    )


def test_a_future_dated_file_is_no_longer_reported_once_the_data_catches_up(extracts):
    """A pms extract of 2027-11-22 (loaded 2027-11-23) is newer than the typo's date."""
    caught_up = [
        *extracts,
        freshness.LoadedExtract(
            "pms", "patients", "pms/patients/2027-11-22.csv", "2027-11-22", _utc("2027-11-23")
        ),
    ]
    assert _tables(caught_up)[("reviews", "reviews")].future_dated == ()


def _checks(extracts) -> dict[str, dg.AssetCheckResult]:
    verdicts = freshness.evaluate(
        freshness.system_deliveries(extracts), ["pms", "phone", "reviews"], declared=None
    )
    from orchestration.defs.raw.assets import RAW_TABLES, raw_key

    wanted = {"raw_pms/appointments", "raw_pms/patients", "raw_reviews/reviews"}
    tables = [(t.system, t.name) for t in RAW_TABLES if t.system in SYSTEMS]
    keys = {
        dg.AssetCheckKey(raw_key(t), CHECK_NAME)
        for t in RAW_TABLES
        if raw_key(t).to_user_string() in wanted
    }
    results = results_for(freshness.evaluate_tables(verdicts, extracts, tables), keys)
    return {r.asset_key.to_user_string(): r for r in results}


def test_checks_warn_per_table_and_name_its_own_last_extract(extracts):
    checks = _checks(extracts)
    assert {k: (r.passed, r.severity) for k, r in checks.items()} == {
        "raw_pms/appointments": (False, dg.AssetCheckSeverity.WARN),
        "raw_pms/patients": (True, dg.AssetCheckSeverity.WARN),
        "raw_reviews/reviews": (False, dg.AssetCheckSeverity.WARN),
    }
    appointments = checks["raw_pms/appointments"]
    assert appointments.metadata["table_last_extract"].value == "2026-11-15"
    assert appointments.metadata["last_extract"].value == "2026-11-21"
    assert appointments.metadata["system_status"].value == "fresh"
    assert checks["raw_reviews/reviews"].metadata["future_dated_files"].value == (
        "reviews/reviews/2027-11-21.csv.gz"
    )
