"""The PHI guard runs after every model it guards, and Dagster shows it as a check.

`assert_no_phi_columns_outside_raw` reads the catalogue, not a model: a test with no parents
runs first in `dbt build`, before the build's models exist, so a model that starts forwarding
PHI would pass the very build that introduced it. Its `depends_on` lines name every model no
other model is built from; a new leaf model must be added there, and this test says which.
"""

from __future__ import annotations

import dagster as dg

from orchestration.manifest import load_manifest

GUARD = "test.medspa.assert_no_phi_columns_outside_raw"


def _leaf_models(manifest: dict) -> set[str]:
    models = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    parents = {
        parent
        for uid in models
        for parent in manifest["nodes"][uid]["depends_on"]["nodes"]
        if parent in models
    }
    return models - parents


def test_the_phi_guard_depends_on_every_leaf_model():
    manifest = load_manifest()
    guarded = set(manifest["nodes"][GUARD]["depends_on"]["nodes"])
    missing = sorted(uid.split(".")[-1] for uid in _leaf_models(manifest) - guarded)
    assert missing == [], (
        "add `-- depends_on: {{ ref('<model>') }}` to "
        f"dbt_project/tests/assert_no_phi_columns_outside_raw.sql for: {', '.join(missing)}"
    )


def test_the_phi_guard_and_every_dbt_test_are_asset_checks_with_a_description():
    from orchestration.definitions import defs

    specs = [spec for a in defs.resolve_asset_graph().assets_defs for spec in a.check_specs]
    by_name = {spec.name: spec for spec in specs}
    guard = by_name["assert_no_phi_columns_outside_raw"]
    assert guard.asset_key == dg.AssetKey("kpi_scorecard") and guard.blocking
    manifest = load_manifest()
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    assert tests - set(by_name) == set()  # source tests and two-mart tests included
    assert [spec.name for spec in specs if not spec.description] == []
