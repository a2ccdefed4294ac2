"""The published scorecard agrees with the landing files, recomputed here without dbt.

A green run proves little if the numbers are wrong. This reads the delivered extracts with
pandas and applies the KPI catalogue's definitions (README "KPIs", dbt docs) directly:

- net revenue: Σ invoice_lines.net_amount of `paid` invoices, by the local date (the
  location's time zone) of invoices.issued_at;
- completed visits: appointments with status `completed`, by the local date of
  scheduled_start;
- no-show rate: `no_show` appointments / appointments, leaving out those cancelled at least
  `late_cancel_hours` (24) before scheduled_start (a cancellation without a time counts as
  early), by the local date of scheduled_start;

per location and chain-wide (`_all`, re-summed), per ISO week (Monday) and month, for every
period that has started at the data's as-of time (the newest updated_at delivered).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from landing_frames import local_dates, read
from orch_e2e import query

from ingestion.contract import load_contract

pytestmark = pytest.mark.xdist_group("e2e")

LATE_CANCEL_HOURS = 24
KPIS = ("net_revenue", "completed_visits", "no_show_rate")
Key = tuple[str, dt.date, str, str]  # grain, period_start, location_id, kpi


def _periods(events: pd.DataFrame) -> pd.DataFrame:
    """One row per event and grain, with the ISO week's Monday or the month's first day."""
    day = pd.to_datetime(events["event_date"])
    weeks = events.assign(grain="week", period_start=(day - pd.to_timedelta(day.dt.weekday, "D")))
    months = events.assign(grain="month", period_start=day.dt.to_period("M").dt.start_time)
    both = pd.concat([weeks, months], ignore_index=True)
    return both.assign(period_start=both["period_start"].dt.date)


def _roll_up(events: pd.DataFrame, kpi: str) -> dict[Key, tuple[float, float | None]]:
    """(numerator, denominator) per grain x period x location, plus `_all` re-summed."""
    rows = _periods(events)
    by_location = rows.groupby(["grain", "period_start", "location_id"])[["num", "den"]].sum()
    chain = rows.groupby(["grain", "period_start"])[["num", "den"]].sum()
    out: dict[Key, tuple[float, float | None]] = {}
    for (grain, start, loc), r in by_location.iterrows():
        out[(grain, start, loc, kpi)] = (r["num"], r["den"])
    for (grain, start), r in chain.iterrows():
        out[(grain, start, "_all", kpi)] = (r["num"], r["den"])
    return out


@pytest.fixture(scope="module")
def landing_kpis(demo_landing) -> tuple[dict[Key, tuple[float, float | None]], dict[str, dt.date]]:
    locations = read(demo_landing, "pms.locations")
    zone = dict(zip(locations["location_id"], locations["timezone"], strict=True))

    invoices = read(demo_landing, "pos.invoices")
    lines = read(demo_landing, "pos.invoice_lines")
    paid = invoices[invoices["status"] == "paid"]
    paid = paid.assign(event_date=local_dates(paid["issued_at"], paid["location_id"].map(zone)))
    revenue = lines.merge(paid[["invoice_id", "location_id", "event_date"]], on="invoice_id")
    revenue = revenue.assign(num=revenue["net_amount"].astype(float), den=0.0)

    appts = read(demo_landing, "pms.appointments")
    appts = appts.assign(
        event_date=local_dates(appts["scheduled_start"], appts["location_id"].map(zone))
    )
    start = pd.to_datetime(appts["scheduled_start"], utc=True, format="ISO8601")
    cancelled_at = pd.to_datetime(appts["cancelled_at"], utc=True, format="ISO8601")
    early_cancel = (appts["status"] == "cancelled") & ~(
        cancelled_at > start - pd.Timedelta(hours=LATE_CANCEL_HOURS)
    )
    completed = appts.assign(num=(appts["status"] == "completed").astype(float), den=0.0)
    base = appts[~early_cancel]
    no_shows = base.assign(num=(base["status"] == "no_show").astype(float), den=1.0)

    expected = {}
    expected |= _roll_up(revenue, "net_revenue")
    expected |= _roll_up(completed[completed["num"] > 0], "completed_visits")
    expected |= _roll_up(no_shows, "no_show_rate")

    newest = max(
        pd.to_datetime(read(demo_landing, t.qualified_name)["updated_at"], utc=True).max()
        for t in load_contract().tables
        if (demo_landing / t.system / t.name).is_dir()
    )
    as_of = {loc: newest.tz_convert(tz).date() for loc, tz in zone.items()}
    return expected, as_of


@pytest.fixture(scope="module")
def published(happy_run) -> dict[Key, tuple[float, float | None]]:
    assert happy_run.summary.success, happy_run.summary.to_text()
    rows = query(
        happy_run.serving,
        "select grain, period_start, location_id, kpi, numerator, denominator, value "
        "from marts.kpi_scorecard where kpi in ('net_revenue', 'completed_visits', 'no_show_rate')",
    )
    out = {}
    for grain, start, loc, kpi, num, den, value in rows:
        expected_value = num if kpi != "no_show_rate" else (num / den if den else None)
        assert value == pytest.approx(expected_value), (grain, start, loc, kpi)
        out[(grain, start, loc, kpi)] = (num, den)
    return out


def _started(expected, as_of: dict[str, dt.date]):
    """Expected rows of periods that have started at every location (chain-wide included)."""
    everywhere = min(as_of.values())
    return {k: v for k, v in expected.items() if k[1] <= everywhere}


def test_nothing_was_quarantined_so_the_landing_files_are_the_truth(happy_run):
    loaded = dict(happy_run.summary.tables)
    for table in ("raw_pos/invoices", "raw_pos/invoice_lines", "raw_pms/appointments"):
        assert loaded[table]["rows_quarantined"] == 0, table


@pytest.mark.parametrize("kpi", KPIS)
def test_published_kpi_matches_the_landing_files_per_location_week_month_and_chain(
    kpi, landing_kpis, published
):
    expected, as_of = landing_kpis
    want = {k: v for k, v in _started(expected, as_of).items() if k[3] == kpi}
    got = {k: v for k, v in published.items() if k[3] == kpi and k in want}
    assert len(want) > 20, "the demo chain has months of history"
    assert {k[0] for k in want} == {"week", "month"} and any(k[2] == "_all" for k in want)
    assert set(got) == set(want), sorted(set(want) ^ set(got))[:5]
    for key, (num, den) in want.items():
        pub_num, pub_den = got[key]
        assert pub_num == pytest.approx(num, abs=0.005), key
        if kpi == "no_show_rate":
            assert pub_den == pytest.approx(den), key
        else:
            assert pub_den is None, key


def test_no_period_is_published_before_it_started_anywhere(landing_kpis, published):
    _, as_of = landing_kpis
    latest = max(as_of.values())
    assert published and max(k[1] for k in published) <= latest


def test_chain_totals_equal_the_sum_of_locations(published):
    for (grain, start, loc, kpi), (num, _) in published.items():
        if loc != "_all":
            continue
        parts = [
            v[0]
            for k, v in published.items()
            if k[:2] == (grain, start) and k[3] == kpi and k[2] != "_all"
        ]
        assert num == pytest.approx(sum(parts), abs=0.005), (grain, start, kpi)


def test_site_headline_shows_the_landing_numbers_of_the_last_complete_week(happy_run, landing_kpis):
    """The home page's headline cards carry the recomputed chain-wide numbers, formatted."""
    import html

    from dashboards.formatting import fmt

    expected, _ = landing_kpis
    (week,) = query(
        happy_run.serving,
        "select max(period_start) from marts.kpi_scorecard "
        "where grain = 'week' and location_id = '_all' and is_final",
    )[0]
    page = (happy_run.data_dir / "site" / "index.html").read_text(encoding="utf-8")
    revenue, _ = expected[("week", week, "_all", "net_revenue")]
    no_shows, appointments = expected[("week", week, "_all", "no_show_rate")]
    for value, name in ((revenue, "usd0"), (no_shows / appointments, "pct1")):
        card = f'<div class="bv-value">{html.escape(fmt(value, name))}</div>'
        assert card in page, name
