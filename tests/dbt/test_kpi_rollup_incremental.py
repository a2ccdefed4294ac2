"""The incremental KPI marts (macros/kpi_rollup_incremental.sql) equal a full refresh, night after
night, and really take their incremental path.

One warehouse goes through four nights, each built incrementally, and after each night the five
marts are compared row for row with a `--full-refresh` of the same marts over a copy of that
warehouse (their event models are compared with a build from scratch in
test_dbt_core_incremental.py, and here once more at the end). The nights: (a) the next day;
(b) a late extract correcting month-old events (a visit turned no-show, a voided invoice, a
re-priced line); (c) eleven days at once, so the as-of crosses a week and a month boundary
(periods become final and new ones start); (d) a location's time zone corrected, which re-dates
every event of that location. Then a run of the marts alone, whose inputs were not built in the
same invocation: the marts rebuild whole.
"""

from __future__ import annotations

import shutil
from datetime import date, time, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, apply_delta, late_delta
from dbt_core_deltas import timezone_delta
from test_dbt_core_incremental import _differences

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

MARTS = (
    "kpi_by_patient_type",
    "kpi_appointment_engagement",
    "kpi_by_service_category",
    "kpi_by_room",
    "kpi_by_line_type",
)
EVENTS = (
    "intermediate.int_appointment_kpi_events",
    "intermediate.int_invoice_kpi_events",
    "intermediate.int_room_kpi_events",
)
SELECTION = [f"+{mart}" for mart in MARTS]
#: every mart's recorded cutoffs after a whole rebuild
WHOLE = {mart: {"week": None, "month": None} for mart in MARTS}


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _cutoffs(warehouse: Path, mart: str) -> dict[str, date | None]:
    """The recompute-from cutoff per grain of the mart's newest build (None: rebuilt whole),
    checked to be the build dbt_state.model_builds holds as the newest."""
    rows = _query(
        warehouse,
        "select grain, recompute_from from dbt_state.kpi_rollup_builds as rollup"
        " where model_name = ? and invocation_id = ("
        "   select max_by(invocation_id, build_seq) from dbt_state.model_builds"
        "   where model_name = ?)",
        [mart, mart],
    )
    assert len(rows) == 2, f"{mart}: no cutoffs recorded for its newest build"
    return dict(rows)


def _equals_full_refresh(
    work: Path, warehouse: Path, marts: tuple[str, ...] = MARTS, dbt_args: tuple[str, ...] = ()
) -> dict[str, int]:
    """Rows differing per mart between `warehouse` and a --full-refresh of `marts` over a
    copy of it (the same inputs), with `dbt_args` (e.g. `--vars`) added to the run."""
    full_dir = work / "refreshed"
    shutil.rmtree(full_dir, ignore_errors=True)
    full_dir.mkdir()
    full = full_dir / "warehouse.duckdb"
    shutil.copy(warehouse, full)
    dbt(["run", "--full-refresh", "--select", *marts, *dbt_args], full, full_dir)
    return {mart: _differences(warehouse, full, mart) for mart in marts}


def _first_period(warehouse: Path, mart: str, grain: str) -> date:
    return _query(
        warehouse, f"select min(period_start) from marts.{mart} where grain = ?", [grain]
    )[0][0]


def _night(work: Path, warehouse: Path, delta: Chain) -> dict[str, dict[str, date | None]]:
    """Load `delta`, build incrementally, check every mart against a full refresh; the cutoffs
    each mart used."""
    write_chain(warehouse, delta)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    assert _equals_full_refresh(work, warehouse) == dict.fromkeys(MARTS, 0)
    return {mart: _cutoffs(warehouse, mart) for mart in MARTS}


def _next_day(chain: Chain, **kwargs) -> Chain:
    """apply_delta's night without its two old corrections (a first visit turned no-show, a
    month-old invoice refunded): yesterday's bookings completed or no-show, with their
    invoices, and nothing else."""
    delta = apply_delta(chain, **kwargs)
    old = chain.as_of - timedelta(days=7)
    delta.tables[("pms", "appointments")] = [
        r for r in delta.tables[("pms", "appointments")] if r["scheduled_start"].date() >= old
    ]
    delta.tables[("pos", "invoices")] = [
        r for r in delta.tables[("pos", "invoices")] if r["status"] != "refunded"
    ]
    return delta


def _assert_not_whole(cutoffs: dict[str, dict[str, date | None]]) -> None:
    """Every mart took its incremental path (a cutoff recorded per grain)."""
    assert all(None not in by_grain.values() for by_grain in cutoffs.values()), cutoffs


def _assert_incremental(warehouse: Path, cutoffs: dict[str, dict[str, date | None]]) -> None:
    """Every mart took its incremental path: a cutoff per grain, later than its first period
    (so not everything was recomputed)."""
    for mart, by_grain in cutoffs.items():
        for grain, cutoff in by_grain.items():
            assert cutoff is not None, f"{mart} rebuilt whole"
            assert cutoff > _first_period(warehouse, mart, grain), (
                f"{mart}: {grain} recomputed whole"
            )


def test_rollup_marts_equal_full_refresh_night_after_night(
    tmp_path: Path, base_chain: Chain
) -> None:
    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    # the first build has no state to go by: rebuilt whole, cutoffs recorded as null
    assert {mart: _cutoffs(warehouse, mart) for mart in MARTS} == WHOLE
    chains: list[Chain] = [base_chain]

    # (a) the next day (as-of Thursday 2025-11-20 -> Friday 2025-11-21): only the current
    # periods are recomputed (the events touched are of 2025-11-20, the week of 2025-11-17 is
    # not final), except the weeks whose reschedule captures are still open: a request of the
    # week of 2025-11-03 (ending 11-10) stays open 14 days, to 11-24, after the as-of
    chains.append(_next_day(base_chain))
    cutoffs = _night(work, warehouse, chains[-1])
    _assert_incremental(warehouse, cutoffs)
    assert {mart: c["week"] for mart, c in cutoffs.items()} == dict(
        dict.fromkeys(MARTS, date(2025, 11, 17)), kpi_appointment_engagement=date(2025, 11, 3)
    )
    assert {mart: c["month"] for mart, c in cutoffs.items()} == dict.fromkeys(
        MARTS, date(2025, 11, 1)
    )

    # (b) a late extract correcting old events (the chain's first completed visit, of
    # 2025-01-06 at L1, turned no-show; a voided invoice and a re-priced line of the same
    # week): each mart recomputes from the corrected events' period, on its incremental path
    # (the touched records name those days, so the cutoff is not just the as-of's)
    chains.append(late_delta(base_chain))
    cutoffs = _night(work, warehouse, chains[-1])
    _assert_not_whole(cutoffs)
    for mart in MARTS:
        assert cutoffs[mart] == {"week": date(2025, 1, 6), "month": date(2025, 1, 1)}, mart

    # (c) eleven nights in one extract, stamped Monday 2025-12-01 12:00 UTC (past midnight in
    # every location): the week of 2025-11-24 and November end, their rows become final, and
    # the week and month of 2025-12-01 start
    assert _query(
        warehouse,
        "select count(*) from marts.kpi_by_patient_type where period_start = date '2025-12-01'",
    ) == [(0,)]
    chains.append(_next_day(base_chain, seed=12, days=11, at=time(12, 0)))
    cutoffs = _night(work, warehouse, chains[-1])
    _assert_incremental(warehouse, cutoffs)
    for mart in MARTS:
        if mart == "kpi_appointment_engagement":
            continue  # its reschedule captures stay open 14 days after their period
        started = _query(
            warehouse,
            f"select grain, bool_and(is_final) from marts.{mart}"
            " where (grain = 'week' and period_start = date '2025-11-24')"
            " or (grain = 'month' and period_start = date '2025-11-01') group by grain",
        )
        assert dict(started) == {"week": True, "month": True}, mart
    for mart in MARTS:
        if mart == "kpi_by_line_type":
            continue  # no invoice is issued yet on 2025-12-01: the period has no event
        assert _query(
            warehouse,
            f"select count(distinct grain) from marts.{mart}"
            " where period_start = date '2025-12-01'",
        ) == [(2,)], mart

    # (d) a location's time zone corrected: every event of it moves a day, both sides recorded,
    # so the marts recompute from its first event, on their incremental path
    chains.append(timezone_delta(base_chain))
    cutoffs = _night(work, warehouse, chains[-1])
    _assert_not_whole(cutoffs)

    # the event models after the four nights equal a build from scratch over the same extracts
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    scratch = write_chain(scratch_dir / "warehouse.duckdb", *chains)
    dbt(["seed"], scratch, scratch_dir)
    dbt(["run", "--select", *SELECTION], scratch, scratch_dir)
    relations = (*EVENTS, *MARTS)
    assert {r: _differences(warehouse, scratch, r) for r in relations} == dict.fromkeys(
        relations, 0
    )

    # the marts alone: their inputs were not built in this invocation, so no touched record
    # is complete for them and they rebuild whole (and still equal a full refresh)
    dbt(["run", "--select", *MARTS], warehouse, work)
    assert {mart: _cutoffs(warehouse, mart) for mart in MARTS} == WHOLE
    assert _equals_full_refresh(work, warehouse) == dict.fromkeys(MARTS, 0)
