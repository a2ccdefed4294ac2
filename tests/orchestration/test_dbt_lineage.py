"""One translator: dbt sources line up with the raw landing assets; groups follow the layer."""

from __future__ import annotations

import dagster as dg

from ingestion.contract import load_contract
from orchestration.defs.dbt.translator import layer_of


def test_every_contract_table_is_one_materializable_raw_asset(asset_graph):
    for table in load_contract().tables:
        node = asset_graph.get(dg.AssetKey([f"raw_{table.system}", table.name]))
        assert node.is_materializable, table.qualified_name
        assert node.group_name == "raw"


def test_staging_models_depend_on_the_raw_assets_not_on_phantom_sources(asset_graph):
    connected = 0
    for table in load_contract().tables:
        staging = dg.AssetKey([f"stg_{table.system}__{table.name}"])
        if not asset_graph.has(staging):
            continue
        parents = asset_graph.get(staging).parent_keys
        assert dg.AssetKey([f"raw_{table.system}", table.name]) in parents
        connected += 1
    assert connected > 0
    assert not [k for k in asset_graph.get_all_asset_keys() if k.path[0].startswith("dlt_")]


def test_kpi_marts_are_downstream_of_the_quality_gate(asset_graph):
    """Blocking raw checks stop the marts: every KPI mart has raw assets upstream."""
    kpi = [k for k in asset_graph.get_all_asset_keys() if asset_graph.get(k).group_name == "kpi"]
    for key in kpi:
        upstream = asset_graph.upstream_key_iterator(key)
        assert any(k.path[0].startswith("raw_") for k in upstream), key


def test_layer_comes_from_meta_then_folder():
    assert layer_of({"resource_type": "model", "config": {"meta": {"layer": "kpi"}}}) == "kpi"
    assert layer_of({"resource_type": "model", "fqn": ["medspa", "marts", "ops", "x"]}) == "ops"
    assert layer_of({"resource_type": "model", "fqn": ["medspa", "staging", "pms", "y"]}) == (
        "staging"
    )
    assert layer_of({"resource_type": "model", "fqn": ["medspa", "marts", "z"]}) == "core"
    assert layer_of({"resource_type": "seed", "fqn": ["medspa", "kpi_targets"]}) == "seeds"
