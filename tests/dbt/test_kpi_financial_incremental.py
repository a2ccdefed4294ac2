"""kpi_financial built incrementally (macros/kpi_financial_incremental.sql) equals a full
refresh, night after night, and really takes its incremental path.

One warehouse goes through its nights, each built incrementally, and after each night the mart
is compared row for row with a `--full-refresh` of it over a copy of that warehouse. The nights:
(a) the next day; (b) a late extract re-pricing a month-old line and voiding an invoice (the
ltv_12m of every period whose trailing year holds them changes); (c) a new membership started
months ago and an old one cancelled back in the spring (mrr of old periods changes, with no
touched record: every mrr row is recomputed); (d) a location closed in the past (its level
days end earlier: net_revenue's zero rows of the periods after go); (e) eleven days at once,
across a week and a month boundary. Then a run of the mart alone, whose inputs were not built
in the same invocation: it rebuilds whole.

The synthetic chain's invoices name no patient; here each invoice names its appointment's
patient, so ltv_12m has rows, and the ltv window is 30 days (a dbt var), so an incremental
night really reads only the revenue days from its cutoff minus the window on, not the whole
history.
"""

from __future__ import annotations

import copy
from datetime import date, time, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, _ts, late_delta
from test_kpi_rollup_incremental import _cutoffs, _equals_full_refresh, _next_day, _query

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

MART = "kpi_financial"
SELECTION = [f"+{MART}"]
VARS = ["--vars", "{ltv_window_days: 30}"]


def _run(args: list[str], warehouse: Path, work: Path) -> None:
    dbt([*args, *VARS], warehouse, work)


def _with_patients(delta: Chain, *chains: Chain) -> Chain:
    """`delta` with each invoice naming its appointment's patient (appointments of `delta`
    and `chains`)."""
    patients = {
        row["appointment_id"]: row["patient_id"]
        for chain in (*chains, delta)
        for row in chain.tables.get(("pms", "appointments"), [])
    }
    delta = copy.deepcopy(delta)
    for row in delta.tables.get(("pos", "invoices"), []):
        if row.get("appointment_id") in patients:
            row["patient_id"] = patients[row["appointment_id"]]
    return delta


def _night(work: Path, warehouse: Path, delta: Chain) -> dict[str, date | None]:
    """Load `delta`, build incrementally, compare with a full refresh; the cutoffs used."""
    write_chain(warehouse, delta)
    _run(["run", "--select", *SELECTION], warehouse, work)
    assert _equals_full_refresh(work, warehouse, (MART,), tuple(VARS)) == {MART: 0}
    return _cutoffs(warehouse, MART)


def _rows(warehouse: Path) -> int:
    return _query(warehouse, f"select count(*) from marts.{MART}")[0][0]


def _membership_delta(chain: Chain) -> Chain:
    """A membership started on 2025-04-10 (loaded only now) and the first active one cancelled
    on 2025-05-01: mrr changes in every period ending from April on, far behind the as-of."""
    stamp = _ts(chain.as_of, time(7, 0), "UTC")
    delta = Chain(as_of=chain.as_of)
    members = chain.tables[("pms", "memberships")]
    active = next(r for r in members if r["cancelled_on"] is None)
    delta.add(
        "pms",
        "memberships",
        dict(active, cancelled_on=date(2025, 5, 1), status="cancelled", updated_at=stamp),
    )
    delta.add(
        "pms",
        "memberships",
        dict(
            members[0],
            membership_id="MS9999",
            started_on=date(2025, 4, 10),
            cancelled_on=None,
            status="active",
            updated_at=stamp,
        ),
    )
    return delta


def _closure_delta(chain: Chain) -> Chain:
    """L2 closed as of 2025-11-10 (closed_on set late): its level days end on 11-09."""
    stamp = _ts(chain.as_of, time(7, 30), "UTC")
    delta = Chain(as_of=chain.as_of)
    location = next(r for r in chain.tables[("pms", "locations")] if r["location_id"] == "L2")
    delta.add("pms", "locations", dict(location, closed_on=date(2025, 11, 10), updated_at=stamp))
    return delta


def test_kpi_financial_equals_full_refresh_night_after_night(
    tmp_path: Path, base_chain: Chain
) -> None:
    base = _with_patients(base_chain)
    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base)
    dbt(["seed"], warehouse, work)
    _run(["run", "--select", *SELECTION], warehouse, work)
    # the first build has no state to go by: rebuilt whole, cutoffs recorded as null
    assert _cutoffs(warehouse, MART) == {"week": None, "month": None}
    assert _query(
        warehouse,
        f"select count(distinct kpi) from marts.{MART} where kpi in ('mrr', 'ltv_12m')",
    ) == [(2,)]

    # (a) the next day (as-of Thursday 2025-11-20 -> Friday 2025-11-21): only the current
    # week and month are recomputed (the events touched are of 2025-11-20)
    cutoffs = _night(work, warehouse, _with_patients(_next_day(base), base))
    assert cutoffs == {"week": date(2025, 11, 17), "month": date(2025, 11, 1)}

    # (b) a late extract: a month-old line re-priced, a month-old invoice voided, a visit of
    # 2025-01-06 turned no-show: recomputed from those periods, not whole
    cutoffs = _night(work, warehouse, late_delta(base))
    assert cutoffs == {"week": date(2025, 1, 6), "month": date(2025, 1, 1)}

    # (c) memberships changed months back: no touched record names them, yet mrr equals the
    # full refresh (every mrr row is recomputed) while the rest stays on the incremental path
    # (nothing else changed: the current periods only)
    cutoffs = _night(work, warehouse, _membership_delta(base))
    assert cutoffs == {"week": date(2025, 11, 17), "month": date(2025, 11, 1)}

    # (d) L2 closed on 2025-11-10: its level days now end on 11-09 instead of the as-of, so
    # the cutoffs reach back to the periods holding 11-10
    cutoffs = _night(work, warehouse, _closure_delta(base))
    assert cutoffs == {"week": date(2025, 11, 10), "month": date(2025, 11, 1)}

    # (e) eleven nights in one extract, stamped Monday 2025-12-01 12:00 UTC: November and the
    # week of 2025-11-24 become final, December and the week of 2025-12-01 start
    before = _rows(warehouse)
    cutoffs = _night(
        work, warehouse, _with_patients(_next_day(base, seed=12, days=11, at=time(12, 0)), base)
    )
    assert cutoffs["week"] is not None and cutoffs["month"] == date(2025, 11, 1)
    assert _rows(warehouse) > before
    assert _query(
        warehouse,
        f"select grain, bool_and(is_final) from marts.{MART}"
        " where (grain = 'week' and period_start = date '2025-11-24')"
        " or (grain = 'month' and period_start = date '2025-11-01') group by grain order by 1",
    ) == [("month", True), ("week", True)]

    # the mart alone: its inputs were not built in this invocation, so no touched record is
    # complete for it and it rebuilds whole (and still equals a full refresh)
    _run(["run", "--select", MART], warehouse, work)
    assert _cutoffs(warehouse, MART) == {"week": None, "month": None}
    assert _equals_full_refresh(work, warehouse, (MART,), tuple(VARS)) == {MART: 0}


def test_kpi_financial_rebuilds_whole_without_its_level_day_record(
    tmp_path: Path, base_chain: Chain
) -> None:
    """No record of the level days the last build used (a build from before this record
    existed): the next night cannot tell which periods a moved calendar changed, so it
    rebuilds whole, and equals a full refresh."""
    work = tmp_path / "incremental"
    work.mkdir()
    base = _with_patients(base_chain)
    warehouse = write_chain(work / "warehouse.duckdb", base)
    dbt(["seed"], warehouse, work)
    _run(["run", "--select", *SELECTION], warehouse, work)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("drop table dbt_state.kpi_level_days")
    finally:
        con.close()
    cutoffs = _night(work, warehouse, _with_patients(_next_day(base), base))
    assert cutoffs == {"week": None, "month": None}
    # recorded again: the night after takes the incremental path
    delta = _with_patients(_next_day(base, seed=13, days=2), base)
    cutoffs = _night(work, warehouse, delta)
    assert cutoffs["week"] is not None and cutoffs["week"] > date(2025, 1, 6)
    assert timedelta(0) <= delta.as_of - cutoffs["week"] <= timedelta(days=13)
