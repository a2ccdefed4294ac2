"""The dbt CLI resource without the fixed costs dagster-dbt pays before every dbt step.

Before it starts `dbt build`, dagster-dbt's `DbtCliResource.cli` does two things in the
Dagster process:
- once per resource instance, it runs `dbt --version` in a subprocess to learn which dbt it
  talks to (a whole Python start-up and dbt import: about 2 s on a 2-core machine);
- on every step, it loads the dbt project, the profile and dbt's base macros to build a dbt
  adapter (0.5-1.5 s of CPU), whose only use is fetching column metadata and row counts after
  a model is built (`fetch_column_metadata()`, `fetch_row_counts()`).
At large, a nightly's first dbt step started dbt 6.3 s after the step began, 2.3 s with this
resource; the second 2.4 s, now 1.8 s.

The project's dbt is the one installed beside this interpreter (`orchestration.manifest.
dbt_executable`), so its version is the installed dbt-core's; and the dbt steps fetch neither
column metadata nor row counts, so no adapter is needed (dagster-dbt then attaches nothing,
as it does for dbt Fusion). Any other executable still gets asked for its version.
"""

import sys
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version


def is_interpreters_dbt(executable: str) -> bool:
    """Whether `executable` is the dbt installed beside this interpreter (same dbt-core), or
    the project's launcher of it there (`medspa-dbt`)."""
    here = Path(sys.executable)
    return Path(executable) in (here.with_name("dbt"), here.with_name("medspa-dbt"))


class MedspaDbtCliResource(DbtCliResource):
    """`DbtCliResource` that neither asks dbt for its version nor builds an adapter."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if is_interpreters_dbt(self.dbt_executable):
            return version.parse(installed_version("dbt-core"))
        return DbtCliResource._cli_version.func(self)  # type: ignore[attr-defined]

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        """No adapter: only column metadata and row counts use it, and no step fetches them."""
        return None
