"""The engagement page's lead funnel counts leads by their location's local week, as the marts
count new_leads, so its total equals the scorecard's new_leads over the same four weeks.

The page used to cut the window on the reader's UTC date: a Sunday-evening lead in Chicago
(Monday by UTC) fell into the next week, one late on the Sunday before the window (New York)
fell into it.
"""

from __future__ import annotations

import duckdb
from dash_serving_fixture import build_shipped_pages, make_serving_db, table_rows

# The fixture's last complete week is 2026-11-09, so the window is the local weeks starting
# 2026-10-19, 10-26, 11-02 and 11-09 (dates 2026-10-19 .. 2026-11-15). By hand:
# lk_1 loc_a (America/Chicago, UTC-6): 2026-11-16 03:00 UTC = Sun 2026-11-15 21:00 local,
#      week 2026-11-09: in (its UTC date, Monday 11-16, is after the window)
# lk_2 loc_b (America/New_York, UTC-4 until 11-01): 2026-10-19 03:00 UTC = Sun 2026-10-18
#      23:00 local, week 2026-10-12: out (its UTC date, Monday 10-19, is in the window)
# lk_3 loc_a: 2026-11-10 15:00 UTC = Tue 09:00 local, week 2026-11-09: in
LEADS = [
    ("lk_1", "loc_a", "google_ads", "2026-11-16 03:00:00+00", "2026-11-15", "2026-11-09"),
    ("lk_2", "loc_b", "instagram", "2026-10-19 03:00:00+00", "2026-10-18", "2026-10-12"),
    ("lk_3", "loc_a", "referral", "2026-11-10 15:00:00+00", "2026-11-10", "2026-11-09"),
]


def test_lead_funnel_uses_local_weeks_and_equals_the_scorecard(tmp_path):
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from marts.fct_leads")
        for key, location, channel, created_at, local_date, week in LEADS:
            con.execute(
                """insert into marts.fct_leads by name select ? as lead_key,
                    ? as location_id, ? as channel, cast(? as timestamptz) as created_at,
                    true as is_responded, false as is_booked_in_window,
                    3 as response_minutes, cast(? as date) as created_local_date,
                    cast(? as date) as week_start""",
                [key, location, channel, created_at, local_date, week],
            )
        # the mart's new_leads for those leads: 2 in the week of 2026-11-09, none before
        con.execute(
            """update marts.kpi_scorecard set value = case
                when period_start = date '2026-11-09' then 2 else 0 end
            where kpi = 'new_leads' and grain = 'week' and location_id = '_all'"""
        )
        scorecard = con.execute(
            """select sum(value) from marts.kpi_scorecard
            where kpi = 'new_leads' and grain = 'week' and location_id = '_all'
                and period_start between date '2026-10-19' and date '2026-11-09'"""
        ).fetchone()[0]
    finally:
        con.close()
    build_shipped_pages(serving, tmp_path, "engagement.md")
    html = (tmp_path / "site" / "engagement.html").read_text(encoding="utf-8")
    table = html[html.index('<div class="datatable"') :]
    rows = table_rows(table[: table.index("</table>")])
    # channel, new leads, responded, booked so far, booked share so far, leads still in the
    # booking window (none: the fixture's booking conversion of 2026-11-09 is final)
    assert [r for r in rows if r] == [
        ["Google Ads", "1", "1", "0", "0.0%", "0"],
        ["Referral", "1", "1", "0", "0.0%", "0"],
    ]
    assert sum(int(r[1]) for r in rows if r) == scorecard == 2
