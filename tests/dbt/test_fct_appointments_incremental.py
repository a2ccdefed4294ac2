"""fct_appointments after nightly deltas equals a full refresh, and the nightly took the narrow
path: the revenue of only the appointments whose invoice lines fct_invoice_lines rewrote in the
same run (its touched record, macros/touched.sql), not a fresh sum compared for every built
appointment. Each delta reaches an appointment through another row: an invoice voided, a line
re-priced, an invoice moved to another visit, a line moved to another invoice, a location's
time zone corrected (a dimension: every appointment is recomputed).
"""

from __future__ import annotations

import shutil
from datetime import time, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, _ts, late_delta, relink_delta
from dbt_core_deltas import timezone_delta
from test_dbt_core_incremental import _compiled_sql, _differences

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SELECTION = ["+fct_appointments", "+int_invoice_kpi_events"]
COMPARED = ("fct_appointments", "fct_invoice_lines", "intermediate.int_invoice_kpi_events")
HASHED = (("fct_appointments", "appointment_id"), ("fct_invoice_lines", "invoice_line_id"))


def line_move_delta(chain: Chain) -> tuple[Chain, str, str]:
    """(delta, from_appointment, to_appointment): a late correction files a paid invoice's line
    under another paid invoice of another appointment. Neither invoice row nor appointment row
    changes; only the line names its new invoice, so only fct_invoice_lines' record of the
    line's old side says which appointment lost the revenue."""
    invoices = {r["invoice_id"]: r for r in chain.tables[("pos", "invoices")]}
    paid = [r for r in invoices.values() if r["status"] == "paid" and r["appointment_id"]]
    line = next(
        r
        for r in chain.tables[("pos", "invoice_lines")]
        if r["invoice_id"] == paid[5]["invoice_id"] and r["net_amount"]
    )
    target = next(r for r in paid[6:] if r["appointment_id"] != paid[5]["appointment_id"])
    stamp = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=9)
    delta = Chain(as_of=chain.as_of)
    delta.add("pos", "invoice_lines", dict(line, invoice_id=target["invoice_id"], updated_at=stamp))
    return delta, paid[5]["appointment_id"], target["appointment_id"]


def _revenue(warehouse: Path, appointment_id: str) -> float:
    """One appointment's built net revenue (appointment ids are not PHI)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select net_revenue from marts.fct_appointments where appointment_id = ?",
            [appointment_id],
        ).fetchone()[0]
    finally:
        con.close()


def _row_hash_mismatches(warehouse: Path, model: str, key: str) -> int:
    """Built rows of `model` whose recorded row hash (dbt_state.<model>__row_hashes,
    macros/row_hashes.sql) is missing or differs from a fresh hash of the row, plus recorded
    keys without a built row: 0 when the record is in step with the table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [model],
            ).fetchall()
            if name != key
        ]
        hashed = ", ".join(f"built.{name}" for name in columns)
        return con.execute(
            f"select count(*) from marts.{model} as built"
            f" full outer join dbt_state.{model}__row_hashes as recorded"
            f" on built.{key} = recorded.{key}"
            f" where built.{key} is null or recorded.row_hash is distinct from hash({hashed})"
        ).fetchone()[0]
    finally:
        con.close()


def _full(work: Path, *chains: Chain) -> Path:
    """The same extracts built from scratch."""
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", *chains)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--full-refresh", "--select", *SELECTION], warehouse, work)
    return warehouse


def test_nightly_deltas_equal_full_refresh_through_the_narrow_path(
    tmp_path: Path, base_chain: Chain
) -> None:
    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)

    moved, moved_from, moved_to = line_move_delta(base_chain)
    deltas = [late_delta(base_chain), relink_delta(base_chain), moved]
    before = work / "before.duckdb"
    for delta in deltas:
        shutil.copy(warehouse, before)
        write_chain(warehouse, delta)
        dbt(["run", "--select", *SELECTION], warehouse, work)
        sql = _compiled_sql(work, "fct_appointments")
        # the narrow path: revenue of the appointments fct_invoice_lines' build rewrote ...
        assert "fct_invoice_lines__touched" in sql
        # ... and no comparison of every built appointment's revenue
        assert "revenue_moved" not in sql
        # fct_invoice_lines computed only the lines of newer loads and of their invoices
        assert "scoped_invoices" in _compiled_sql(work, "fct_invoice_lines")
        assert "line_rows._dlt_load_id" in _compiled_sql(work, "fct_invoice_lines")
        # both compared their candidates with the recorded row hashes, not the built rows,
        # and left the records in step with their tables
        for model, key in HASHED:
            assert f"{model}__row_hashes" in _compiled_sql(work, model)
            assert _row_hash_mismatches(warehouse, model, key) == 0
        # the delta changed appointments without touching their own rows
        assert _differences(before, warehouse, "fct_appointments") > 0

    # the moved line's revenue left one appointment for the other
    lost = _revenue(before, moved_from) - _revenue(warehouse, moved_from)
    gained = _revenue(warehouse, moved_to) - _revenue(before, moved_to)
    assert lost > 0
    assert gained == lost

    full = _full(tmp_path / "full", base_chain, *deltas)
    assert {r: _differences(warehouse, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)

    # a dimension of a newer load: every appointment is recomputed, still exactly
    shutil.copy(warehouse, before)
    zone = timezone_delta(base_chain)
    write_chain(warehouse, zone)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    assert _differences(before, warehouse, "fct_appointments") > 0
    full = _full(tmp_path / "full_zone", base_chain, *deltas, zone)
    assert {r: _differences(warehouse, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_first_build_after_a_definition_change_compares_every_appointment(
    tmp_path: Path, base_chain: Chain
) -> None:
    """Without fct_invoice_lines' build in the same invocation (only fct_appointments
    selected), the record is not complete for it: the run compares every built appointment's
    revenue (the fallback) and still equals a full refresh."""
    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    delta = relink_delta(base_chain)
    write_chain(warehouse, delta)
    dbt(["run", "--select", "stg_pos__invoices", "fct_appointments"], warehouse, work)
    assert "revenue_moved" in _compiled_sql(work, "fct_appointments")
    full = _full(tmp_path / "full", base_chain, delta)
    assert _differences(warehouse, full, "fct_appointments") == 0


def test_a_stale_row_hash_record_is_not_trusted_and_is_rebuilt(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A record whose marker does not name the fact's latest build (here: the marker gone, as
    after a build by code that keeps no record, and one recorded hash wrong) is not read: the
    run compares the built rows themselves, rehashes the whole table, and equals a full
    refresh; the night after trusts the new record again."""
    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "delete from dbt_state.load_watermarks where model_name = 'fct_appointments:row_hashes'"
        )
        con.execute(
            "update dbt_state.fct_appointments__row_hashes set row_hash = row_hash + 1"
            " where appointment_id = (select min(appointment_id) from marts.fct_appointments)"
        )
    finally:
        con.close()
    delta = relink_delta(base_chain)
    write_chain(warehouse, delta)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    assert "fct_appointments__row_hashes" not in _compiled_sql(work, "fct_appointments")
    assert "fct_invoice_lines__row_hashes" in _compiled_sql(work, "fct_invoice_lines")
    assert _row_hash_mismatches(warehouse, "fct_appointments", "appointment_id") == 0
    full = _full(tmp_path / "full", base_chain, delta)
    assert {r: _differences(warehouse, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)

    late = late_delta(base_chain)
    write_chain(warehouse, late)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    assert "fct_appointments__row_hashes" in _compiled_sql(work, "fct_appointments")
    assert _row_hash_mismatches(warehouse, "fct_appointments", "appointment_id") == 0
    full = _full(tmp_path / "full_late", base_chain, delta, late)
    assert {r: _differences(warehouse, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)
