"""An incremental build after a nightly delta gives exactly the marts a full refresh gives.

The raw rows carry load ids as the loader writes them, so the incremental runs take the
watermark path (only rows whose inputs changed since the last build are computed,
macros/loads.sql); every test also checks the watermark was used.
"""

from __future__ import annotations

import shutil
from datetime import time
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, apply_delta, late_delta, orphan_line_deltas, relink_delta
from dbt_core_deltas import (
    converting_visit,
    intake_move_delta,
    patient_move_delta,
    timezone_delta,
    unlink_delta,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

EVENTS = "intermediate.int_appointment_kpi_events"
COMPARED = (
    EVENTS,
    "intermediate.int_patient_visits",
    "intermediate.int_invoice_attribution",
    "intermediate.int_invoice_kpi_events",
    "intermediate.int_room_kpi_events",
    "intermediate.int_location_days",
    "intermediate.int_provider_kpi_events",
    "fct_appointments",
    "fct_provider_shifts",
    "fct_invoice_lines",
    "kpi_financial",
    "kpi_rooms",
    "kpi_providers",
    "kpi_operations",
    "kpi_cohorts",
    "kpi_by_cohort_provider",
    "kpi_appointment_engagement",
    "kpi_by_patient_type",
    "kpi_by_provider",
)
SELECTION = [
    "+kpi_financial",
    "+kpi_rooms",
    "+kpi_providers",
    "+kpi_operations",
    "+kpi_cohorts",
    "+kpi_by_cohort_provider",
    "+kpi_appointment_engagement",
    "+kpi_by_patient_type",
    "+kpi_by_provider",
]


def _differences(left: Path, right: Path, relation: str) -> int:
    """Rows in one and not the other, both ways; `relation` is a mart or `schema.table`."""
    relation = relation if "." in relation else f"marts.{relation}"
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        query = (
            f"select count(*) from ((select * from l.{relation} except all "
            f"select * from r.{relation}) union all (select * from r.{relation} "
            f"except all select * from l.{relation}))"
        )
        return con.execute(query).fetchone()[0]
    finally:
        con.close()


def _watermarks(warehouse: Path) -> dict[str, str | None]:
    """The load id each incremental fact was last built through (macros/loads.sql)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select model_name, load_id from dbt_state.load_watermarks").fetchall()
    finally:
        con.close()
    return dict(rows)


def _newest_load(warehouse: Path) -> str:
    """The newest load id among the raw tables the deltas write (fct_invoice_lines reads them
    all: invoices and their lines, appointments, locations)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select max(load_id) from (select max(_dlt_load_id) as load_id from raw_pos.invoices"
            " union all select max(_dlt_load_id) from raw_pos.invoice_lines"
            " union all select max(_dlt_load_id) from raw_pms.appointments"
            " union all select max(_dlt_load_id) from raw_pms.locations)"
        ).fetchone()[0]
    finally:
        con.close()


def _incremental_and_full(
    tmp_path: Path, base_chain: Chain, *deltas: Chain
) -> tuple[Path, Path, Path]:
    """(before, incremental, full): the base built, then each delta built incrementally on top
    in turn (before = the state ahead of the last one), and base + deltas built from scratch."""
    incremental_dir, full_dir = tmp_path / "incremental", tmp_path / "full"
    incremental_dir.mkdir()
    full_dir.mkdir()
    incremental = write_chain(incremental_dir / "warehouse.duckdb", base_chain)
    dbt(["seed"], incremental, incremental_dir)  # `dbt run` loads no seeds; the marts read them
    dbt(["run", "--select", *SELECTION], incremental, incremental_dir)
    before = incremental_dir / "before.duckdb"
    for delta in deltas:
        shutil.copy(incremental, before)
        # the last build recorded its watermark: the next run computes only what changed after it
        assert _watermarks(before)["fct_invoice_lines"] == _newest_load(before)
        write_chain(incremental, delta)
        dbt(["run", "--select", *SELECTION], incremental, incremental_dir)
        assert _watermarks(incremental)["fct_invoice_lines"] == _newest_load(incremental)
        # the events took their incremental path (inputs compared with the last build's) and
        # hashed fct_appointments' recorded row hashes, not its rows (macros/row_hashes.sql)
        assert "changed_inputs" in _compiled_sql(incremental_dir, "int_appointment_kpi_events")
        assert "fct_appointments__row_hashes" in _compiled_sql(incremental_dir, "fct_appointments")
        assert '"fct_appointments__row_hashes" as scoped_rows' in _last_run_log(incremental_dir)
        # ... and so did the intermediates that recompute only the entities a load touched
        assert "dirty_patients" in _compiled_sql(incremental_dir, "int_patient_visits")
        assert "changed_invoices" in _compiled_sql(incremental_dir, "int_invoice_attribution")
        assert "fct_invoice_lines__touched" in _compiled_sql(
            incremental_dir, "int_invoice_kpi_events"
        )
        # ... and the room events recomputed only the room-days fct_appointments rewrote or
        # whose hours changed
        assert "fct_appointments__touched" in _compiled_sql(incremental_dir, "int_room_kpi_events")
        # ... and so did the provider events (the provider-days of rewritten shifts and dates)
        provider_events = _compiled_sql(incremental_dir, "int_provider_kpi_events")
        assert "fct_provider_shifts__touched" in provider_events
        assert "fct_appointments__touched" in provider_events

    full = write_chain(full_dir / "warehouse.duckdb", base_chain, *deltas)
    dbt(["seed"], full, full_dir)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full_dir)
    return before, incremental, full


def _took_narrow_path(work: Path) -> bool:
    """Did the last incremental run hash only the appointments the facts' builds rewrote
    (macros/kpi_event_inputs.sql) rather than every appointment?"""
    return "__inputs_scope" in _compiled_sql(work / "incremental", "int_appointment_kpi_events")


def _last_run_log(work: Path) -> str:
    """The statements of the last dbt invocation in `work` (its log file keeps every run's)."""
    text = (work / "logs" / "dbt.log").read_text()
    return text[text.rindex("Running with dbt") :]


def _compiled_sql(work: Path, model: str) -> str:
    """The select dbt last compiled for `model` (target/compiled)."""
    return next((work / "target" / "compiled").rglob(f"{model}.sql")).read_text()


def _event_numerator(warehouse: Path, appointment_id: str, kpi: str) -> float | None:
    """One appointment's event numerator for `kpi` (appointment ids are not PHI)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            f"select numerator from {EVENTS} where appointment_id = ? and kpi = ?",
            [appointment_id, kpi],
        ).fetchone()
    finally:
        con.close()
    return None if row is None else row[0]


def test_incremental_after_delta_equals_full_refresh(tmp_path: Path, base_chain: Chain) -> None:
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, apply_delta(base_chain))
    # the delta really changed the facts (a refund, new visits, a corrected first visit) ...
    assert _differences(before, incremental, "fct_appointments") > 0
    assert _differences(before, incremental, "fct_invoice_lines") > 0
    # ... the room events rewrote a few room-days, not all of them ...
    assert 0 < _written_room_days(incremental) < _room_days(incremental) / 4
    # ... and the incremental result is identical to the full refresh
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def _written_room_days(warehouse: Path) -> int:
    """Room-days int_room_kpi_events' last incremental build wrote (macros/test_scope.sql)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select count(*) from dbt_state.written_keys"
            " where model_name = 'int_room_kpi_events' and written_key is not null"
        ).fetchone()[0]
    finally:
        con.close()


def _room_days(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select count(*) from (select distinct room_id, event_date"
            " from intermediate.int_room_kpi_events)"
        ).fetchone()[0]
    finally:
        con.close()


def test_late_extract_with_old_timestamps_equals_full_refresh(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A delta whose rows are 10 days older than the newest loaded: found by change detection
    against the built facts, not missed by a timestamp window."""
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, late_delta(base_chain))
    # the late rows changed the facts: one visit lost, one invoice voided, one line re-priced
    assert _differences(before, incremental, "fct_appointments") > 0
    assert _differences(before, incremental, "fct_invoice_lines") >= 2
    # ... and reached the month-old KPI rows
    assert _differences(before, incremental, "kpi_financial") > 0
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_late_relinked_invoice_reaches_the_marts_incrementally(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A month-old invoice moved to another visit by a late extract (old updated_at): the visit
    it left changes although none of its own rows did. The watermark path still finds it (its
    built revenue no longer matches) and the provider KPIs of that month follow."""
    delta = relink_delta(base_chain)
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta)
    # both visits changed: the one that lost the invoice and the one that gained it
    assert _differences(before, incremental, "fct_appointments") == 4  # 2 old rows + 2 new
    assert _differences(before, incremental, "kpi_by_provider") > 0
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_location_time_zone_change_equals_full_refresh(tmp_path: Path, base_chain: Chain) -> None:
    """A location's time zone changes and nothing else: every one of its appointments' events
    is re-dated (the events' inputs include the zone), exactly as a full refresh dates them."""
    before, incremental, full = _incremental_and_full(
        tmp_path, base_chain, timezone_delta(base_chain)
    )
    assert _differences(before, incremental, EVENTS) > 0
    # a location of a newer load: every appointment's inputs are compared, not only the rewritten
    assert not _took_narrow_path(tmp_path)
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_visit_moved_to_another_patient_unconverts_the_consultation(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A late correction moves the visit that converted a consultation to another patient:
    the consultation's own row is unchanged, yet its conversion event goes from 1 to 0 (the
    patient it moved away from is recomputed too)."""
    consult, _visit = converting_visit(base_chain)
    cid = consult["appointment_id"]
    before, incremental, full = _incremental_and_full(
        tmp_path, base_chain, patient_move_delta(base_chain)
    )
    assert _event_numerator(before, cid, "consult_conversion_rate") == 1
    assert _event_numerator(incremental, cid, "consult_conversion_rate") == 0
    assert _took_narrow_path(tmp_path)
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_removed_reschedule_link_equals_full_refresh(tmp_path: Path, base_chain: Chain) -> None:
    """A visit names another patient's (uncaptured) reschedule request as rescheduled-from,
    capturing it, and a later correction removes the link again: the request, linked only
    through the visit's old row, is recomputed and is no longer captured."""
    moved = patient_move_delta(base_chain)
    request_id = moved.tables[("pms", "appointments")][0]["rescheduled_from_appointment_id"]
    before, incremental, full = _incremental_and_full(
        tmp_path, base_chain, moved, unlink_delta(base_chain, moved)
    )
    assert _event_numerator(before, request_id, "reschedule_capture_rate") == 1
    assert _event_numerator(incremental, request_id, "reschedule_capture_rate") == 0
    assert _took_narrow_path(tmp_path)
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_delta_that_completes_a_week_equals_full_refresh(tmp_path: Path, base_chain: Chain) -> None:
    """Four nights in one extract, stamped Monday 12:00 UTC (past midnight in both locations):
    the week of 2025-11-17 ends, its rows become final, and the bookings of those days complete."""
    delta = apply_delta(base_chain, days=4, at=time(12, 0))
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta)
    assert _final_weeks(before, "2025-11-17") == 0
    assert _final_weeks(incremental, "2025-11-17") > 0
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def _final_weeks(warehouse: Path, week_start: str) -> int:
    """kpi_appointment_engagement rows of the week that are final."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select count(*) from marts.kpi_appointment_engagement"
            " where grain = 'week' and period_start = cast(? as date) and is_final",
            [week_start],
        ).fetchone()[0]
    finally:
        con.close()


def test_intake_forms_moved_to_another_appointment_equal_full_refresh(
    tmp_path: Path, base_chain: Chain
) -> None:
    """Both intake forms of an appointment are filed under another one by a late correction:
    neither appointment's row changes, and the appointment the forms left is found only through
    the forms' rows as they were before the load (recorded by the forms' build)."""
    delta, left, gained = intake_move_delta(base_chain)
    before, incremental, full = _incremental_and_full(tmp_path, base_chain, delta)
    assert _event_numerator(before, left, "intake_completion_rate") is not None
    assert _event_numerator(incremental, left, "intake_completion_rate") is None
    assert _event_numerator(before, gained, "intake_completion_rate") is None
    assert _event_numerator(incremental, gained, "intake_completion_rate") is not None
    assert _took_narrow_path(tmp_path)
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def _orphan_line(warehouse: Path) -> tuple | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select invoice_status, is_revenue, net_amount from marts.fct_invoice_lines "
            "where invoice_line_id = 'ORPHAN-1'"
        ).fetchone()
    finally:
        con.close()


def test_a_line_ahead_of_its_invoice_waits_and_counts_once_the_invoice_arrives(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A line exported the night before its invoice: its relationships test warns (it blocked
    the whole night before), the line counts for nothing while its invoice is missing, and the
    night the invoice arrives the incremental build makes it revenue, as a full refresh does.
    (The night with a line of no location rebuilds the revenue events whole: a touched record
    with a null partition is not complete, macros/touched.sql.)"""
    lines_first, invoice_later = orphan_line_deltas(base_chain)
    work, full_dir = tmp_path / "incremental", tmp_path / "full"
    work.mkdir()
    full_dir.mkdir()
    incremental = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["seed"], incremental, work)
    dbt(["run", "--select", *SELECTION], incremental, work)
    # night one: held, no revenue; its relationships test warns instead of failing the build
    write_chain(incremental, lines_first)
    dbt(["run", "--select", *SELECTION], incremental, work)
    assert _orphan_line(incremental)[:2] == (None, False)
    tested = dbt(["test", "--select", "stg_pos__invoice_lines,test_type:data"], incremental, work)
    assert "WARN 1 relationships_stg_pos__invoice_lines_invoice_id" in tested.stdout
    # night two: the invoice arrived, the line is revenue, exactly as a full refresh has it
    write_chain(incremental, invoice_later)
    dbt(["run", "--select", *SELECTION], incremental, work)
    assert _orphan_line(incremental)[:2] == ("paid", True)
    full = write_chain(full_dir / "warehouse.duckdb", base_chain, lines_first, invoice_later)
    dbt(["seed"], full, full_dir)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full_dir)
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)
