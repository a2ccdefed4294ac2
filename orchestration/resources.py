"""The resources every asset shares: run-time settings and the dbt CLI.

Settings are a resource with two optional fields rather than module globals, so
`medspa run --data-dir X --landing Y` and a test's temp directory reach every asset through
run config, while the schedule and sensors fall back to `MEDSPA_*` variables.
"""

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from medspa.dbt_invocation import DbtInvocation, dbt_invocation
from medspa.settings import DBT_PROJECT_DIR, Settings
from orchestration.manifest import dbt_executable


class MedspaSettings(dg.ConfigurableResource):
    """Data and landing directories of one run; None = `MEDSPA_*` env or the defaults."""

    data_dir: str | None = None
    landing_dir: str | None = None

    def settings(self) -> Settings:
        return Settings.from_env(self.data_dir, self.landing_dir)


def dbt_step_call(settings: Settings, target: Path) -> DbtInvocation:
    """The `dbt build` every Dagster dbt step runs (schedule, sensor or UI alike).

    Every dbt step pseudonymises, so each one warns when the public demo key meets non-demo
    data, and an empty or short MEDSPA_PHI_KEY raises PhiKeyError before dbt starts.
    """
    settings.warn_if_demo_key_on_real_data()
    return dbt_invocation(settings, "build", target_path=target, log_path=target)


def settings_run_config(data_dir: Path | str | None, landing_dir: Path | str | None) -> dict:
    """Run config that points every asset of a run at one data and landing directory."""
    config: dict[str, str] = {}
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    if landing_dir is not None:
        config["landing_dir"] = str(landing_dir)
    return {"resources": {"medspa": {"config": config}}}


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )


RESOURCES: dict[str, object] = {"medspa": MedspaSettings(), "dbt": dbt_resource()}
