"""A raw layer as a load leaves it, with one intake form per patient id: what a test needs to
build `stg_pms__intake_forms` and compare its `patient_key`s with the expected pseudonyms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ingestion.raw_schema import ensure_meta_tables, ensure_raw_tables


def write_raw_intake_forms(warehouse: Path, patient_ids: Sequence[str | None]) -> None:
    """Every raw table (empty), and `raw_pms.intake_forms` with one form per id."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_tables(con)
        ensure_meta_tables(con)
        stamp = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
        for i, patient_id in enumerate(patient_ids):
            con.execute(
                "insert into raw_pms.intake_forms by name select ? as form_id, ? as patient_id, "
                "'A1' as appointment_id, 'consent' as form_type, ? as sent_at, ? as updated_at",
                [f"F{i}", patient_id, stamp, stamp],
            )
    finally:
        con.close()


def read_intake_pseudonyms(warehouse: Path) -> list[tuple[str | None, str | None]]:
    """(raw patient id, `stg_pms__intake_forms.patient_key`) per form, in form order."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select r.patient_id, s.patient_key from raw_pms.intake_forms r "
            "join staging.stg_pms__intake_forms s using (form_id) order by form_id"
        ).fetchall()
    finally:
        con.close()
