"""The resources every asset shares: run-time settings and the dbt CLI.

Settings are a resource with two optional fields rather than module globals, so
`medspa run --data-dir X --landing Y` and a test's temp directory reach every asset through
run config, while the schedule and sensors fall back to `MEDSPA_*` variables.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from medspa.settings import DBT_PROJECT_DIR, Settings
from orchestration.manifest import dbt_executable


class MedspaSettings(dg.ConfigurableResource):
    """Data and landing directories of one run; None = `MEDSPA_*` env or the defaults."""

    data_dir: str | None = None
    landing_dir: str | None = None

    def settings(self) -> Settings:
        return Settings.from_env(self.data_dir, self.landing_dir)


def settings_run_config(data_dir: Path | str | None, landing_dir: Path | str | None) -> dict:
    """Run config that points every asset of a run at one data and landing directory."""
    config: dict[str, str] = {}
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    if landing_dir is not None:
        config["landing_dir"] = str(landing_dir)
    return {"resources": {"medspa": {"config": config}}}


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """Process env set to `Settings.dbt_env()` while a dbt subprocess is started.

    dagster-dbt builds the subprocess env from `os.environ`; parse (`make manifest`) and run must
    see the same variables or dbt re-parses. Restored afterwards so runs in one process (tests,
    `medspa run`) do not leak one data directory into the next.
    """
    wanted = settings.dbt_env()  # PhiKeyError for an empty or short MEDSPA_PHI_KEY
    # Every dbt step pseudonymises: the schedule, the sensor and the UI warn like `medspa run`.
    settings.warn_if_demo_key_on_real_data()
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )


RESOURCES: dict[str, object] = {"medspa": MedspaSettings(), "dbt": dbt_resource()}
