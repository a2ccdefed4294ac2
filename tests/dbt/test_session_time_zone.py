"""dbt's sessions work in UTC whatever the server's time zone, so KPIs depend only on the data.

A DuckDB session takes its zone from the process (`TZ`). On a server set to America/New_York,
the warehouse published other numbers than on a UTC one: `dbt.datediff` on instants (lead
response minutes) counted a DST change as an hour, and an instant cast to a date took New
York's day. `medspa.dbt_session_plugin` (profiles.yml) pins every dbt session to UTC.

Worked out by hand for 2026-03-08, the day New York moved its clocks from 02:00 EST to
03:00 EDT: a lead created at 06:00Z (01:00 EST) and answered at 08:00Z (04:00 EDT) waited
120 minutes (New York's wall clock shows 180), and 03:30Z is 2026-03-08 in UTC (22:30 on
2026-03-07 in New York).
"""

from __future__ import annotations

import json

import pytest
from dbt_runner import dbt

pytestmark = pytest.mark.xdist_group("dbt_session_time_zone")

SQL = (
    "select current_setting('TimeZone') as tz, "
    "{{ dbt.datediff(\"timestamptz '2026-03-08 06:00:00+00'\", "
    "\"timestamptz '2026-03-08 08:00:00+00'\", 'second') }} / 60.0 as response_minutes, "
    "cast(cast(timestamptz '2026-03-08 03:30:00+00' as date) as varchar) as day"
)


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Chatham"])
def test_dbt_works_in_utc_whatever_the_servers_zone(tmp_path, zone):
    proc = dbt(
        ["show", "--inline", SQL, "--output", "json", "--log-format", "text"],
        tmp_path / "warehouse.duckdb",
        tmp_path,
        extra_env={"TZ": zone},
    )
    start = proc.stdout.index("{")
    shown = json.JSONDecoder().raw_decode(proc.stdout[start:])[0]["show"]
    assert shown == [{"tz": "UTC", "response_minutes": 120.0, "day": "2026-03-08"}]
