"""`python -m orchestration.manifest`: build dbt's manifest ahead of time (`make manifest`).

Dagster reads `dbt_project/target/manifest.json` when the definitions load; parsing dbt there
would cost seconds on every load of the code location. The parse runs with exactly the
environment of runs (`medspa.dbt_invocation`), so the `partial_parse.msgpack` written beside it
stays valid and runs skip parsing too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from medspa.dbt_invocation import dbt_invocation
from medspa.settings import DBT_PROJECT_DIR, Settings

#: Where the manifest and `partial_parse.msgpack` go. dagster-dbt copies the latter into each
#: run's own target folder, so runs skip parsing as long as the environment matches.
MANIFEST_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = MANIFEST_TARGET_DIR / "manifest.json"


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv), not whichever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def build_manifest(
    settings: Settings | None = None, target_dir: Path = MANIFEST_TARGET_DIR
) -> Path:
    """Run `dbt parse` into `target_dir`; return the manifest path or raise with dbt's output."""
    settings = settings or Settings.from_env()
    call = dbt_invocation(settings, "parse", target_path=target_dir, log_path=target_dir)
    env = {**os.environ, **call.env}
    if (DBT_PROJECT_DIR / "packages.yml").exists():
        _run([dbt_executable(), "deps"], env)
    _run([dbt_executable(), *call.args], env)
    manifest = target_dir / "manifest.json"
    if not manifest.exists():
        raise RuntimeError(f"dbt parse finished but wrote no {manifest}")
    return manifest


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd[1:])}` failed:\n{proc.stdout[-4000:]}{proc.stderr}")


def main() -> int:
    path = build_manifest()
    print(f"dbt manifest: {path.relative_to(DBT_PROJECT_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
