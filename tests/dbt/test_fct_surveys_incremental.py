"""fct_surveys is incremental on the load id: a nightly recomputes the surveys of newer loads
and the surveys whose appointment or patient arrived in one (they locate the survey), and
every survey when a location did (its time zone dates the responses). Both paths equal a
full refresh over the same extracts.

Night 1 on the seeded two-location chain: a late answer, a new survey, a surveyed visit moved
to the other location, a patient's home location corrected (their survey names no visit).
Night 2: location L2's time zone corrected (every L2 response re-dated).
"""

from __future__ import annotations

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, _ts
from dbt_core_deltas import timezone_delta
from test_dbt_core_incremental import _compiled_sql, _differences

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SELECTION = ["+fct_surveys"]


def _survey(
    survey_id: str, patient_id: str, appointment: dict | None, score: int | None, sent: datetime
) -> dict:
    """One raw survey row (answered two days after it was sent when it has a score)."""
    answered = sent + timedelta(days=2) if score is not None else None
    return dict(
        survey_id=survey_id,
        patient_id=patient_id,
        appointment_id=appointment["appointment_id"] if appointment else None,
        sent_at=sent,
        responded_at=answered,
        nps_score=score,
        updated_at=answered or sent,
    )


def _with_surveys(chain: Chain) -> tuple[Chain, list[dict]]:
    """The base chain plus a survey after each of 40 completed visits (scores 0-10, every
    fifth unanswered) and one survey of a patient that names no visit."""
    completed = [r for r in chain.tables[("pms", "appointments")] if r["status"] == "completed"][
        :40
    ]
    for n, visit in enumerate(completed):
        score = None if n % 5 == 4 else n % 11
        sent = visit["scheduled_end"] + timedelta(hours=3)
        survey = _survey(f"SV{n:03d}", visit["patient_id"], visit, score, sent)
        chain.add("reviews", "surveys", survey)
    patient = chain.tables[("pms", "patients")][0]
    sent = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=20)
    chain.add("reviews", "surveys", _survey("SV900", patient["patient_id"], None, 8, sent))
    return chain, completed


def _night1(chain: Chain, surveyed: list[dict]) -> Chain:
    """A late answer, a new survey, a surveyed visit moved to the other location and the
    home location of the patient of the visitless survey corrected (old updated_at)."""
    delta = Chain(as_of=chain.as_of)
    stamp = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=10)
    unanswered = surveyed[4]
    sent = unanswered["scheduled_end"] + timedelta(hours=3)
    answer = _survey("SV004", unanswered["patient_id"], unanswered, 10, sent)
    delta.add("reviews", "surveys", answer)
    newest = surveyed[-1]
    delta.add("reviews", "surveys", _survey("SV999", newest["patient_id"], newest, 2, stamp))
    moved = surveyed[7]
    other = "L2" if moved["location_id"] == "L1" else "L1"
    delta.add("pms", "appointments", dict(moved, location_id=other, updated_at=stamp))
    patient = chain.tables[("pms", "patients")][0]
    home = "L2" if patient["home_location_id"] == "L1" else "L1"
    delta.add("pms", "patients", dict(patient, home_location_id=home, updated_at=stamp))
    return delta


def _scalar(warehouse: Path, sql: str) -> object:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _written(warehouse: Path) -> int:
    """Surveys fct_surveys' last incremental build wrote (macros/test_scope.sql)."""
    return _scalar(
        warehouse,
        "select count(*) from dbt_state.written_keys"
        " where model_name = 'fct_surveys' and written_key is not null",
    )


def _location(warehouse: Path, survey_id: str) -> str:
    return _scalar(
        warehouse, f"select location_id from marts.fct_surveys where survey_id = '{survey_id}'"
    )


def test_surveys_incremental_equal_full_refresh(tmp_path: Path, base_chain: Chain) -> None:
    inc_dir, full_dir = tmp_path / "inc", tmp_path / "full"
    inc_dir.mkdir()
    full_dir.mkdir()
    base, surveyed = _with_surveys(Chain(as_of=base_chain.as_of, tables=dict(base_chain.tables)))
    night1 = _night1(base, surveyed)
    night2 = timezone_delta(base)

    incremental = write_chain(inc_dir / "warehouse.duckdb", base)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    before = inc_dir / "before.duckdb"
    shutil.copy(incremental, before)

    write_chain(incremental, night1)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    # the narrow path: the two surveys of the newer load, the moved visit's and every survey
    # of the patient whose home location changed (a newer load)
    assert "changed_appointments" in _compiled_sql(inc_dir, "fct_surveys")
    corrected = base.tables[("pms", "patients")][0]["patient_id"]
    of_corrected = {
        r["survey_id"] for r in base.tables[("reviews", "surveys")] if r["patient_id"] == corrected
    }
    assert _written(incremental) == len({"SV004", "SV999", "SV007"} | of_corrected)
    assert _location(incremental, "SV007") != _location(before, "SV007")
    assert _location(incremental, "SV900") != _location(before, "SV900")

    write_chain(incremental, night2)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    # a location of a newer load: every survey is recomputed
    assert _written(incremental) == _scalar(incremental, "select count(*) from marts.fct_surveys")

    full = write_chain(full_dir / "warehouse.duckdb", base, night1, night2)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full_dir)
    assert _differences(before, incremental, "fct_surveys") > 0
    assert _differences(incremental, full, "fct_surveys") == 0
