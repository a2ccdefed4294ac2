"""Data and code versions: the Dagster UI calls a model stale only when its input or its code
changed, so "Materialize stale and missing" after a load that found nothing new does nothing.

`raw_landing` reports each raw table's version read from the warehouse (row count and newest
load); a dbt model's code version covers its SQL, the project's macros and dbt_project.yml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.contract import load_contract
from medspa.tenants import DEFAULT_TENANT
from orchestration.defs.dbt.translator import MedspaDbtTranslator, shared_code_version
from orchestration.defs.raw.versions import ABSENT, LEDGER, UNVERSIONED, raw_data_versions

PATIENTS = load_contract().table("pms.patients")
LOCATIONS = load_contract().table("pms.locations")


def _warehouse(path: Path, patient_loads: list[str], ledger_loads: list[str]) -> Path:
    """A warehouse with `raw_pms.patients` (one row per load id given) and the file ledger;
    no `raw_pms.locations`."""
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists raw_pms")
    con.execute("create schema if not exists raw_meta")
    con.execute(
        "create or replace table raw_pms.patients (patient_id varchar, _dlt_load_id varchar)"
    )
    con.execute("create or replace table raw_meta.loaded_files (load_id varchar)")
    for i, load in enumerate(patient_loads):
        con.execute("insert into raw_pms.patients values (?, ?)", [f"P{i}", load])
    for load in ledger_loads:
        con.execute("insert into raw_meta.loaded_files values (?)", [load])
    con.close()
    return path


def test_a_raw_tables_version_is_its_row_count_and_newest_load(tmp_path):
    path = _warehouse(tmp_path / "w.duckdb", ["100.1", "100.2"], ["20261101T0000"])
    versions = raw_data_versions(path, [PATIENTS, LOCATIONS])
    assert versions == {
        "pms.patients": "rows=2 newest_load=100.2",
        "pms.locations": ABSENT,
        LEDGER: "rows=1 newest_load=20261101T0000",
    }
    assert raw_data_versions(path, [PATIENTS, LOCATIONS]) == versions  # nothing loaded: same


def test_a_table_without_load_ids_is_unversioned(tmp_path):
    """Made without the loader (a fixture, by hand): whether it changed cannot be told."""
    path = _warehouse(tmp_path / "w.duckdb", ["100.1"], [])
    con = duckdb.connect(str(path))
    con.execute("create table raw_pms.locations (location_id varchar)")
    con.close()
    versions = raw_data_versions(path, [PATIENTS, LOCATIONS])
    assert versions["pms.locations"] == UNVERSIONED
    assert versions["pms.patients"] == "rows=1 newest_load=100.1"


def test_a_load_that_writes_a_row_changes_the_version(tmp_path):
    before = raw_data_versions(_warehouse(tmp_path / "a.duckdb", ["100.1"], []), [PATIENTS])
    # a later load rewrote the same patient: same count, newer load
    after = raw_data_versions(_warehouse(tmp_path / "b.duckdb", ["100.2"], []), [PATIENTS])
    assert before["pms.patients"] != after["pms.patients"]
    empty = raw_data_versions(_warehouse(tmp_path / "c.duckdb", [], []), [PATIENTS])
    assert empty == {"pms.patients": "rows=0 newest_load=none", LEDGER: "rows=0 newest_load=none"}


def _manifest(project_macro: str, dbt_macro: str) -> dict:
    return {
        "metadata": {"project_name": "medspa"},
        "macros": {
            "macro.medspa.kpi_window": {"package_name": "medspa", "macro_sql": project_macro},
            "macro.dbt.is_incremental": {"package_name": "dbt", "macro_sql": dbt_macro},
        },
    }


def test_the_shared_code_covers_the_projects_macros_and_dbt_project_yml(tmp_path):
    project = tmp_path / "dbt_project.yml"
    project.write_text("vars:\n  lapsed_days: 180\n")
    base = shared_code_version(_manifest("{{ 90 }}", "x"), project)
    assert shared_code_version(_manifest("{{ 90 }}", "x"), project) == base
    assert shared_code_version(_manifest("{{ 60 }}", "x"), project) != base
    assert shared_code_version(_manifest("{{ 90 }}", "y"), project) == base  # dbt's own macro
    project.write_text("vars:\n  lapsed_days: 120\n")
    assert shared_code_version(_manifest("{{ 90 }}", "x"), project) != base


def test_a_models_code_version_follows_the_shared_code_and_a_seeds_does_not():
    model = {"resource_type": "model", "name": "kpi_x", "raw_code": "select 1"}
    seed = {"resource_type": "seed", "name": "kpi_targets", "checksum": {"checksum": "abc"}}
    one, two = MedspaDbtTranslator(shared_code="one"), MedspaDbtTranslator(shared_code="two")
    assert one.get_code_version(model) == MedspaDbtTranslator("one").get_code_version(model)
    assert one.get_code_version(model) != two.get_code_version(model)
    assert one.get_code_version(model) != one.get_code_version({**model, "raw_code": "select 2"})
    assert one.get_code_version(seed) == two.get_code_version(seed) == "abc"


def _stale_statuses(instance, asset_graph, keys: list[dg.AssetKey], partition: str) -> dict:
    """What the UI shows per asset (FRESH, STALE, MISSING), through the resolver it uses."""
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._time import get_current_datetime

    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=asset_graph,
    )
    resolver = CachingStaleStatusResolver(
        instance=instance, asset_graph=asset_graph, loading_context=view
    )
    return {k.to_user_string(): resolver.get_status(k, partition).value for k in keys}


@pytest.mark.xdist_group("e2e")
def test_a_load_that_found_nothing_new_leaves_every_model_fresh(
    defs, asset_graph, happy_run, tmp_path, monkeypatch
):
    """After a nightly, `raw_landing` again on the same landing folder: no staging model over
    it turns stale, and each raw table reports the version it had."""
    from orchestration.defs.raw.assets import RAW_SPECS
    from orchestration.resources import settings_run_config

    assert happy_run.summary.success, happy_run.summary.to_text()
    data = shutil.copytree(happy_run.data_dir, tmp_path / "data")  # keep the shared run as it is
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    watched = [
        dg.AssetKey(["raw_pms", "patients"]),
        dg.AssetKey(["stg_pms__patients"]),
        dg.AssetKey(["stg_pos__invoice_lines"]),
        dg.AssetKey(["stg_messaging__messages"]),
    ]
    raw_keys = [spec.key for spec in RAW_SPECS]
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        versions_before = {
            k: instance.get_latest_data_version_record(k, partition_key=DEFAULT_TENANT)
            for k in raw_keys
        }
        assert _stale_statuses(instance, asset_graph, watched, DEFAULT_TENANT) == dict.fromkeys(
            (k.to_user_string() for k in watched), "FRESH"
        )
        result = defs.resolve_job_def("nightly").execute_in_process(
            instance=instance,
            asset_selection=raw_keys,
            partition_key=DEFAULT_TENANT,
            run_config=settings_run_config(data, happy_run.landing),
            raise_on_error=False,
        )
        assert result.success
        for key in raw_keys:
            before, after = (
                versions_before[key],
                instance.get_latest_data_version_record(key, partition_key=DEFAULT_TENANT),
            )
            assert after.storage_id > before.storage_id  # materialized again ...
            assert _data_version(after) == _data_version(before)  # ... to the same version
        assert _stale_statuses(instance, asset_graph, watched, DEFAULT_TENANT) == dict.fromkeys(
            (k.to_user_string() for k in watched), "FRESH"
        )


def _data_version(record) -> str:
    from dagster._core.definitions.data_version import extract_data_version_from_entry

    return extract_data_version_from_entry(record.event_log_entry).value


@pytest.mark.xdist_group("e2e")
def test_a_table_loaded_beside_the_selected_one_is_recorded_and_its_models_turn_stale(
    defs, asset_graph, happy_run, tmp_path, monkeypatch
):
    """The UI's Materialize of `raw_pms/appointments` alone, after a day of deltas: the loader
    loads the whole `pms` system, so `raw_pms/patients` took new rows too. It is recorded as
    materialized (saying why, with its new data version) and the staging model over it turns
    stale, instead of looking as old as before."""
    from demo.run import advance
    from orchestration.defs.raw.assets import SIBLING_LOAD
    from orchestration.resources import settings_run_config

    assert happy_run.summary.success, happy_run.summary.to_text()
    data = shutil.copytree(happy_run.data_dir, tmp_path / "data")
    landing = shutil.copytree(happy_run.landing, tmp_path / "landing")
    advance(landing, 1, 0.0, None)
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    patients = dg.AssetKey(["raw_pms", "patients"])
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        before = instance.get_latest_data_version_record(patients, partition_key=DEFAULT_TENANT)
        result = defs.resolve_job_def("nightly").execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(["raw_pms", "appointments"])],
            partition_key=DEFAULT_TENANT,
            run_config=settings_run_config(data, landing),
            raise_on_error=False,
        )
        assert result.success
        after = instance.get_latest_data_version_record(patients, partition_key=DEFAULT_TENANT)
        assert after.run_id == result.run_id
        assert after.event_log_entry.dagster_event.materialization.description == SIBLING_LOAD
        assert _data_version(after) != _data_version(before)
        assert _stale_statuses(
            instance, asset_graph, [dg.AssetKey(["stg_pms__patients"])], DEFAULT_TENANT
        ) == {"stg_pms__patients": "STALE"}
        # a system none of whose tables was selected is not loaded, nor recorded
        invoices = dg.AssetKey(["raw_pos", "invoices"])
        latest = instance.get_latest_data_version_record(invoices, partition_key=DEFAULT_TENANT)
        assert latest.run_id != result.run_id


@pytest.mark.xdist_group("e2e")
def test_a_load_that_recorded_files_marks_the_ledger_materialized_selected_or_not(
    defs, asset_graph, happy_run, tmp_path, monkeypatch
):
    """`raw_pms/appointments` alone after a day of deltas: the load writes the file ledger, which
    nobody selected. Unreported, the coverage models over it stayed fresh in the UI while the
    publish gate found them behind, and "Materialize stale and missing" ran out of stale assets
    with nothing published. Reported, `stg_meta__loaded_files` turns stale; a second run that
    finds no new file reports the ledger no more."""
    from demo.run import advance
    from orchestration.defs.raw.assets import LEDGER_LOAD, LOADED_FILES_KEY
    from orchestration.resources import settings_run_config

    assert happy_run.summary.success, happy_run.summary.to_text()
    data = shutil.copytree(happy_run.data_dir, tmp_path / "data")
    landing = shutil.copytree(happy_run.landing, tmp_path / "landing")
    advance(landing, 1, 0.0, None)
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    ledger_model = [dg.AssetKey(["stg_meta__loaded_files"])]
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        before = instance.get_latest_data_version_record(
            LOADED_FILES_KEY, partition_key=DEFAULT_TENANT
        )
        assert _stale_statuses(instance, asset_graph, ledger_model, DEFAULT_TENANT) == {
            "stg_meta__loaded_files": "FRESH"
        }
        runs = []
        for _ in range(2):
            runs.append(
                defs.resolve_job_def("nightly").execute_in_process(
                    instance=instance,
                    asset_selection=[dg.AssetKey(["raw_pms", "appointments"])],
                    partition_key=DEFAULT_TENANT,
                    run_config=settings_run_config(data, landing),
                    raise_on_error=False,
                )
            )
            assert runs[-1].success
        after = instance.get_latest_data_version_record(
            LOADED_FILES_KEY, partition_key=DEFAULT_TENANT
        )
        assert after.run_id == runs[0].run_id  # the second run found nothing new
        assert after.event_log_entry.dagster_event.materialization.description == LEDGER_LOAD
        assert _data_version(after) != _data_version(before)
        assert (
            _data_version(after) == raw_data_versions(data / "warehouse.duckdb", [PATIENTS])[LEDGER]
        )
        assert _stale_statuses(instance, asset_graph, ledger_model, DEFAULT_TENANT) == {
            "stg_meta__loaded_files": "STALE"
        }
