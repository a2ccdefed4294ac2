"""A load started on its own (the landing sensor, the nightly schedule) may meet a file an
exporter is still copying in. With a cut-off (`IngestSettings.settled_before`), a file modified
after it waits: reported, not recorded, so the next load takes it whole. Without one (a person
running the load) every file is taken as it is."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from ingest_fixtures import (
    CONTRACT,
    appointment,
    csv_text,
    header,
    query,
    settings_for,
    write,
    write_required,
)

from ingestion.landing import scan_landing
from ingestion.pipeline import MissingRequiredTablesError, ingest
from ingestion.report import NO_NEW_EXTRACT, STILL_BEING_WRITTEN


def _touch(path, seconds_from_now: float) -> None:
    stamp = time.time() + seconds_from_now
    os.utime(path, (stamp, stamp))


def test_a_file_modified_after_the_cut_off_is_listed_as_waiting(tmp_path):
    settled = write(tmp_path, "pms/locations/2026-11-20.csv", "x")
    copying = write(tmp_path, "pms/locations/2026-11-21.csv", "x")
    _touch(settled, -120)
    _touch(copying, -5)
    scan = scan_landing(tmp_path, CONTRACT, settled_before=time.time() - 30)
    assert [f.rel_path for f in scan.files] == ["pms/locations/2026-11-20.csv"]
    assert [path for path, _ in scan.ignored] == ["pms/locations/2026-11-21.csv"]
    assert "left for the next run" in scan.ignored[0][1]
    # without a cut-off (a load a person starts) both are extracts
    assert len(scan_landing(tmp_path, CONTRACT).files) == 2


def test_the_waiting_file_is_not_recorded_and_the_next_load_takes_it(tmp_path):
    landing = tmp_path / "landing"
    write_required(landing, "2026-11-20")
    for path in (landing / "pms").rglob("*.csv"):
        _touch(path, -120)
    late = write(
        landing,
        "pms/appointments/2026-11-21.csv",
        csv_text(header("pms.appointments"), [appointment("A2")]),
    )
    _touch(late, -1)
    settings = dataclasses.replace(settings_for(tmp_path), settled_before=time.time() - 30)

    first = ingest(settings, systems=["pms"])
    assert first.table("pms", "appointments").files_loaded == 1
    assert any(entry.startswith("pms/appointments/2026-11-21.csv: ") for entry in first.ignored)
    sql = "select file_path from raw_meta.loaded_files where table_name = 'appointments'"
    assert query(settings, sql) == [("pms/appointments/2026-11-20.csv",)]

    second = ingest(dataclasses.replace(settings, settled_before=time.time() + 1), systems=["pms"])
    assert second.table("pms", "appointments").files_loaded == 1
    assert sorted(query(settings, "select appointment_id from raw_pms.appointments")) == [
        ("A1",),
        ("A2",),
    ]


def test_a_table_whose_only_new_file_waits_says_so_not_no_new_extract(tmp_path):
    """The run's summary line for the table: its new file is on its way, not absent; a table
    with nothing new says so as before."""
    landing = tmp_path / "landing"
    write_required(landing, "2026-11-20")
    for path in (landing / "pms").rglob("*.csv"):
        _touch(path, -120)
    settings = dataclasses.replace(settings_for(tmp_path), settled_before=time.time() - 30)
    ingest(settings, systems=["pms"])
    late = write(
        landing,
        "pms/appointments/2026-11-21.csv",
        csv_text(header("pms.appointments"), [appointment("A2")]),
    )
    _touch(late, -1)

    report = ingest(settings, systems=["pms"])
    assert report.table("pms", "appointments").state == STILL_BEING_WRITTEN
    assert report.table("pms", "locations").state == NO_NEW_EXTRACT
    assert "pms.appointments" not in report.absent_tables
    assert "a new file still being written: left for the next run" in report.to_text()


def test_a_first_load_whose_required_file_is_being_written_names_it(tmp_path):
    """The very first delivery, still being copied in at the run's start: the run stops as
    with no extract at all (the KPIs need the table), but says the file is on its way."""
    landing = tmp_path / "landing"
    write_required(landing, "2026-11-20")
    for path in (landing / "pms").rglob("*.csv"):
        _touch(path, 1)  # written a moment ago
    settings = dataclasses.replace(settings_for(tmp_path), settled_before=time.time() - 30)
    with pytest.raises(MissingRequiredTablesError) as caught:
        ingest(settings, systems=["pms"])
    message = str(caught.value)
    assert "is still being written" in message
    assert "pms/appointments/2026-11-20.csv" in message and "the next run takes it" in message


def test_a_required_table_with_no_file_is_named_before_one_being_written(tmp_path):
    """Locations never delivered, appointments on their way: the run stops on what no later
    run fixes by itself, with the plain message, not "is still being written" for both."""
    landing = tmp_path / "landing"
    write_required(landing, "2026-11-20")
    (landing / "pms" / "locations" / "2026-11-20.csv").unlink()
    for path in (landing / "pms").rglob("*.csv"):
        _touch(path, 1)
    settings = dataclasses.replace(settings_for(tmp_path), settled_before=time.time() - 30)
    with pytest.raises(MissingRequiredTablesError) as caught:
        ingest(settings, systems=["pms"])
    assert caught.value.missing == ["pms.locations"]
    assert "still being written" not in str(caught.value)
