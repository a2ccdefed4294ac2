"""Loads are numbered in the order they ran, whatever the machine's clock says.

The incremental dbt models read the raw rows whose `_dlt_load_id` sorts after the newest one
they were built from, and the quarantine gate judges a table's latest load by the ledger's
`load_id`. Both were the wall clock: with the clock set back a day after a load, the next
night's rows were numbered below it and no incremental model ever read them (every check
passed); a clock a year ahead did the same to every night after it was corrected.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from ingest_fixtures import csv_text, header, location, query, settings_for, write, write_required

from ingestion import pipeline
from ingestion.load_clock import LoadTime, next_load_time

UTC = dt.UTC


def test_a_load_time_is_written_as_the_ledger_and_the_rows_read_it():
    at = dt.datetime(2026, 12, 8, 1, 2, 3, 4005, tzinfo=UTC)
    assert LoadTime(at).load_id == "20261208T010203.004005Z"
    # Unix seconds, six decimals: the form of the dlt load ids on rows written before
    assert LoadTime(at).row_stamp == "1796691723.004005"
    assert LoadTime(dt.datetime(2026, 12, 8, tzinfo=UTC)).row_stamp == "1796688000.000000"


def test_the_clock_is_used_while_it_is_later_than_every_load():
    con = duckdb.connect()
    now = dt.datetime(2026, 12, 8, 6, tzinfo=UTC)
    assert next_load_time(con, now) == LoadTime(now)  # an empty warehouse
    con.execute("create schema raw_meta")
    con.execute("create table raw_meta.loaded_files (load_id varchar)")
    con.execute("insert into raw_meta.loaded_files values ('20261207T060000.000000Z')")
    assert next_load_time(con, now) == LoadTime(now)


def test_a_clock_at_or_behind_the_last_load_numbers_the_load_just_after_it():
    con = duckdb.connect()
    con.execute("create schema raw_meta")
    con.execute("create table raw_meta.loaded_files (load_id varchar)")
    con.execute("insert into raw_meta.loaded_files values ('20261207T060000.000000Z')")
    back_a_day = dt.datetime(2026, 12, 6, 6, tzinfo=UTC)
    assert next_load_time(con, back_a_day) == LoadTime(
        dt.datetime(2026, 12, 7, 6, 0, 0, 1, tzinfo=UTC), clock_behind=True
    )
    same = dt.datetime(2026, 12, 7, 6, tzinfo=UTC)
    assert next_load_time(con, same).clock_behind
    # a load dlt numbered (seven decimals, 2026-12-07 06:00:00.1234567) counts as well: the
    # next stamp sorts after it as text, as the models compare them
    con.execute("create schema raw_pms")
    con.execute("create table raw_pms._dlt_loads (load_id varchar)")
    con.execute("insert into raw_pms._dlt_loads values ('1796623200.1234567')")
    after = next_load_time(con, back_a_day)
    assert after.clock_behind and after.row_stamp == "1796623200.123458"
    assert after.row_stamp > "1796623200.1234567"


@pytest.mark.parametrize("jump", [dt.timedelta(days=-1), dt.timedelta(days=365)])
def test_a_clock_that_jumps_never_numbers_a_nights_rows_below_loaded_ones(
    tmp_path, monkeypatch, jump
):
    """Day 1 on a right clock; day 2 with the clock moved by `jump` (back a day, or a year
    ahead); day 3 on the right clock again. Each load's rows sort after every earlier load's,
    as does its ledger id, and a clock behind the last load is reported."""
    settings = settings_for(tmp_path)
    landing = tmp_path / "landing"
    # days ahead of the real clock: dlt still records its own (real-clock) load ids, which
    # count as earlier loads too
    day_1 = dt.datetime.now(UTC) + dt.timedelta(hours=1)
    clocks = iter([day_1, day_1 + dt.timedelta(days=1) + jump, day_1 + dt.timedelta(days=2)])
    monkeypatch.setattr(pipeline, "_now", lambda: next(clocks))
    write_required(landing)
    reports = [pipeline.ingest(settings)]
    for day, name in ((21, "Glow Two"), (22, "Glow Three")):
        write(
            landing,
            f"pms/locations/2026-11-{day}.csv",
            csv_text(
                header("pms.locations"), [location(f"L{day}", name, f"2026-11-{day}T00:00:00Z")]
            ),
        )
        reports.append(pipeline.ingest(settings))
    assert all(r.ok for r in reports), [r.errors for r in reports]
    ids = [r.load_id for r in reports]
    assert ids == sorted(ids) and len(set(ids)) == 3
    stamps = [
        stamp
        for (stamp,) in query(
            settings,
            "select _dlt_load_id from raw_pms.locations order by _extract_id, location_id",
        )
    ]
    first, second, third = stamps[0], stamps[-2], stamps[-1]
    assert first < second < third
    behind = [any("clock" in w for w in r.warnings) for r in reports]
    # and the file ledger's metadata carries it, which `medspa run`'s summary prints
    assert [bool(r.ledger_metadata().get("clock_behind")) for r in reports] == behind
    # back a day: day 2 is behind day 1; a year ahead: day 3 is behind day 2
    assert behind == ([False, True, False] if jump.days < 0 else [False, False, True])
