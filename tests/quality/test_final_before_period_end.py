"""A scorecard row may be final only once its period has ended at the data's as-of time.

Fixture (quality_fixtures): as-of 2026-11-16 07:00 UTC; every location in America/New_York,
where that is 2026-11-16 02:00. Worked by hand:
- week 2026-11-02 ends 2026-11-09 00:00 local: ended, final is right;
- week 2026-11-09 ends 2026-11-16 00:00 local, two hours before the as-of: ended;
- month 2026-11-01 ends 2026-12-01 00:00: still open, final is wrong;
- with one more location in Pacific/Honolulu (as-of 2026-11-15 21:00 there) the chain-wide
  week 2026-11-09 has not ended everywhere, so its `_all` row may not be final yet, while the
  New York location's row may;
- a location missing from dim_locations is judged at UTC+14 (2026-11-16 21:00): week
  2026-11-09 has ended there, week 2026-11-16 (ends 11-23) has not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from quality_fixtures import GOOD_SCORECARD, build_marts, scorecard_row

from quality.mart_queries import final_before_period_end_query


def _flagged(path: Path) -> list[str]:
    """The rows the check reports (null = a good row), sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(final_before_period_end_query("marts")).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def _all_final(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "is_final": True} for r in rows]


def test_the_correct_scorecard_passes(tmp_path: Path):
    path = build_marts(tmp_path / "m.duckdb", GOOD_SCORECARD, ["L1", "L2"])
    assert _flagged(path) == []


def test_every_row_final_flags_the_open_month(tmp_path: Path):
    """Setting is_final on every row: the three November rows (L1, L2, _all) are still open."""
    path = build_marts(tmp_path / "m.duckdb", _all_final(GOOD_SCORECARD), ["L1", "L2"])
    assert _flagged(path) == [
        "month 2026-11-01 L1 net_revenue",
        "month 2026-11-01 L2 net_revenue",
        "month 2026-11-01 _all net_revenue",
    ]


def test_a_week_that_ended_hours_before_the_as_of_may_be_final(tmp_path: Path):
    rows = [scorecard_row("week", "2026-11-09", loc, "new_leads", 1.0) for loc in ("L1", "_all")]
    assert _flagged(build_marts(tmp_path / "m.duckdb", rows, ["L1"])) == []


def test_chain_row_waits_for_the_latest_time_zone(tmp_path: Path):
    rows = [scorecard_row("week", "2026-11-09", loc, "new_leads", 1.0) for loc in ("L1", "_all")]
    path = build_marts(tmp_path / "m.duckdb", rows, ["L1"])
    with duckdb.connect(str(path)) as con:
        con.execute("insert into marts.dim_locations values ('HI', 'HI', 'Pacific/Honolulu')")
    assert _flagged(path) == ["week 2026-11-09 _all new_leads"]


def test_location_missing_from_the_dimension_is_judged_at_the_latest_clock(tmp_path: Path):
    rows = [
        scorecard_row("week", "2026-11-09", "LX", "new_leads", 1.0),
        scorecard_row("week", "2026-11-16", "LX", "new_leads", 1.0),
    ]
    path = build_marts(tmp_path / "m.duckdb", rows, ["L1"])
    assert _flagged(path) == ["week 2026-11-16 LX new_leads"]


def test_a_row_not_marked_final_is_never_flagged(tmp_path: Path):
    rows = [{**scorecard_row("week", "2026-12-07", "L1", "new_leads", 1.0), "is_final": False}]
    assert _flagged(build_marts(tmp_path / "m.duckdb", rows, ["L1"])) == []
