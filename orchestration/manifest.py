"""`python -m orchestration.manifest`: build dbt's manifest ahead of time (`make manifest`).

Dagster reads `dbt_project/target/manifest.json` when the definitions load; parsing dbt there
would cost seconds on every load of the code location. When it is missing (right after
`make install`), `ensure_manifest()` builds it once on first use with a one-line notice, as
dagster-dbt's `prepare_if_dev` does, so `medspa run` and `dagster dev` work on a fresh clone.
The parse runs with exactly the environment of runs (`medspa.dbt_invocation`), so the
`partial_parse.msgpack` written beside it stays valid and runs skip parsing too.
"""

from __future__ import annotations

import fcntl
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


def ensure_manifest(manifest_path: Path = MANIFEST_PATH) -> Path:
    """The manifest, built first (with a notice on stderr) when it does not exist yet.

    A lock beside it keeps concurrent first uses (test workers, a CLI run beside `dagster dev`)
    from parsing twice or reading a half-written file.
    """
    if manifest_path.exists():
        return manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest_path.parent / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest_path.exists():
            print(
                f"dbt manifest missing: building {manifest_path} once (dbt parse)...",
                file=sys.stderr,
                flush=True,
            )
            build_manifest(target_dir=manifest_path.parent)
    return manifest_path


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
