"""stg_reviews__surveys is incremental on the load id: a nightly merges only the surveys of
newer loads (a late answer to a month-old survey, a new survey) and equals a full refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain
from test_dbt_core_incremental import _compiled_sql

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SENT = datetime(2025, 10, 1, 15, 0, tzinfo=UTC)


def _survey(survey_id: str, patient: str, score: int | None, days: int) -> dict:
    """One raw survey row (fictitious ids; the patient id is pseudonymised by staging)."""
    answered = SENT + timedelta(days=days) if score is not None else None
    return dict(
        survey_id=survey_id,
        patient_id=patient,
        appointment_id=None,
        nps_score=score,
        sent_at=SENT,
        responded_at=answered,
        updated_at=answered or SENT,
    )


def test_late_answer_and_new_survey_equal_full_refresh(tmp_path: Path) -> None:
    base = Chain(as_of=SENT.date())
    for n in range(3):
        base.add("reviews", "surveys", _survey(f"SV{n}", f"P{n}", None, 0))
    delta = Chain(as_of=SENT.date())
    # a late answer (updated_at a month old) and a survey sent the same day
    delta.add("reviews", "surveys", _survey("SV1", "P1", 9, 2))
    delta.add("reviews", "surveys", _survey("SV9", "P9", 3, 1))

    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base)
    dbt(["run", "--select", "stg_reviews__surveys"], warehouse, work)
    write_chain(warehouse, delta)
    dbt(["run", "--select", "stg_reviews__surveys"], warehouse, work)
    # the nightly read only the rows of loads newer than its watermark
    assert "_dlt_load_id >" in _compiled_sql(work, "stg_reviews__surveys")

    full_dir = tmp_path / "full"
    full_dir.mkdir()
    full = write_chain(full_dir / "warehouse.duckdb", base, delta)
    dbt(["run", "--full-refresh", "--select", "stg_reviews__surveys"], full, full_dir)
    assert _differences_but_load_ids(warehouse, full) == 0
    assert _rows(warehouse) == 4


def _differences_but_load_ids(left: Path, right: Path) -> int:
    """Rows in one and not the other, both ways, load ids aside (each raw layer stamps its own)."""
    columns = "survey_id, patient_key, appointment_id, nps_score, sent_at, responded_at, updated_at"
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        relation = "staging.stg_reviews__surveys"
        return con.execute(
            f"select count(*) from ((select {columns} from l.{relation} except all "
            f"select {columns} from r.{relation}) union all (select {columns} from r.{relation} "
            f"except all select {columns} from l.{relation}))"
        ).fetchone()[0]
    finally:
        con.close()


def _rows(warehouse: Path) -> int:
    """How many surveys staging holds (the delta added one, updated one)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from staging.stg_reviews__surveys").fetchone()[0]
    finally:
        con.close()
