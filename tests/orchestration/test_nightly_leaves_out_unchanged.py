"""A nightly leaves out the dbt models whose code and inputs did not change, and loses nothing.

After the small chain's full run, one nightly delta arrives without its CRM and review files
(systems that deliver on weekdays only, say). The nightly must build every model below the
tables that got rows and leave out the rest, and its marts must equal a run from scratch over
the same landing folder. Run again with nothing new, it leaves out every model and still
publishes, with every mart's freshness check passing.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from orch_e2e import copy_landing, query, run

from safeio.sqlquote import sql_str

pytestmark = pytest.mark.xdist_group("e2e")

#: Systems whose delta the night does not bring.
SILENT = ("crm", "reviews")


@pytest.fixture(scope="module")
def nights(happy_run, demo_landing, tmp_path_factory):
    from demo.run import advance

    root = tmp_path_factory.mktemp("leave-out")
    landing = copy_landing(demo_landing, root / "landing")
    before = {p for p in landing.rglob("*") if p.is_file()}
    advance(landing, 1, None)
    delta = [p for p in landing.rglob("*") if p.is_file() and p not in before]
    dropped = [p for p in delta if p.relative_to(landing).parts[0] in SILENT]
    assert dropped and len(dropped) < len(delta)
    for path in dropped:
        path.unlink()
    data = root / "data"
    shutil.copytree(happy_run.data_dir, data)
    nightly = run(data, landing)
    rerun = run(data, landing)
    scratch = run(root / "scratch", landing)
    return nightly, rerun, scratch


def test_the_night_builds_what_is_below_new_rows_and_leaves_out_the_rest(nights):
    nightly, _, _ = nights
    assert nightly.summary.success, nightly.summary.failures
    left_out = set(nightly.summary.left_out)
    # nothing new for the rooms, services, locations, CRM or reviews
    assert {
        "stg_pms__rooms",
        "dim_rooms",
        "dim_services",
        "dim_locations",
        "stg_crm__marketing_spend",
        "stg_reviews__reviews",
        "stg_reviews__surveys",
        "kpi_targets",
    } <= left_out
    # below the appointments, invoices and messages that arrived (and the as-of time that
    # every raw table moves), nothing is left out
    assert (
        not {
            "stg_pms__appointments",
            "fct_appointments",
            "fct_invoice_lines",
            "int_data_as_of",
            "data_coverage",
            "kpi_financial",
            "kpi_scorecard",
        }
        & left_out
    )
    text = nightly.summary.to_text()
    assert f"dbt: {len(left_out)} models left out" in text


def test_the_nights_marts_equal_a_run_from_scratch(nights):
    nightly, _, scratch = nights
    assert scratch.summary.success, scratch.summary.failures
    assert not scratch.summary.left_out  # nothing recorded yet: everything built
    night, fresh = _marts(nightly.serving), _marts(scratch.serving)
    assert night.keys() == fresh.keys() and len(night) > 30
    differing = [name for name in night if not _same_rows(night[name], fresh[name])]
    assert differing == []


def test_a_run_with_nothing_new_leaves_out_every_model_and_still_publishes(nights):
    _, rerun, _ = nights
    assert rerun.summary.success, rerun.summary.failures
    assert rerun.summary.published
    manifest_models = _built_nodes()
    assert set(rerun.summary.left_out) == manifest_models
    fresh = [c for c in rerun.summary.checks if c.check_name.startswith("freshness_check")]
    assert fresh and all(c.passed for c in fresh), [c for c in fresh if not c.passed]


def _built_nodes() -> set[str]:
    from orchestration.manifest import load_manifest

    return {
        n["name"]
        for n in load_manifest()["nodes"].values()
        if n["resource_type"] in ("model", "seed")
    }


def _marts(serving: Path) -> dict[str, list[tuple]]:
    """Every published mart's rows in a fixed order; `ops` and the files' load times left out
    (doubles are compared within 1e-9: a sum's last bit depends on the order DuckDB adds in)."""
    marts = {}
    for schema, table in query(
        serving,
        "select schema_name, table_name from duckdb_tables() where schema_name <> 'ops' "
        "order by all",
    ):
        columns = query(
            serving,
            "select column_name from duckdb_columns() where schema_name = "
            f"{sql_str(schema)} and table_name = {sql_str(table)} "
            "and column_name not like '%loaded_at' order by column_index",
        )
        listed = ", ".join(f'"{name}"' for (name,) in columns)
        marts[f"{schema}.{table}"] = query(
            serving, f'select {listed} from "{schema}"."{table}" order by all'
        )
    return marts


def _same_rows(left: list[tuple], right: list[tuple]) -> bool:
    """Equal rows, doubles within 1e-9 (relative or absolute)."""
    return len(left) == len(right) and all(
        len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(left, right, strict=True)
    )


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isfinite(x):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
    return x == y


def _materialize(defs, outcome, selection, config: dict | None = None):
    """Materialize dbt assets of the night's data dir from Dagster, as the UI launches them."""
    import dagster as dg

    from medspa.commands.run import using_dagster_home
    from orchestration.resources import settings_run_config

    dbt_build = next(
        a for a in defs.assets if dg.AssetKey("dim_locations") in getattr(a, "keys", ())
    )
    run_config = settings_run_config(outcome.data_dir, outcome.landing)
    if config:
        run_config["ops"] = {"dbt_build": {"config": config}}
    with using_dagster_home(outcome.data_dir / "dagster"):
        instance = dg.DagsterInstance.get()
        try:
            return dg.materialize(
                [dbt_build],
                partition_key="default",
                selection=selection,
                instance=instance,
                resources=defs.resources,
                run_config=run_config,
                raise_on_error=False,
            )
        finally:
            instance.dispose()


def _left_out_and_built(result) -> tuple[set[str], set[str]]:
    events = result.get_asset_materialization_events()
    left_out, built = set(), set()
    for event in events:
        mat = event.event_specific_data.materialization
        (left_out if "left_out" in mat.metadata else built).add(mat.asset_key.to_user_string())
    return left_out, built


def _recorded_by(outcome, run_id: str) -> set[str]:
    """The models and seeds whose fingerprints the run `run_id` recorded."""
    rows = query(
        outcome.warehouse,
        f"select model_name from dbt_state.model_inputs where run_id = {sql_str(run_id)}",
    )
    return {name for (name,) in rows}


def test_a_model_picked_by_hand_is_built_and_rebuild_unchanged_builds_everything(defs, nights):
    import dagster as dg

    _, rerun, _ = nights
    picked = _materialize(defs, rerun, dg.AssetSelection.assets("dim_locations").without_checks())
    assert picked.success
    assert _left_out_and_built(picked) == (set(), {"dim_locations"})
    assert _recorded_by(rerun, picked.run_id) == {"dim_locations"}

    everything = _materialize(defs, rerun, None, {"rebuild_unchanged": True})
    assert everything.success
    left_out, built = _left_out_and_built(everything)
    assert left_out == set() and built == _built_nodes()
    assert _recorded_by(rerun, everything.run_id) == _built_nodes()


def test_a_model_built_outside_the_pipeline_loses_its_record_and_is_built_next_night(nights):
    """`medspa transform --select dim_locations` (or any dbt command that builds a model) may
    have built it with other code or data than its record says: dbt forgets the record of
    every model it selects before it builds one (macros/model_inputs.sql), so the next run
    builds the model and everything below it, and still leaves out the rest."""
    from medspa.settings import Settings, resolve_phi_key
    from orchestration.defs.dbt import unchanged
    from orchestration.manifest import load_manifest

    _, rerun, _ = nights
    settings = Settings.from_env(rerun.data_dir, rerun.landing)
    assert unchanged.read_state(rerun.warehouse).recorded.keys() == _built_nodes()

    # as a user runs it: its own process (dbt keeps the warehouse open while its process lives)
    medspa = Path(sys.executable).with_name("medspa")
    argv = [medspa, "transform", "--data-dir", rerun.data_dir, "--select", "dim_locations"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert unchanged.read_state(rerun.warehouse).recorded.keys() == _built_nodes() - {
        "dim_locations"
    }

    manifest = load_manifest()
    plan = unchanged.plan_for_warehouse(
        manifest, rerun.warehouse, resolve_phi_key(settings.phi_key)
    )
    below = _descendants(manifest, "model.medspa.dim_locations")
    assert below and "kpi_scorecard" in below
    assert set(plan.left_out) == _built_nodes() - {"dim_locations"} - below


def _descendants(manifest: dict, unique_id: str) -> set[str]:
    """Names of the models and seeds below `unique_id` in dbt's graph."""
    nodes, found, todo = manifest["nodes"], set(), [unique_id]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            node = nodes.get(child)
            if node and node["resource_type"] in ("model", "seed") and node["name"] not in found:
                found.add(node["name"])
                todo.append(child)
    return found
