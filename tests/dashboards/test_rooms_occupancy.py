"""The rooms page's weekday × hour occupancy divides completed hours by the treatment-room hours
the locations were open: rooms active on the date (active_from to active_to, its last active
date) × the hours their location was open, location by location. Counting every active room on
every date showed Sunday, when one location of five is open, as 16 % full where the open rooms
were 60 % full. serving.duckdb publishes no opening hours, so an hour is open at a location
when a provider's shift covers all of it (the fixture's shifts: Austin Monday to Friday
08:30-18:00, open 09:00-18:00; Boston Tuesday to Saturday 09:30-17:00, open 10:00-17:00).
"""

from __future__ import annotations

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db

from dashboards.pages import parse_page
from dashboards.queries import run_queries
from dashboards.sealed import sealed_reader
from dashboards.site import DEFAULT_PAGES_DIR


@pytest.fixture
def serving(tmp_path):
    # Window: the four weeks to the fixture's last complete week, 2026-10-19 .. 2026-11-15.
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            # room_b1 (Boston) retires after Tuesday 10-27 (its last active date); room_a3
            # (Austin) opens on Monday 11-09; the consult room never counts; Austin is closed
            # on Monday 11-02 (no shifts)
            """update marts.dim_rooms set active_to = date '2026-10-27' where room_id = 'room_b1';
            insert into marts.dim_rooms values
                ('room_a3', 'loc_a', 'Suite 3', 'treatment', true, date '2026-11-09', null),
                ('room_c', 'loc_a', 'Consult', 'consult', false, date '2024-01-01', null);
            delete from marts.fct_provider_shifts
            where location_id = 'loc_a' and shift_date = date '2026-11-02';
            delete from marts.fct_appointments;
            insert into marts.fct_appointments by name
            select * from (values
                ('ap1', 'loc_a', 'room_a1', timestamp '2026-11-09 09:00', 1.0),
                ('ap2', 'loc_b', 'room_b1', timestamp '2026-10-27 10:00', 1.0),
                ('ap3', 'loc_a', 'room_a2', timestamp '2026-10-27 10:30', 1.0))
                t(appointment_id, location_id, room_id, scheduled_start_local, duration_hours),
                (select 'treatment' as room_type, 'completed' as status)"""
        )
    finally:
        con.close()
    return serving


def _rows(serving, name):
    page = parse_page(DEFAULT_PAGES_DIR / "rooms.md")
    reader = sealed_reader(serving)
    try:
        return run_queries(reader, page, names=[name])[name]
    finally:
        reader.close()


def test_occupancy_divides_by_the_room_hours_open(serving):
    got = {(r["weekday"], r["start_hour"]): r["occupancy"] for r in _rows(serving, "busy_hours")}
    # Monday 09:00: Austin open on 10-19, 10-26 and 11-09 (closed 11-02), 2 + 2 + 3 rooms = 7
    # room-hours (Boston is closed on Mondays); ap1 books 1 of them.
    assert got[("Mon", "09:00")] == pytest.approx(1 / 7)
    # Tuesday 10:00: Austin 2 + 2 + 2 + 3 rooms (a3 from 11-10) = 9, Boston room_b1 on 10-20
    # and 10-27 = 2: 11 room-hours; ap2 1 h + ap3 0.5 h. Tuesday 11:00: ap3's other half hour.
    assert got[("Tue", "10:00")] == pytest.approx(1.5 / 11)
    assert got[("Tue", "11:00")] == pytest.approx(0.5 / 11)
    # Saturday: Boston only, room_b1 active on 10-24 only: 1 room-hour an hour, none booked
    assert got[("Sat", "10:00")] == 0
    # no location open on Sundays, nor before 09:00 (shifts start 08:30: that half hour
    # before opening is no open hour), nor at 18:00
    assert not [k for k in got if k[0] == "Sun" or k[1] in ("08:00", "18:00")]
    assert {k[1] for k in got if k[0] == "Mon"} == {f"{h:02d}:00" for h in range(9, 18)}
    assert {k[1] for k in got if k[0] == "Sat"} == {f"{h:02d}:00" for h in range(10, 17)}
    # weekdays in week order on the axis, without a sort prefix ("1 Mon")
    assert list(dict.fromkeys(k[0] for k in got)) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]


def test_the_page_says_what_it_divides_by(serving, tmp_path):
    # Austin: Mondays 18 + 18 + 27 (3 open Mondays x 9 hours x 2, 2, 3 rooms) = 63, and each
    # of Tuesday to Friday 9 hours x (2 + 2 + 2 + 3) rooms = 81, x 4 = 324: 387 room-hours.
    # Boston: room_b1 on 10-20 .. 10-24 and 10-27 (6 open days) x 7 hours = 42. In all 429,
    # against the fixture's kpi_by_room denominators (100 a room a week: 3 rooms x 4 weeks).
    assert _rows(serving, "room_hours")[0] == {"counted": 429, "marts_open": 1200.0}
    built = tmp_path / "built"
    built.mkdir()
    build_shipped_pages(serving, built, "rooms.md")
    page = (built / "site" / "rooms.html").read_text(encoding="utf-8")
    text = " ".join(page.split())
    assert "divided by the treatment-room hours open then" in text
    assert "an hour counts as open at a location when a provider's shift covers all of it" in text
    assert (
        "That gives 429 open room-hours over the four weeks; the room KPIs (utilisation, RPH) "
        "count 1,200: the shifts do not match the opening hours exactly" in text
    )
