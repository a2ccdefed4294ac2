"""The story lines are visible in the extracts, and the KPIs land at plausible levels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from demo.locations import build_calendar
from ingestion.contract import load_contract
from tests.demo.conftest import END, tiny_config
from tests.demo.helpers import extract_files, read_text

CONTRACT = load_contract()


def _table(root, name: str) -> pd.DataFrame:
    return read_text(extract_files(root, CONTRACT.table(name))[0])


@pytest.fixture(scope="module")
def appointments(snapshot_chain) -> pd.DataFrame:
    df = _table(snapshot_chain[0], "pms.appointments")
    for c in ("booked_at", "scheduled_start", "checked_in_at", "checked_out_at", "cancelled_at"):
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601")
    return df


def test_story_location_misses_more_calls_in_the_last_weeks(snapshot_chain):
    calls = _table(snapshot_chain[0], "phone.calls")
    calls = calls[(calls["direction"] == "inbound") & (calls["location_id"] == "LOC01")]
    day = calls["started_at"].str[:10]
    missed = calls["outcome"] != "answered"
    recent = missed[day >= (END - dt.timedelta(days=27)).isoformat()].mean()
    before = missed[day < (END - dt.timedelta(days=49)).isoformat()].mean()
    assert 0.05 < before < 0.2
    assert recent > before + 0.1


def test_one_provider_rebooks_far_fewer_patients_at_checkout(appointments):
    a = appointments
    done = a[a["status"] == "completed"]
    pairs = done.merge(
        a[["patient_id", "appointment_id", "booked_at"]], on="patient_id", suffixes=("", "_next")
    )
    pairs = pairs[
        (pairs["appointment_id_next"] != pairs["appointment_id"])
        & (pairs["booked_at_next"] >= pairs["checked_in_at"])
        & (pairs["booked_at_next"] <= pairs["checked_out_at"] + pd.Timedelta("30min"))
    ]
    rebooked = done["appointment_id"].isin(pairs["appointment_id"])
    rate = rebooked.groupby(done["provider_id"]).mean()
    others = rate.drop("PRV0002")
    assert rate["PRV0002"] < 0.2
    assert others.min() > 0.25
    assert 0.25 < rebooked.mean() < 0.5


def test_memberships_start_only_after_the_launch(snapshot_chain):
    cfg = tiny_config()
    members = _table(snapshot_chain[0], "pms.memberships")
    launch = (dt.date(1970, 1, 1) + dt.timedelta(days=cfg.membership_launch_day)).isoformat()
    assert len(members) > 20
    assert (members["started_on"] >= launch).all()


def test_laser_services_start_when_the_laser_is_bought(snapshot_chain, appointments):
    devices = _table(snapshot_chain[0], "pms.devices")
    bought = devices.loc[devices["device_type"] == "laser", "purchased_on"].item()
    laser = appointments[appointments["service_id"].isin(["SVC-LHR", "SVC-LRS"])]
    assert len(laser) > 0
    assert (laser["scheduled_start"].dt.strftime("%Y-%m-%d") >= bought).all()


def test_new_location_opens_mid_way_with_no_capacity_before():
    cfg = tiny_config().__class__.build("small", locations=3, years=0.25, end_date=END)
    cal = build_calendar(cfg, cfg.end_day)
    opened = cfg.opening_day(2)
    assert cfg.start_day < opened < cfg.end_day
    assert (cal.close_h[2, : opened - cal.day0] == 0).all()
    assert (cal.close_h[2, opened - cal.day0 :] > 0).any()


def test_kpis_land_at_plausible_levels(snapshot_chain, appointments):
    root = snapshot_chain[0]
    a = appointments[appointments["scheduled_start"] < pd.Timestamp(END, tz="UTC")]
    early_cancel = (a["status"] == "cancelled") & (
        a["scheduled_start"] - a["cancelled_at"] >= pd.Timedelta("24h")
    )
    base = a[~early_cancel]
    assert 0.04 < (base["status"] == "no_show").mean() < 0.12
    inv = _table(root, "pos.invoices")
    lines = _table(root, "pos.invoice_lines").merge(inv[["invoice_id", "status"]])
    paid = lines[lines["status"] == "paid"]
    net, cost = pd.to_numeric(paid["net_amount"]), pd.to_numeric(paid["cost_amount"])
    assert 0.70 < 1 - cost.sum() / net.sum() < 0.85
    retail = net[paid["line_type"] == "retail_product"].sum() / net.sum()
    assert 0.06 < retail < 0.16
    surveys = _table(root, "reviews.surveys")
    score = pd.to_numeric(surveys["nps_score"]).dropna()
    nps = 100 * ((score >= 9).mean() - (score <= 6).mean())
    assert 35 < nps < 75
    calls = _table(root, "phone.calls")
    inbound = calls[calls["direction"] == "inbound"]
    assert 0.08 < (inbound["outcome"] != "answered").mean() < 0.25
    reviews = _table(root, "reviews.reviews")
    assert np.mean(pd.to_numeric(reviews["rating"]) >= 4) > 0.75
    assert reviews["patient_id"].isna().any() and reviews["patient_id"].notna().any()


def test_same_person_is_written_differently_across_systems(snapshot_chain):
    root = snapshot_chain[0]
    leads = _table(root, "crm.leads")
    patients = _table(root, "pms.patients").set_index("patient_id")
    converted = leads[leads["patient_id"].notna()]
    assert len(converted) > 10
    pat = patients.loc[converted["patient_id"]]
    digits = lambda s: s.str.replace(r"\D", "", regex=True).str[-10:]  # noqa: E731
    assert (digits(converted["phone"]).to_numpy() == digits(pat["phone"]).to_numpy()).all()
    assert (converted["phone"].to_numpy() != pat["phone"].to_numpy()).any()
    assert (
        patients["email"]
        .str.strip()
        .str.lower()
        .str.match(r"^[a-z.]+\d+@example\.(com|org|net)$")
        .all()
    )
    assert patients["phone"].str.replace(r"\D", "", regex=True).str[-7:-4].eq("555").all()
