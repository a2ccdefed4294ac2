"""A location's time zone must be an IANA name: ICU's own IDs are quarantined, not misplaced."""

from __future__ import annotations

import zoneinfo

import duckdb
import pytest
from ingest_fixtures import csv_text, header, location, query, settings_for, write, write_required

from ingestion.pipeline import ingest
from ingestion.time_zones import ICU_ONLY_IDS

pytestmark = pytest.mark.xdist_group("ingest_time_zones")


def test_the_icu_only_list_is_what_duckdb_knows_beyond_iana():
    """The pinned DuckDB's ICU names minus IANA's (the `tzdata` package's list; `localtime`
    is a file of the system's zoneinfo folder, not a zone)."""
    icu = {name for (name,) in duckdb.sql("select name from pg_timezone_names()").fetchall()}
    assert icu - zoneinfo.available_timezones() == ICU_ONLY_IDS


def test_icu_aliases_are_quarantined_and_iana_names_load(tmp_path):
    landing = tmp_path / "landing"
    write_required(landing)
    zones = {
        "L2": "BST",  # ICU: Asia/Dhaka, not British Summer Time
        "L3": "IST",  # ICU: Asia/Kolkata, not Ireland
        "L4": "PST",
        "L5": "SystemV/EST5",
        "L6": "Europe/London",
        "L7": "EST",  # an IANA zone (fixed UTC-5)
        "L8": "Etc/GMT+5",
    }
    rows = [
        location(lid, f"Glow {lid}", "2026-11-21T00:00:00Z", timezone=tz)
        for lid, tz in zones.items()
    ]
    write(landing, "pms/locations/2026-11-21.csv", csv_text(header("pms.locations"), rows))
    settings = settings_for(tmp_path)
    ingest(settings)
    loaded = query(settings, "select location_id, timezone from raw_pms.locations order by 1")
    assert loaded == [
        ("L1", "America/New_York"),
        ("L6", "Europe/London"),
        ("L7", "EST"),
        ("L8", "Etc/GMT+5"),
    ]
    quarantined = query(
        settings,
        "select reason, count(*) from raw_quarantine.rejected_rows "
        "where table_name = 'locations' group by reason",
    )
    assert quarantined == [("unknown time zone (not an IANA name such as America/New_York)", 4)]
