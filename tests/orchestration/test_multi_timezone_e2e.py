"""The nightly job end to end on a chain spanning two time zones, at a week boundary.

Two locations of the seeded generator (San Francisco, America/Los_Angeles, and Brooklyn,
America/New_York), half a year of data. The data's as-of instant, 2026-11-16 07:25Z, is Monday
02:25 in New York but still Sunday 23:25 in Los Angeles: week 2026-11-16 has begun in one
location and not the other. Before chain-wide rows followed "started at any location", the
blocking scorecard suite found New York's rows of that week without a chain-wide row and
nothing published. A full run is a few minutes on two cores.
"""

from __future__ import annotations

import datetime as dt

import pytest
from orch_e2e import query, run

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def two_zone_run(tmp_path_factory: pytest.TempPathFactory):
    from demo.config import ChainConfig
    from demo.run import generate

    root = tmp_path_factory.mktemp("two-zones")
    generate(root / "landing", ChainConfig.build("small", seed=99, locations=2, years=0.5))
    return run(root / "data", root / "landing")


def test_as_of_falls_between_the_two_locations_midnights(two_zone_run):
    rows = query(
        two_zone_run.warehouse,
        """select l.timezone, cast(timezone(l.timezone, a.as_of_at) as date)
        from staging.stg_pms__locations as l cross join intermediate.int_data_as_of as a
        order by l.timezone""",
    )
    assert rows == [
        ("America/Los_Angeles", dt.date(2026, 11, 15)),
        ("America/New_York", dt.date(2026, 11, 16)),
    ]


def test_chain_publishes_with_a_chain_wide_row_for_every_location_row(two_zone_run):
    summary = two_zone_run.summary
    assert summary.success, summary.to_text()
    assert summary.published and summary.published["marts"] > 0
    orphans = query(
        two_zone_run.serving,
        """select count(*) from marts.kpi_scorecard as s
        where s.location_id <> '_all' and not exists (
            select 1 from marts.kpi_scorecard as c
            where c.location_id = '_all' and c.grain = s.grain
                and c.period_start = s.period_start and c.kpi = s.kpi)""",
    )
    assert orphans == [(0,)]


def test_week_started_only_in_new_york_is_reported_chain_wide_from_new_york(two_zone_run):
    rows = query(
        two_zone_run.serving,
        """select distinct location_id from marts.kpi_scorecard
        where grain = 'week' and period_start = date '2026-11-16' order by 1""",
    )
    new_york = query(
        two_zone_run.serving,
        "select location_id from marts.dim_locations where timezone = 'America/New_York'",
    )
    assert rows == sorted([("_all",), *new_york])
    # Levels chain-wide equal New York's alone that week (Los Angeles has not started it).
    pairs = query(
        two_zone_run.serving,
        """select kpi, sum(case when location_id = '_all' then value end),
            sum(case when location_id <> '_all' then value end)
        from marts.kpi_scorecard
        where grain = 'week' and period_start = date '2026-11-16'
            and kpi in ('completed_visits', 'net_revenue')
        group by kpi""",
    )
    assert pairs and all(chain == location for _, chain, location in pairs)
