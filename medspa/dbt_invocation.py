"""How dbt is called: its arguments and environment, built in one place for every caller.

`medspa transform` (in-process through dbtRunner), the Dagster dbt assets (dagster-dbt's
subprocess), the manifest build (`dbt parse`) and the benchmarks all run the same project
against the same warehouse. profiles.yml reads `MEDSPA_WAREHOUSE_PATH` and `MEDSPA_PHI_KEY`, and
dbt re-parses the whole project when parse and run see different values, so the arguments and
the environment have one definition: `dbt_invocation()`, a pure function of the settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medspa.settings import DBT_PROJECT_DIR, Settings, resolve_phi_key
from safeio.private import private_dir


@dataclass(frozen=True)
class DbtInvocation:
    """A dbt command line (without the executable) and the environment it must run with."""

    args: list[str]
    env: dict[str, str]


def dbt_env(settings: Settings) -> dict[str, str]:
    """Variables dbt needs (profiles.yml reads them); identical for parse and run.

    Raises PhiKeyError for an empty or short key: every dbt run pseudonymises.
    The DuckDB limits are the loader's (`Settings.duckdb_limits`): without them dbt's
    connection took DuckDB's default of 80 % of RAM, and the large chain's dbt steps peaked
    at 15 GB; with them DuckDB spills beside the warehouse file instead.
    """
    limits = settings.duckdb_limits()
    return {
        "MEDSPA_WAREHOUSE_PATH": str(settings.warehouse_path),
        "MEDSPA_DUCKDB_MEMORY_LIMIT": limits.memory_limit,
        "MEDSPA_DUCKDB_THREADS": str(limits.threads),
        "MEDSPA_PHI_KEY": resolve_phi_key(settings.phi_key),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dbt.log at debug level formats every statement of every model (~1 s CPU a run);
        # `--log-level-file debug` on the command line still wins when chasing a problem.
        "DBT_LOG_LEVEL_FILE": "info",
        # Plain text in dbt.log: Dagster reads dbt's JSON events from stdout, and a second JSON
        # rendering of every event for the file (protobuf to dict, secret scrubbing, dumps) cost
        # about 1 s of a large nightly's dbt process; text without colour codes is also what a
        # person reads there.
        "DBT_LOG_FORMAT_FILE": "text",
        "DBT_USE_COLORS": "false",
    }


def private_spill_dir(settings: Settings) -> Path:
    """Create DuckDB's spill folder for the warehouse (`<warehouse>.tmp`, where dbt's DuckDB
    spills: it sets no `temp_directory`) owner-only, before dbt opens the file.

    A spill holds whatever a query held, raw PHI included, and DuckDB would create the folder
    under the process umask (0755). Every caller that runs dbt against the warehouse calls
    this first; an existing folder is made owner-only too.
    """
    return private_dir(settings.warehouse_path.with_name(settings.warehouse_path.name + ".tmp"))


def dbt_invocation(
    settings: Settings,
    command: str = "build",
    *,
    target_path: Path | None = None,
    log_path: Path | None = None,
    full_refresh: bool = False,
    select: Sequence[str] | None = None,
    exclude_resource_types: Sequence[str] = (),
) -> DbtInvocation:
    """`dbt <command>` against the project, writing artifacts under the data directory.

    `target_path` defaults to `<data-dir>/dbt_target` and `log_path` to `<data-dir>/dbt_logs`,
    so nothing a run writes lands in the repository.
    """
    args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path or settings.data_dir / "dbt_target"),
        "--log-path",
        str(log_path or settings.data_dir / "dbt_logs"),
    ]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    if exclude_resource_types:
        args += ["--exclude-resource-type", *exclude_resource_types]
    return DbtInvocation(args=args, env=dbt_env(settings))


@contextmanager
def dbt_environment(values: Mapping[str, str]) -> Iterator[None]:
    """The process environment updated with `values` while dbt starts, restored afterwards.

    dbtRunner (in-process) and dagster-dbt (which copies `os.environ` into its subprocess) both
    read the process environment; restoring it keeps one run's data directory from leaking
    into the next run of the same process (tests, `medspa run`).
    """
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
