"""The weekly flash's top movers: final values only, and a rate's move in points first.

Lead response time is final two days after its week (a weekend lead is answered on Monday),
so Monday's flash put a still-settling median at the top of the movers every week. And a
missed-call rate of 20.3 % against 13.9 % read "+45.8 %", easily taken for 45.8 points.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from dash_serving_fixture import make_serving_db, page_text

from dashboards import build_site

MOVERS = re.compile(r"Top movers against the 12-month baseline (.*?) By location")


def _movers(tmp_path: Path) -> str:
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        # the last complete week's chain-wide response time, still settling, at 10x its baseline
        con.execute(
            """update marts.kpi_scorecard set value = baseline_12m * 10, is_final = false
            where kpi = 'lead_response_minutes' and grain = 'week' and location_id = '_all'
                and period_start = (select max(period_start) from marts.kpi_scorecard
                    where grain = 'week' and location_id = '_all' and kpi = 'net_revenue'
                        and is_final)"""
        )
    finally:
        con.close()
    report = build_site(serving, tmp_path / "site")
    assert report.ok, report.pages_failed
    text = page_text((tmp_path / "site" / "weekly_flash.html").read_text(encoding="utf-8"))
    return MOVERS.search(text).group(1)


def test_a_value_still_settling_is_not_a_top_mover(tmp_path: Path) -> None:
    assert "Lead response time" not in _movers(tmp_path)


def test_a_rates_move_reads_in_points_then_relative_to_its_baseline(tmp_path: Path) -> None:
    # the fixture's no-show rate: 7.2 % against a baseline of 6.98 %
    assert "No-show rate 7.2% vs baseline 7.0% (+0.2 pts, +3.2% on the baseline, worse)" in (
        _movers(tmp_path)
    )
