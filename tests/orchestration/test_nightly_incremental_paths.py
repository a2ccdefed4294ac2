"""The nightly after a full run takes the intermediates' incremental paths, through Dagster.

The dbt tests (tests/dbt) prove each narrowed path equals a full refresh, but they call dbt
directly. Run by the nightly job, dbt sees a different catalog at start-up: a model that
looked up the facts' touched-partition record in dbt's relation cache (filled before the
facts' first incremental build creates that record) silently rebuilt whole on the first
night after every full run. Only the speed showed it; this test names it.
"""

import shutil

from orch_e2e import copy_landing, run


def _compiled(data_dir, run_id: str, model_file: str) -> str:
    """The SQL the run's dbt core step compiled for one model."""
    (target,) = (data_dir / "dbt_target").glob(f"dbt_build-{run_id[:8]}")
    return next((target / "compiled").rglob(model_file)).read_text()


def test_first_nightly_after_a_full_run_recomputes_only_what_the_facts_rewrote(
    happy_run, demo_landing, tmp_path_factory
):
    from demo.run import advance

    root = tmp_path_factory.mktemp("nightly-paths")
    landing = copy_landing(demo_landing, root / "landing")
    advance(landing, 1, None)
    data = root / "data"
    data.mkdir()
    # the full run's warehouse (its incremental state included), nothing of its Dagster runs
    shutil.copyfile(happy_run.warehouse, data / "warehouse.duckdb")

    outcome = run(data, landing)

    assert outcome.summary.success, outcome.summary.failures
    run_id = outcome.summary.run_id
    # revenue events re-summed only for the location-days fct_invoice_lines rewrote
    assert "fct_invoice_lines__touched" in _compiled(data, run_id, "int_invoice_kpi_events.sql")
    # appointment events hashed only for the appointments the facts rewrote
    assert "__inputs_scope" in _compiled(data, run_id, "int_appointment_kpi_events.sql")
    # and the entity-scoped intermediates took theirs
    assert "dirty_patients" in _compiled(data, run_id, "int_patient_visits.sql")
    assert "changed_invoices" in _compiled(data, run_id, "int_invoice_attribution.sql")
