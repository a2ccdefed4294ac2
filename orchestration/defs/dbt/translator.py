"""The one dbt translator of the project: keys, groups and checks of every dbt node.

Keys: a model or seed is keyed by its name (`kpi_scorecard`); a source table by
`[source_name, table]` (`raw_pms/appointments`), which is exactly the key of the raw landing
assets, so Dagster draws dlt -> staging -> marts without hand wiring. Groups follow the layer
(`staging`, `intermediate`, `core`, `kpi`, `ops`; seeds in `seeds`). dbt tests become asset checks.

Code versions: dagster-dbt versions a model by its own SQL text, but what a model computes
also comes from the project's macros (the KPI definitions, the incremental logic, the table
materialization) and from `dbt_project.yml` (its vars are the KPI windows). A change to either
left every model "fresh" in the UI although its next build would differ. A model's version
here covers its SQL and both (`shared_code_version`): such a change marks every model stale,
more than strictly needed, never less.
"""

import hashlib
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from medspa.settings import DBT_PROJECT_DIR
from orchestration.defs.dbt.check_descriptions import describe_dbt_test
from orchestration.defs.dbt.unchanged import shared_code_version
from orchestration.manifest import load_manifest

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

    def __init__(self, shared_code: str | None = None) -> None:
        """`shared_code`: `shared_code_version` of the project (default: of the prebuilt
        manifest, read on first use, so importing the translator for its keys reads nothing)."""
        # dbt's tests on the sources are checks on the raw tables they test (the raw assets
        # belong to the loader's asset; the dbt step evaluates them); without this they were
        # logged as observations, with a warning per test in every run.
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_source_tests_as_checks=True
            )
        )
        if shared_code is not None:
            self.__dict__["shared_code"] = shared_code

    @cached_property
    def shared_code(self) -> str:
        """The project's `shared_code_version`, from the manifest the assets are built from."""
        return shared_code_version(load_manifest(), DBT_PROJECT_DIR / "dbt_project.yml")

    def get_code_version(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        own = super().get_code_version(dbt_resource_props)
        if own is None or dbt_resource_props.get("resource_type") != "model":
            return own  # a seed is its file's checksum: no macro renders it
        return hashlib.sha256(f"{own}\0{self.shared_code}".encode()).hexdigest()

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: Any,
    ) -> dg.AssetCheckSpec | None:
        """dagster-dbt's check for the test, described in words (`check_descriptions`)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        description = describe_dbt_test(manifest["nodes"].get(unique_id) or {})
        return spec._replace(description=description) if description else spec


TRANSLATOR = MedspaDbtTranslator()
