"""int_provider_kpi_events (and fct_provider_shifts under it) built incrementally equal a full
refresh after nights that reach a provider-day through a shift, an appointment or a provider.

The dbt core chain (dbt_core_chain.py): providers L1_P0 and L1_P1 (revenue-generating) work an
09:00-17:00 shift every day but Sunday at L1, likewise L2_P0 and L2_P1 at L2. Deltas:
- a shift moved: L1_P0's shift of a past Monday is re-filed as L2_P0's shift the Tuesday
  after, at L2 (both its old provider-day and its new one change; the old one keeps only
  its appointments);
- a provider corrected: L1_P1 turns out not to generate revenue (every one of its days must
  go, although none of its shifts or appointments changed), and a completed appointment of
  L2_P0 was really L2_P1's (its row changes provider: both providers' days change, and the
  touched record of fct_appointments names only the appointment's date);
- an ordinary night (apply_delta): new bookings and completions.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, apply_delta
from dbt_core_deltas import _late_stamp
from test_dbt_core_incremental import (
    COMPARED,
    SELECTION,
    _compiled_sql,
    _differences,
    _incremental_and_full,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

PROVIDER_EVENTS = "intermediate.int_provider_kpi_events"


def shift_move_delta(chain: Chain) -> tuple[Chain, dict]:
    """L1_P0's shift of 2025-10-06 re-filed as L2_P0's on 2025-10-07 at L2 (late stamp)."""
    shift = next(
        r
        for r in chain.tables[("pms", "provider_shifts")]
        if r["provider_id"] == "L1_P0" and r["shift_start"].date() == date(2025, 10, 6)
    )
    moved = next(
        r
        for r in chain.tables[("pms", "provider_shifts")]
        if r["provider_id"] == "L2_P0" and r["shift_start"].date() == date(2025, 10, 7)
    )
    delta = Chain(as_of=chain.as_of)
    row = dict(
        shift,
        provider_id="L2_P0",
        location_id="L2",
        shift_start=moved["shift_start"],
        shift_end=moved["shift_end"],
        updated_at=_late_stamp(chain),
    )
    delta.add("pms", "provider_shifts", row)
    return delta, row


def provider_delta(chain: Chain) -> tuple[Chain, str]:
    """L1_P1 is not revenue-generating; one completed appointment of L2_P0 moves to L2_P1."""
    delta = Chain(as_of=chain.as_of)
    provider = next(r for r in chain.tables[("pms", "providers")] if r["provider_id"] == "L1_P1")
    delta.add(
        "pms",
        "providers",
        dict(provider, is_revenue_generating=False, updated_at=_late_stamp(chain)),
    )
    visit = next(
        r
        for r in chain.tables[("pms", "appointments")]
        if r["provider_id"] == "L2_P0" and r["status"] == "completed"
    )
    delta.add(
        "pms",
        "appointments",
        dict(visit, provider_id="L2_P1", updated_at=_late_stamp(chain)),
    )
    return delta, visit["appointment_id"]


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _written_provider_days(warehouse: Path) -> int:
    """Provider-days the last incremental build of the events wrote (macros/test_scope.sql)."""
    return _rows(
        warehouse,
        "select count(*) from dbt_state.written_keys"
        " where model_name = 'int_provider_kpi_events' and written_key is not null",
    )[0][0]


def _provider_days(warehouse: Path) -> int:
    return _rows(warehouse, f"select count(*) from {PROVIDER_EVENTS}")[0][0]


def _compared_equal(incremental: Path, full: Path) -> None:
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_shift_moved_to_another_provider_and_location(tmp_path: Path, base_chain: Chain) -> None:
    delta, _row = shift_move_delta(base_chain)
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta)
    # L1_P0 lost its 8 shift hours on 10-06; L2_P0 has 16 on 10-07
    denominator = (
        f"select denominator from {PROVIDER_EVENTS}"
        " where provider_id = '{}' and event_date = '{}'"
    )
    assert _rows(before, denominator.format("L1_P0", "2025-10-06")) == [(8.0,)]
    assert _rows(incremental, denominator.format("L1_P0", "2025-10-06")) in ([], [(0.0,)])
    assert _rows(incremental, denominator.format("L2_P0", "2025-10-07")) == [(16.0,)]
    # only those two provider-days (and the dates the night's appointments touched) were written
    assert 0 < _written_provider_days(incremental) < _provider_days(incremental) / 4
    touched = set(
        _rows(
            incremental,
            "select location_id, cast(event_date as varchar)"
            " from dbt_state.int_provider_kpi_events__touched where not is_marker",
        )
    )
    assert {("L1", "2025-10-06"), ("L2", "2025-10-07")} <= touched
    _compared_equal(incremental, full)


def test_provider_corrected_and_visit_moved_to_another_provider(
    tmp_path: Path, base_chain: Chain
) -> None:
    delta, _appointment = provider_delta(base_chain)
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta)
    count = f"select count(*) from {PROVIDER_EVENTS} where provider_id = 'L1_P1'"
    assert _rows(before, count)[0][0] > 0
    assert _rows(incremental, count) == [(0,)]
    assert _differences(before, incremental, PROVIDER_EVENTS) > 0
    _compared_equal(incremental, full)


def test_ordinary_nights_after_a_shift_move(tmp_path: Path, base_chain: Chain) -> None:
    """A shift moved, then an ordinary night on top: still equal, still narrow."""
    delta, _row = shift_move_delta(base_chain)
    night = apply_delta(base_chain)
    _before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta, night)
    assert 0 < _written_provider_days(incremental) < _provider_days(incremental) / 4
    _compared_equal(incremental, full)


def test_lost_records_rebuild_whole(tmp_path: Path, base_chain: Chain) -> None:
    """Without the recorded inputs (dbt_state.int_provider_kpi_events__inputs) and without
    fct_provider_shifts' watermark, the next night rebuilds both models whole and still equals
    a full refresh (a table built before these models were incremental has neither)."""
    built: dict[str, Path] = {}
    delta, _row = shift_move_delta(base_chain)
    for name in ("incremental", "full"):
        work = tmp_path / name
        work.mkdir()
        built[name] = write_chain(work / "warehouse.duckdb", base_chain)
        dbt(["seed"], built[name], work)
    incremental, full = built["incremental"], built["full"]
    dbt(["run", "--select", *SELECTION], incremental, incremental.parent)
    con = duckdb.connect(str(incremental))
    try:
        con.execute("drop table dbt_state.int_provider_kpi_events__inputs")
        con.execute(
            "delete from dbt_state.load_watermarks where model_name = 'fct_provider_shifts'"
        )
    finally:
        con.close()
    write_chain(incremental, delta)
    dbt(["run", "--select", *SELECTION], incremental, incremental.parent)
    assert "dirty_dates" not in _compiled_sql(incremental.parent, "int_provider_kpi_events")
    # every shift was a candidate again: no watermark
    assert _rows(
        incremental,
        "select count(*) from dbt_state.written_keys where model_name = 'fct_provider_shifts'"
        " and written_key is not null",
    ) == _rows(incremental, "select count(*) from marts.fct_provider_shifts")
    write_chain(full, delta)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full.parent)
    for relation in (PROVIDER_EVENTS, "fct_provider_shifts", "kpi_providers", "kpi_by_provider"):
        assert _differences(incremental, full, relation) == 0, relation
    # ... and the next night is narrow again (the records are back)
    night = apply_delta(base_chain)
    write_chain(incremental, night)
    dbt(["run", "--select", *SELECTION], incremental, incremental.parent)
    assert "dirty_dates" in _compiled_sql(incremental.parent, "int_provider_kpi_events")
