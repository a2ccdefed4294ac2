"""`results_version` (dbt_project.yml) is raised with every change that computes rows and lies
outside the models and macros.

The incremental models keep the rows earlier builds computed and rebuild whole only when what
computed them changed (macros/definitions.sql): their code, the project's macros, the dbt
version and `results_version`, which stands for the rest: profiles.yml (its session settings
and plugins), the plugins' code (the session's time zone, the pseudonymisation), and the
DuckDB and dbt-duckdb versions. A server in New York once computed other rows than one in UTC,
and the incremental models kept them after the fix (the session was pinned to UTC in
profiles.yml, which no fingerprint covered): `results_version` 2 rebuilds them.

This test holds a digest of those inputs per `results_version`. When one changes, it fails
until a person decides: raise `results_version` if the change can change a row (every
incremental model is rebuilt once on the next run, the cost of one full build), and record
the new digest under the version in `RECORDED`.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
INPUTS = ("dbt_project/profiles.yml", "medspa/dbt_session_plugin.py", "medspa/dbt_phi_plugin.py")
VERSIONS = ("duckdb", "dbt-duckdb")

#: results_version -> the digest of what computed rows outside models and macros at it.
RECORDED = {
    # profiles.yml's comment corrected (a module path): no row can change
    2: "e697a42b23374678b74c9f8647ef798adb5304c519c49f2fa2ac7d9c1b29315c",
}


def outside_inputs_digest() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(name.encode() + b"\0" + (REPO / name).read_bytes() + b"\0")
    for dist in VERSIONS:
        digest.update(f"{dist}={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def test_results_version_covers_the_current_session_settings_plugins_and_duckdb() -> None:
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    version = project["vars"]["results_version"]
    assert RECORDED.get(version) == outside_inputs_digest(), (
        f"profiles.yml, a dbt plugin or the DuckDB / dbt-duckdb version changed since "
        f"results_version {version} was recorded. If the change can change any row a model "
        "computes, raise results_version in dbt_project.yml (every incremental model is "
        "rebuilt once); either way record the digest printed here under the version in "
        f"RECORDED: {outside_inputs_digest()}"
    )
