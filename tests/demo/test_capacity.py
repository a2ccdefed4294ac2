"""Appointments fit the clinic: open hours, active rooms, rostered providers, one per slot."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingestion.contract import load_contract
from tests.demo.conftest import END
from tests.demo.helpers import extract_files, read_text

CONTRACT = load_contract()


def _table(root, name: str) -> pd.DataFrame:
    return read_text(extract_files(root, CONTRACT.table(name))[0])


@pytest.fixture(scope="module")
def appointments(snapshot_chain) -> pd.DataFrame:
    df = _table(snapshot_chain[0], "pms.appointments")
    df["start"] = pd.to_datetime(df["scheduled_start"], utc=True, format="ISO8601")
    df["end"] = pd.to_datetime(df["scheduled_end"], utc=True, format="ISO8601")
    df["local_day"] = df["scheduled_start"].str[:10]
    df["local_hhmm"] = df["scheduled_start"].str[11:16]
    df["local_end_hhmm"] = df["scheduled_end"].str[11:16]
    return df


def test_no_room_is_double_booked(appointments):
    a = appointments.sort_values(["room_id", "start"])
    same_room = a["room_id"].eq(a["room_id"].shift())
    assert not (same_room & (a["start"] < a["end"].shift())).any()


def test_appointments_fall_inside_open_hours_of_their_day(snapshot_chain, appointments):
    hours = _table(snapshot_chain[0], "pms.location_hours")
    a = appointments
    a["weekday"] = pd.to_datetime(a["local_day"]).dt.isocalendar().day.astype(str)
    m = a.merge(hours, on=["location_id", "weekday"])
    valid = (m["valid_from"] <= m["local_day"]) & (
        m["valid_to"].isna() | (m["local_day"] <= m["valid_to"].fillna("9999"))
    )
    m = m[valid]
    assert m["appointment_id"].is_unique and len(m) == len(a)
    assert (m["local_hhmm"] >= m["opens_at"]).all()
    assert (m["local_end_hhmm"] <= m["closes_at"]).all()
    closures = _table(snapshot_chain[0], "pms.location_closures")
    assert not a["local_day"].isin(closures["closed_on"]).any()


def test_rooms_are_active_and_providers_on_shift(snapshot_chain, appointments):
    rooms = _table(snapshot_chain[0], "pms.rooms").set_index("room_id")
    a = appointments
    r = rooms.loc[a["room_id"]]
    assert (r["active_from"].to_numpy() <= a["local_day"].to_numpy()).all()
    active_to = r["active_to"].fillna("9999-12-31").to_numpy()
    assert (a["local_day"].to_numpy() <= active_to).all()
    shifts = _table(snapshot_chain[0], "pms.provider_shifts")
    shifts["s"] = pd.to_datetime(shifts["shift_start"], utc=True, format="ISO8601")
    shifts["e"] = pd.to_datetime(shifts["shift_end"], utc=True, format="ISO8601")
    shifts["local_day"] = shifts["shift_start"].str[:10]
    m = a.merge(shifts, on=["provider_id", "location_id", "local_day"], how="left")
    # Rosters are published two weeks ahead; bookings further out have no shift yet.
    published = m["local_day"] <= (END + dt.timedelta(days=13)).isoformat()
    assert m.loc[published, "s"].notna().all()
    on = m[m["s"].notna()]
    assert ((on["start"] >= on["s"]) & (on["end"] <= on["e"])).all()


def test_device_services_use_the_device_in_its_room(snapshot_chain, appointments):
    devices = _table(snapshot_chain[0], "pms.devices").set_index("device_id")
    with_device = appointments[appointments["device_id"].notna()]
    assert len(with_device) > 0
    d = devices.loc[with_device["device_id"]]
    assert (d["room_id"].to_numpy() == with_device["room_id"].to_numpy()).all()
    assert (d["purchased_on"].to_numpy() <= with_device["local_day"].to_numpy()).all()
