"""Failures that are not the file's fault (dlt, the engine) are reported and retried next run."""

from __future__ import annotations

import duckdb
import pytest
from ingest_fixtures import csv_text, header, query, settings_for, write, write_required

import ingestion.pipeline as pipeline
import ingestion.prepare as prepare
import ingestion.system_load as system_load
from ingestion.report import LOAD_FAILED

pytestmark = pytest.mark.xdist_group("ingest_failure")


def _lead(updated_at: str, status: str) -> dict[str, str]:
    return {
        "lead_id": "LD1",
        "location_id": "L1",
        "created_at": "2026-11-01T00:00:00Z",
        "channel": "phone",
        "first_name": "Lee",
        "last_name": "Dee",
        "email": "lee@example.org",
        "phone": "+15550001234",
        "status": status,
        "updated_at": updated_at,
    }


def test_failed_system_is_retried_next_run_and_others_still_load(tmp_root, monkeypatch):
    write_required(tmp_root / "landing")
    lead = _lead("2026-11-01T00:00:00Z", "new")
    write(tmp_root, "landing/crm/leads/2026-11-20.csv", csv_text(header("crm.leads"), [lead]))
    settings = settings_for(tmp_root)
    real_load = system_load.load_system

    def failing_for_crm(warehouse, pipelines_dir, system, plans, *limits):
        if system == "crm":
            raise RuntimeError("simulated destination failure")
        return real_load(warehouse, pipelines_dir, system, plans, *limits)

    monkeypatch.setattr(system_load, "load_system", failing_for_crm)
    report = pipeline.ingest(settings)
    assert not report.ok
    assert report.errors == [
        "dlt could not merge into raw_crm (RuntimeError); its files were not recorded and "
        "will be retried on the next run"
    ]
    assert report.table("crm", "leads").state == LOAD_FAILED
    assert query(settings, "select count(*) from raw_pms.appointments") == [(1,)]
    assert query(settings, "select count(*) from raw_meta.loaded_files where system = 'crm'") == [
        (0,)
    ]

    monkeypatch.setattr(system_load, "load_system", real_load)
    retry = pipeline.ingest(settings)
    assert retry.ok
    assert retry.table("crm", "leads").rows_inserted == 1
    assert retry.table("pms", "appointments").files_skipped == 1
    assert query(settings, "select lead_id from raw_crm.leads") == [("LD1",)]


def test_internal_error_on_one_file_is_reported_and_retried(tmp_root, monkeypatch):
    write_required(tmp_root / "landing")
    settings = settings_for(tmp_root)
    real_validate = prepare.validate

    def broken_for_locations(con, table, raw, extract_id, rel_path):
        if table.name == "locations":
            raise duckdb.InternalException("simulated engine failure")
        return real_validate(con, table, raw, extract_id, rel_path)

    monkeypatch.setattr(prepare, "validate", broken_for_locations)
    report = pipeline.ingest(settings)
    assert report.errors == [
        "could not process pms/locations/2026-11-20.csv (InternalException); it was not "
        "recorded and will be retried on the next run"
    ]
    assert report.table("pms", "appointments").rows_inserted == 1
    monkeypatch.setattr(prepare, "validate", real_validate)
    retry = pipeline.ingest(settings)
    assert retry.ok and retry.table("pms", "locations").rows_inserted == 1


def test_a_schema_an_older_loader_stored_is_dropped_not_refused_every_night(tmp_root):
    """Loaders before every column was declared nullable stored the keys as NOT NULL in dlt's
    local schema; with data types frozen, dlt refused every later load of the system, night
    after night. That state is a cache: it is dropped and the load runs again."""
    import json

    from dlt.common.schema.utils import bump_version_if_modified

    write_required(tmp_root / "landing")
    leads = header("crm.leads")
    write(
        tmp_root,
        "landing/crm/leads/2026-11-20.csv",
        csv_text(leads, [_lead("2026-11-01T00:00:00Z", "new")]),
    )
    settings = settings_for(tmp_root)
    assert pipeline.ingest(settings).ok
    [stored] = (settings.data_dir / ".dlt" / "medspa_raw_crm" / "schemas").glob("*.schema.json")
    schema = json.loads(stored.read_text())
    schema["tables"]["leads"]["columns"]["lead_id"]["nullable"] = False  # as an older loader did
    bump_version_if_modified(schema)  # as dlt itself saves a changed schema
    stored.write_text(json.dumps(schema))

    write(
        tmp_root,
        "landing/crm/leads/2026-11-21.csv",
        csv_text(leads, [_lead("2026-11-02T00:00:00Z", "booked")]),
    )
    report = pipeline.ingest(settings)
    assert report.ok, report.errors
    assert report.table("crm", "leads").rows_updated == 1
    assert query(settings, "select lead_id, status from raw_crm.leads") == [("LD1", "booked")]
