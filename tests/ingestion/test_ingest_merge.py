"""Merge rules on pms.locations over three loads of hand-written extracts.

Load 1 sees two new files at once (2026-11-20, 2026-11-21); load 2 a delta plus a file
whose extract id sorts *before* everything loaded; load 3 re-runs the same folder.
"""

from __future__ import annotations

import pytest
from ingest_fixtures import (
    appointment,
    csv_text,
    header,
    location,
    query,
    settings_for,
    write,
)

from ingestion.pipeline import ingest

pytestmark = pytest.mark.xdist_group("ingest_merge")

LOC = header("pms.locations")
ALL_ROWS = "select * exclude (_dlt_load_id) from raw_pms.locations order by location_id"


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    root = tmp_path_factory.mktemp("merge")
    landing = root / "landing"
    write(
        landing,
        "pms/appointments/2026-11-20.csv",
        csv_text(header("pms.appointments"), [appointment("A1")]),
    )
    write(
        landing,
        "pms/locations/2026-11-20.csv",
        csv_text(
            LOC,
            [
                location("L1", "A", "2026-11-01T00:00:00Z"),
                location("L2", "B", "2026-11-05T00:00:00Z"),
                location("L3", "C", "2026-11-01T00:00:00Z"),
            ],
        ),
    )
    write(
        landing,
        "pms/locations/2026-11-21.csv",
        csv_text(
            LOC,
            [
                location(
                    "L1", "A-tie", "2026-11-01T00:00:00Z"
                ),  # same updated_at, later extract: wins
                location("L2", "B-old", "2026-11-03T00:00:00Z"),  # older than L2 of 11-20: loses
            ],
        ),
    )
    settings = settings_for(root)
    first = ingest(settings)
    after_first = query(settings, ALL_ROWS)
    first_load_ids = dict(
        query(settings, "select location_id, _dlt_load_id from raw_pms.locations")
    )

    write(
        landing,
        "pms/locations/2026-11-22.csv",
        csv_text(
            LOC,
            [
                location(
                    "L3", "C-older", "2026-10-01T00:00:00Z"
                ),  # older than stored: must not win
                location("L4", "D", "2026-11-02T00:00:00Z"),  # new key
            ],
        ),
    )
    write(
        landing,
        "pms/locations/2026-11-19.csv",
        csv_text(
            LOC,
            [
                location(
                    "L1", "A-newest", "2026-11-10T00:00:00Z"
                ),  # earlier file, higher updated_at
                location(
                    "L2", "B-tie-earlier", "2026-11-05T00:00:00Z"
                ),  # tie, earlier extract: loses
            ],
        ),
    )
    second = ingest(settings)
    after_second = query(settings, ALL_ROWS)
    meta_after_second = query(settings, "select * from raw_meta.loaded_files order by file_path")
    third = ingest(settings)
    return {
        "settings": settings,
        "first": first,
        "second": second,
        "third": third,
        "after_first": after_first,
        "after_second": after_second,
        "first_load_ids": first_load_ids,
        "meta_after_second": meta_after_second,
    }


def names(settings) -> dict[str, str]:
    return dict(query(settings, "select location_id, name from raw_pms.locations"))


def test_tie_on_updated_at_keeps_later_extract_and_older_row_loses(loads):
    after_first = {row[0]: row[1] for row in loads["after_first"]}
    assert after_first == {"L1": "A-tie", "L2": "B", "L3": "C"}


def test_first_load_counts_rows_as_each_file_saw_them(loads):
    entry = loads["first"].table("pms", "locations")
    assert (entry.files_loaded, entry.rows_read) == (2, 5)
    assert (entry.rows_inserted, entry.rows_updated, entry.rows_unchanged) == (3, 1, 1)
    per_file = query(
        loads["settings"],
        """select file_path, rows_inserted, rows_updated,
        rows_unchanged from raw_meta.loaded_files where table_name = 'locations'
        and load_id = ? order by file_path""",
        [loads["first"].load_id],
    )
    assert per_file == [
        ("pms/locations/2026-11-20.csv", 3, 0, 0),
        ("pms/locations/2026-11-21.csv", 0, 1, 1),
    ]


def test_higher_updated_at_wins_even_from_earlier_sorting_file(loads):
    assert names(loads["settings"]) == {"L1": "A-newest", "L2": "B", "L3": "C", "L4": "D"}


def test_older_delta_row_does_not_overwrite(loads):
    row = query(
        loads["settings"],
        """select name, updated_at::varchar, _extract_id
        from raw_pms.locations where location_id = 'L3'""",
    )
    assert row == [("C", "2026-11-01 00:00:00+00", "2026-11-20")]


def test_delta_reads_and_rewrites_only_its_own_rows(loads):
    entry = loads["second"].table("pms", "locations")
    assert (entry.files_loaded, entry.files_skipped, entry.rows_read) == (2, 2, 4)
    assert (entry.rows_inserted, entry.rows_updated, entry.rows_unchanged) == (1, 1, 2)
    load_ids = dict(
        query(loads["settings"], "select location_id, _dlt_load_id from raw_pms.locations")
    )
    rewritten = {k for k, v in load_ids.items() if v != loads["first_load_ids"].get(k)}
    assert rewritten == {"L1", "L4"}  # L2 and L3 untouched by the delta's load


def test_rerun_over_same_folder_changes_nothing(loads):
    settings = loads["settings"]
    assert query(settings, ALL_ROWS) == loads["after_second"]
    assert (
        query(settings, "select * from raw_meta.loaded_files order by file_path")
        == (loads["meta_after_second"])
    )
    entry = loads["third"].table("pms", "locations")
    assert (entry.files_loaded, entry.files_skipped, entry.rows_read) == (0, 4, 0)
    assert entry.state == "no new extract this run"
    assert loads["third"].ok


def test_lineage_columns_name_the_winning_file(loads):
    rows = query(
        loads["settings"],
        """select location_id, _extract_id, _source_file, _source_row
        from raw_pms.locations order by location_id""",
    )
    assert rows == [
        ("L1", "2026-11-19", "pms/locations/2026-11-19.csv", 1),
        ("L2", "2026-11-20", "pms/locations/2026-11-20.csv", 2),
        ("L3", "2026-11-20", "pms/locations/2026-11-20.csv", 3),
        ("L4", "2026-11-22", "pms/locations/2026-11-22.csv", 2),
    ]
