"""The rooms page's weekday × hour occupancy divides booked hours by the treatment rooms active
on each date of the four weeks (active_from to active_to, its last active date), as the
marts' room capacity does, not by every treatment room in dim_rooms on every date.
"""

from __future__ import annotations

import duckdb
import pytest
from dash_serving_fixture import make_serving_db

from dashboards.pages import parse_page
from dashboards.queries import run_queries
from dashboards.sealed import sealed_reader
from dashboards.site import DEFAULT_PAGES_DIR


def test_occupancy_counts_only_rooms_active_on_each_date(tmp_path):
    # Window: the four weeks to the fixture's last complete week, 2026-10-19 .. 2026-11-15.
    # Mondays 10-19, 10-26, 11-02, 11-09; Tuesdays 10-20, 10-27, 11-03, 11-10.
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            # room_b1 retires after Monday 10-26 (its last active date); room_a3 opens on
            # Monday 11-09; the consult room never counts
            """update marts.dim_rooms set active_to = date '2026-10-26' where room_id = 'room_b1';
            insert into marts.dim_rooms values
                ('room_a3', 'loc_a', 'Suite 3', 'treatment', true, date '2026-11-09', null),
                ('room_c', 'loc_a', 'Consult', 'consult', false, date '2024-01-01', null);
            delete from marts.fct_appointments;
            insert into marts.fct_appointments by name
            select * from (values
                ('ap1', 'loc_a', 'room_a1', timestamp '2026-11-09 09:00', 1.0),
                ('ap2', 'loc_a', 'room_a2', timestamp '2026-10-27 10:00', 1.0))
                t(appointment_id, location_id, room_id, scheduled_start_local, duration_hours),
                (select 'treatment' as room_type, 'completed' as status)"""
        )
    finally:
        con.close()
    page = parse_page(DEFAULT_PAGES_DIR / "rooms.md")
    reader = sealed_reader(serving)
    try:
        rows = run_queries(reader, page, names=["busy_hours"])["busy_hours"]
    finally:
        reader.close()
    got = {(r["weekday"], r["start_hour"]): r["occupancy"] for r in rows}
    # Monday room-days: a1, a2 on all 4 (8) + b1 on 10-19 and 10-26 (2) + a3 on 11-09 (1) = 11
    # Tuesday room-days: a1, a2 on all 4 (8) + b1 on 10-20 only (1) + a3 on 11-10 (1) = 10
    # (before: 4 treatment rooms x 4 weeks = 16 for every weekday)
    assert got == {
        ("1 Mon", "09:00"): pytest.approx(1 / 11),
        ("2 Tue", "10:00"): pytest.approx(1 / 10),
    }
