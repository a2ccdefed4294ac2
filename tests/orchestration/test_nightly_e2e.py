"""The nightly job end to end on the seeded small demo chain.

Each scenario runs once per session (fixtures in conftest.py) and several tests read its
outcome. A full run builds dbt and runs GX on ~130k rows: minutes on two cores, so there are
two full runs; the failure scenarios stop early by design.
"""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from orch_e2e import break_primary_keys, copy_landing, phi_column_names, query, run

from medspa.phi_key_guard import PhiKeyChangedError, check_key_in_use, fingerprint
from medspa.settings import resolve_phi_key

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


# -- the happy path --------------------------------------------------------------------


def test_nightly_job_loads_builds_checks_and_publishes(happy_run):
    summary = happy_run.summary
    assert summary.success, summary.to_text()
    loaded = dict(summary.tables)
    assert loaded["raw_pms/appointments"]["rows_inserted"] > 0
    assert summary.published and summary.published["marts"] > 0
    counts = summary.counts()
    assert counts["passed"] > 0 and counts["failed"] == 0
    assert happy_run.serving.is_file()
    assert not list(happy_run.data_dir.glob("serving.duckdb.tmp-*"))


def test_serving_has_no_raw_or_staging_schema_and_no_phi_column(happy_run):
    schemas = {
        s
        for (s,) in query(
            happy_run.serving, "select distinct table_schema from information_schema.tables"
        )
    }
    assert schemas == {"marts", "ops"}
    columns = {
        c.lower()
        for (c,) in query(happy_run.serving, "select column_name from information_schema.columns")
    }
    assert not columns & phi_column_names()
    marts = {
        t
        for (t,) in query(
            happy_run.serving,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    assert {"kpi_scorecard", "kpi_coverage", "data_coverage", "kpi_targets"} <= marts
    assert not [t for t in marts if t.startswith(("stg_", "int_"))]


def test_the_first_run_records_the_key_its_models_were_built_with(happy_run):
    """A fresh data dir has no warehouse when the run's set-up checks the key: the dbt step
    records it, so a later run under another key (a secret with a trailing newline) is refused
    instead of re-keying every patient."""
    rows = query(happy_run.warehouse, "select fingerprint from raw_meta.phi_key_in_use")
    assert rows == [(fingerprint(resolve_phi_key(None)),)]  # the demo chain: the demo key
    with pytest.raises(PhiKeyChangedError):
        check_key_in_use(happy_run.warehouse, resolve_phi_key(None) + "\n")


def test_ops_tables_describe_this_run(happy_run):
    summary = happy_run.summary
    run_id = summary.run_id
    published = {
        (name, asset, passed)
        for name, asset, passed, rid in query(
            happy_run.serving, "select check_name, asset, passed, run_id from ops.check_results"
        )
        if rid == run_id
    }
    evaluated = {(c.check_name, c.asset, c.passed) for c in summary.checks}
    assert published and published <= evaluated
    # Only the wall-clock freshness checks of the marts and serving (all tenants', each
    # tenant's) run after the file is written.
    assert {name for name, _, _ in evaluated - published} == {
        "freshness_check",
        "every_tenant_published_recently",
    }
    log = query(happy_run.serving, "select run_id, rows_loaded, checks_failed from ops.run_log")
    loaded = sum(m["rows_inserted"] + m["rows_updated"] for _, m in summary.tables)
    assert log == [(run_id, loaded, 0)]
    file_columns = {
        c
        for (c,) in query(
            happy_run.serving,
            "select column_name from information_schema.columns "
            "where table_schema = 'ops' and table_name = 'loaded_files'",
        )
    }
    assert "file_sha256" not in file_columns and "file_path" in file_columns
    assert query(happy_run.serving, "select count(*) from ops.loaded_files")[0][0] == 22


def test_site_is_rendered_from_serving(happy_run):
    assert happy_run.summary.site_built, happy_run.summary.to_text()
    assert (happy_run.data_dir / "site" / "index.html").is_file()


def test_summary_reports_loads_checks_and_publish(happy_run):
    text = happy_run.summary.to_text()
    assert "raw_pms/appointments" in text
    assert "checks:" in text and "published:" in text
    assert "absent systems" not in text
    assert "left in the landing folder" not in text


# -- systems the clinic does not have -----------------------------------------------------


def test_run_without_phone_crm_reviews_succeeds_and_names_them(absent_systems_run):
    summary = absent_systems_run.summary
    assert summary.success, summary.to_text()
    assert summary.absent_systems == ["crm", "phone", "reviews"]
    text = summary.to_text()
    assert "absent systems (never delivered): crm, phone, reviews" in text
    kpis = dict(summary.uncovered_kpis)
    assert "missed_call_rate" in kpis and "nps" in kpis
    assert "net_revenue" not in kpis


def test_never_seen_undeclared_systems_raise_no_freshness_alarm(absent_systems_run):
    freshness = [c for c in absent_systems_run.summary.checks if c.check_name == "freshness"]
    assert len(freshness) == 22
    assert all(c.passed for c in freshness)
    phone = next(c for c in freshness if c.asset == "raw_phone/calls")
    assert "never delivered" in phone.description


# -- a blocking failure keeps the previous serving file ----------------------------------


@pytest.fixture(scope="session")
def blocked_run(happy_run, demo_landing, tmp_path_factory):
    root = tmp_path_factory.mktemp("blocked")
    landing = copy_landing(demo_landing, root / "landing")
    appointments = next((landing / "pms" / "appointments").glob("*.csv"))
    rows = len(appointments.read_text(encoding="utf-8").splitlines()) - 1
    break_primary_keys(appointments, rows // 50)  # ~2 % of the load: above the 1 % limit
    data = root / "data"
    data.mkdir()
    shutil.copyfile(happy_run.serving, data / "serving.duckdb")
    before = (data / "serving.duckdb").read_bytes()
    return run(data, landing), before


def test_quarantine_above_limit_stops_publish_and_names_the_check(blocked_run):
    outcome, before = blocked_run
    summary = outcome.summary
    assert not summary.success
    assert summary.published is None
    text = summary.to_text()
    assert "BLOCKED: raw_pms/appointments quarantine_share" in text
    # where the rows are, in the raw layer; their values stay there
    assert (
        "    the rows: select * from raw_quarantine.rejected_rows where system = 'pms' and "
        f"table_name = 'appointments' in {outcome.warehouse}"
    ) in text.splitlines()
    # the check's own result (what the Dagster UI shows) says where the rows are and what to do
    (check,) = [c for c in summary.checks if c.check_name == "quarantine_share" and not c.passed]
    assert "; the rows: select * from raw_quarantine.rejected_rows where system = 'pms'" in (
        check.description
    )
    assert check.description.endswith(
        "deliver a corrected file of the table (its next load lifts the block)"
    )
    # errors by class name, without the module path
    assert "error: raw_quarantine: DagsterAssetCheckFailedError: 1 blocking asset check" in text
    assert "error: serving: BlockingCheckFailed: not publishing: blocking check(s)" in text
    assert "dagster._core.errors" not in text
    assert outcome.serving.read_bytes() == before
    assert not list(outcome.data_dir.glob("serving.duckdb.tmp-*"))
    quarantined = dict(summary.tables)["raw_pms/appointments"]["rows_quarantined"]
    assert quarantined > 0
    assert "status-0" not in text  # the rejected rows' values are never printed


def test_blocked_run_is_recorded_in_the_warehouse_at_once(blocked_run):
    outcome, _ = blocked_run
    rows = query(
        outcome.warehouse,
        "select run_id, status, blocked_by, demo_key_on_real_data from raw_meta.run_log",
    )
    assert rows == [
        # True: its appointments file was edited after the generator wrote it, so the folder
        # is no longer the demo chain and the public demo key is flagged (demo/state.py)
        (outcome.summary.run_id, "blocked", "raw_pms/appointments:quarantine_share", True)
    ]


def test_published_run_is_in_the_warehouse_and_serving_logs(happy_run):
    run_id = happy_run.summary.run_id
    sql = "select run_id, status, blocked_by from {} where run_id = '" + run_id + "'"
    assert query(happy_run.warehouse, sql.format("raw_meta.run_log")) == [
        (run_id, "published", None)
    ]
    assert query(happy_run.serving, sql.format("ops.run_log")) == [(run_id, "published", None)]


# -- a failed dbt test stops what is built on its model, and the publish ---------------------


ORPHAN_LOCATION = "LOC-NOT-IN-ANY-EXTRACT"


@pytest.fixture(scope="session")
def dbt_test_failed_run(defs, demo_landing, tmp_path_factory):
    """One room names a location no extract holds: the loader accepts it (every value is well
    formed), so the raw checks pass, and dbt's `relationships` test on `stg_pms__rooms`
    (severity error: reference data that names an unknown location is broken, not late) fails
    inside the one `dbt build`."""
    root = tmp_path_factory.mktemp("dbt_test_failed")
    landing = copy_landing(demo_landing, root / "landing")
    (rooms,) = (landing / "pms" / "rooms").glob("*.csv")
    lines = rooms.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace('"LOC01"', f'"{ORPHAN_LOCATION}"', 1)
    assert ORPHAN_LOCATION in lines[1]
    rooms.write_text("".join(lines), encoding="utf-8")
    return run(root / "data", landing)


def test_failed_dbt_test_skips_its_descendants_and_blocks_the_publish(dbt_test_failed_run):
    outcome = dbt_test_failed_run
    summary = outcome.summary
    assert not summary.success
    assert summary.published is None
    assert not outcome.serving.exists()
    text = summary.to_text()
    assert (
        "BLOCKED: stg_pms__rooms relationships_stg_pms__rooms_location_id__location_id__ref_"
        "stg_pms__locations_: dbt test: 1 failing row(s)" in text
    )
    assert ORPHAN_LOCATION not in text  # the offending value is never printed
    built = {
        name
        for (name,) in query(outcome.warehouse, "select table_name from information_schema.tables")
    }
    # dbt built the model the test judges and what does not depend on it ...
    assert {"stg_pms__rooms", "fct_calls", "fct_invoice_lines", "kpi_engagement"} <= built
    # ... and skipped every model built on it, KPI marts included. (A test with two parents
    # holds back only the models that read both: `dim_rooms` reads the rooms alone and is
    # built, and its own relationships test to `dim_locations` fails and holds back the rest.)
    assert not {"int_room_days", "fct_appointments", "kpi_rooms", "kpi_financial"} & built


# -- a required table missing: nothing loaded, nothing published --------------------------


@pytest.fixture(scope="session")
def missing_required_run(happy_run, demo_landing, tmp_path_factory):
    root = tmp_path_factory.mktemp("missing")
    landing = copy_landing(demo_landing, root / "landing", drop=("pms/appointments",))
    data = root / "data"
    data.mkdir()
    shutil.copyfile(happy_run.serving, data / "serving.duckdb")
    before = (data / "serving.duckdb").read_bytes()
    return run(data, landing), before


def test_missing_appointments_fails_clearly_and_loads_nothing(missing_required_run):
    outcome, before = missing_required_run
    assert not outcome.summary.success
    text = outcome.summary.to_text()
    assert "pms.appointments" in text and "raw_landing" in text
    assert outcome.serving.read_bytes() == before
    # The loader creates the raw and bookkeeping tables, then refuses before reading a row:
    # every contract table exists and is empty, and no file is recorded as loaded.
    assert query(outcome.warehouse, "select count(*) from raw_meta.loaded_files") == [(0,)]
    from ingestion.contract import load_contract

    for table in load_contract().tables:
        rows = query(outcome.warehouse, f"select count(*) from {table.dataset}.{table.name}")
        assert rows == [(0,)], table.qualified_name


# -- a system that delivered and then stopped ----------------------------------------------


def test_system_that_stopped_keeps_its_rows_and_its_freshness_warns(
    defs, happy_run, demo_landing, tmp_path_factory
):
    from demo.run import advance
    from orchestration.defs.raw.assets import RAW_SPECS
    from orchestration.resources import settings_run_config

    root = tmp_path_factory.mktemp("stopped")
    landing = copy_landing(demo_landing, root / "landing")
    advance(landing, 3, None)
    first = sorted(p.name for p in (landing / "phone" / "calls").iterdir())[0]
    for path in (landing / "phone" / "calls").iterdir():
        if path.name != first:
            path.unlink()  # the phone system stopped after its first extract
    data = root / "data"
    data.mkdir()
    shutil.copyfile(happy_run.warehouse, data / "warehouse.duckdb")
    calls_before = query(data / "warehouse.duckdb", "select count(*) from raw_phone.calls")

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tenant", ["default"])
        result = defs.resolve_job_def("nightly").execute_in_process(
            run_config=settings_run_config(data, landing),
            instance=instance,
            partition_key="default",
            asset_selection=[s.key for s in RAW_SPECS],
            raise_on_error=False,
        )
        evaluations = {
            (e.asset_key.to_user_string(), e.check_name): e
            for e in result.get_asset_check_evaluations()
        }
    phone = evaluations[("raw_phone/calls", "freshness")]
    assert not phone.passed and phone.severity == dg.AssetCheckSeverity.WARN
    assert evaluations[("raw_pms/appointments", "freshness")].passed
    assert query(data / "warehouse.duckdb", "select count(*) from raw_phone.calls") == calls_before
    assert result.success  # a warning does not fail the run
