"""The one dbt translator of the project: keys, groups and checks of every dbt node.

Keys: a model or seed is keyed by its name (`kpi_scorecard`); a source table by
`[source_name, table]` (`raw_pms/appointments`), which is exactly the key of the raw landing
assets, so Dagster draws dlt -> staging -> marts without hand wiring. Groups follow the layer
(`staging`, `intermediate`, `core`, `kpi`, `ops`; seeds in `seeds`). dbt tests become asset checks.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

#: Layers that have a group of their own; anything else under marts/ counts as core.
LAYERS = ("staging", "intermediate", "core", "kpi", "ops")


def layer_of(props: Mapping[str, Any]) -> str:
    """The layer of a dbt node: `meta.layer` when set, else its folder (fqn)."""
    if props.get("resource_type") == "seed":
        return "seeds"
    if props.get("resource_type") == "source":
        return "raw"
    meta = (props.get("config") or {}).get("meta") or props.get("meta") or {}
    if meta.get("layer") in LAYERS:
        return meta["layer"]
    fqn = list(props.get("fqn") or [])
    folders = fqn[1:-1]
    if folders[:1] == ["marts"]:
        return folders[1] if len(folders) > 1 and folders[1] in LAYERS else "core"
    return folders[0] if folders and folders[0] in LAYERS else "core"


class MedspaDbtTranslator(DagsterDbtTranslator):
    """Key per model name, group per layer; sources keyed like the raw landing assets."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props)


TRANSLATOR = MedspaDbtTranslator()
