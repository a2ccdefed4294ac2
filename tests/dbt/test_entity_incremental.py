"""Entity-incremental models equal a full refresh after deltas that reach an entity
through another row: int_patient_cohorts and dim_patients (recompute the patients
int_patient_visits' build rewrote, from its touched record, and those of newer loads) and
int_contact_identities (recomputes the patients and leads of newer loads).

Two nights on the seeded two-location chain, each row stamped with a newer load id as the
loader writes it; then the same extracts built from scratch with --full-refresh:
1. the visit that converted a consultation moves to another patient (late, old updated_at);
   a patient's only completed visit is cancelled (the patient has no cohort any more); a
   patient's email is corrected away and its phone changed; another's acquisition channel is
   corrected; a new patient arrives;
2. the next ordinary night (visits complete, a first visit corrected to no_show).
"""

from __future__ import annotations

import shutil
from datetime import date, time, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, _ts, apply_delta
from dbt_core_deltas import patient_move_delta
from test_dbt_core_incremental import _compiled_sql, _differences

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

SELECTION = ["+kpi_cohorts", "+int_contact_identities", "+dim_patients"]
COMPARED = (
    "intermediate.int_patient_cohorts",
    "intermediate.int_contact_identities",
    "intermediate.int_patient_visits",
    "kpi_cohorts",
    "dim_patients",
)


def _only_visit_patient(chain: Chain) -> dict:
    """A completed appointment that is its patient's only completed one."""
    appointments = chain.tables[("pms", "appointments")]
    completed: dict[str, list[dict]] = {}
    for row in appointments:
        if row["status"] == "completed":
            completed.setdefault(row["patient_id"], []).append(row)
    return next(rows[0] for rows in completed.values() if len(rows) == 1)


def _corrections(chain: Chain) -> Chain:
    """Night 1: a moved visit, a cancelled only visit, corrected contacts and a new patient."""
    delta = patient_move_delta(chain)
    stamp = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=10)
    only = _only_visit_patient(chain)
    delta.add(
        "pms",
        "appointments",
        dict(
            only,
            status="cancelled",
            cancelled_at=only["scheduled_start"] - timedelta(days=2),
            cancellation_reason="patient_request",
            checked_in_at=None,
            checked_out_at=None,
            updated_at=stamp,
        ),
    )
    patients = chain.tables[("pms", "patients")]
    corrected = dict(patients[3], email=None, phone="2125550303", updated_at=stamp)
    delta.add("pms", "patients", corrected)
    channel = "google" if patients[5]["acquisition_channel"] != "google" else "referral"
    delta.add("pms", "patients", dict(patients[5], acquisition_channel=channel, updated_at=stamp))
    delta.add("pms", "patients", dict(patients[6], patient_id="PT9999", updated_at=stamp))
    return delta


def _birthday(chain: Chain) -> Chain:
    """A patient (no visit) who turns 35 on the day after the base's as-of date: band 25-34
    through night 1 (whose rows are late, so the as-of date stays), 35-44 from night 2 on
    (one day later), with no newer row of their own."""
    birthday = Chain(as_of=chain.as_of)
    template = chain.tables[("pms", "patients")][0]
    born = (chain.as_of + timedelta(days=1)).replace(year=chain.as_of.year - 35)
    created = _ts(date(2025, 1, 3), time(12), "UTC")  # the one patient created that day
    birthday.add(
        "pms",
        "patients",
        dict(template, patient_id="PT8888", date_of_birth=born, created_at=created),
    )
    return birthday


BIRTHDAY_BAND = (
    "select age_band from marts.dim_patients"
    " where created_at = cast('2025-01-03 12:00:00+00' as timestamptz)"
)


def _scalar(warehouse: Path, sql: str) -> object:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


NULL_CONTACTS = (
    "select count(*) from intermediate.int_contact_identities where contact_hash is null"
)


def _has_cohort(warehouse: Path, appointment_id: str) -> bool:
    """Has the patient of this appointment a cohort row? (Keys are pseudonymous: found through
    the appointment, whose id is not PHI.)"""
    return bool(
        _scalar(
            warehouse,
            "select count(*) from intermediate.int_patient_cohorts where patient_key ="
            " (select patient_key from staging.stg_pms__appointments"
            f" where appointment_id = '{appointment_id}')",
        )
    )


def _written(warehouse: Path, model: str) -> int:
    """How many keys the model's last incremental build wrote (macros/test_scope.sql)."""
    return _scalar(
        warehouse,
        "select count(*) from dbt_state.written_keys"
        f" where model_name = '{model}' and written_key is not null",
    )


def test_cohorts_and_identities_incremental_equal_full_refresh(
    tmp_path: Path, base_chain: Chain
) -> None:
    inc_dir, full_dir = tmp_path / "inc", tmp_path / "full"
    inc_dir.mkdir()
    full_dir.mkdir()
    night1 = _corrections(base_chain)
    night2 = apply_delta(base_chain)
    birthday = _birthday(base_chain)
    incremental = write_chain(inc_dir / "warehouse.duckdb", base_chain, birthday)
    dbt(["seed"], incremental, inc_dir)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    before = inc_dir / "before.duckdb"
    shutil.copy(incremental, before)
    only = _only_visit_patient(base_chain)

    write_chain(incremental, night1)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    # the narrow paths were taken: the patients int_patient_visits rewrote, the newer parties
    assert "int_patient_visits__touched" in _compiled_sql(inc_dir, "int_patient_cohorts")
    assert "watermark.load_id" in _compiled_sql(inc_dir, "int_contact_identities")
    assert "int_patient_visits__touched" in _compiled_sql(inc_dir, "dim_patients")
    cohorts = _scalar(incremental, "select count(*) from intermediate.int_patient_cohorts")
    assert 0 < _written(incremental, "int_patient_cohorts") < cohorts / 4
    patients = _scalar(incremental, "select count(*) from marts.dim_patients")
    assert 0 < _written(incremental, "dim_patients") < patients / 4
    # the new patient (a newer load, no visit yet) got its row
    assert _scalar(before, "select count(*) from marts.dim_patients") == patients - 1
    # two corrected patients and the new one (each with a marker row, deleted after)
    assert _written(incremental, "int_contact_identities") == 3
    assert _scalar(incremental, NULL_CONTACTS) == 0
    # the patient whose only completed visit was cancelled has no cohort any more
    assert _has_cohort(before, only["appointment_id"])
    assert not _has_cohort(incremental, only["appointment_id"])

    write_chain(incremental, night2)
    dbt(["run", "--select", *SELECTION], incremental, inc_dir)
    assert "int_patient_visits__touched" in _compiled_sql(inc_dir, "int_patient_cohorts")
    assert "int_patient_visits__touched" in _compiled_sql(inc_dir, "dim_patients")

    # the birthday moved the patient's age band with no newer row of theirs: staging rewrote
    # them, and dim_patients followed through staging's written keys
    assert _scalar(before, BIRTHDAY_BAND) == "25-34"
    assert _scalar(incremental, BIRTHDAY_BAND) == "35-44"
    full = write_chain(full_dir / "warehouse.duckdb", base_chain, birthday, night1, night2)
    dbt(["seed"], full, full_dir)
    dbt(["run", "--full-refresh", "--select", *SELECTION], full, full_dir)
    assert {r: _differences(incremental, full, r) for r in COMPARED} == dict.fromkeys(COMPARED, 0)


def test_cohorts_rebuild_whole_when_the_record_is_missing(
    tmp_path: Path, base_chain: Chain
) -> None:
    """A run that does not build int_patient_visits has no record of this invocation: the
    cohorts and dim_patients recompute every patient."""
    work = tmp_path / "inc"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    dbt(["run", "--select", "int_patient_cohorts", "dim_patients"], warehouse, work)
    assert "int_patient_visits__touched" not in _compiled_sql(work, "int_patient_cohorts")
    cohorts = _scalar(warehouse, "select count(*) from intermediate.int_patient_cohorts")
    assert _written(warehouse, "int_patient_cohorts") == cohorts
    # ... and so do the patients of dim_patients
    assert "int_patient_visits__touched" not in _compiled_sql(work, "dim_patients")
    patients = _scalar(warehouse, "select count(*) from marts.dim_patients")
    assert _written(warehouse, "dim_patients") == patients
