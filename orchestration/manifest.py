"""`python -m orchestration.manifest`: build dbt's manifest ahead of time (`make manifest`).

Dagster reads `dbt_project/target/manifest.json` when the definitions load; parsing dbt there
would cost seconds on every load of the code location. When it is missing (right after
`make install`) or older than a file of the dbt project (after a pull or an edit),
`ensure_manifest()` builds it on first use with a one-line notice, as dagster-dbt's
`prepare_if_dev` does, so `medspa run` and `dagster dev` work on a fresh clone and never map
dbt's events against a stale manifest (a test the manifest does not know fails the run).
The parse runs with exactly the environment of runs (`medspa.dbt_invocation`), so the
`partial_parse.msgpack` written beside it stays valid and runs skip parsing too.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ingestion.dbt_sources import render_generated
from medspa.dbt_invocation import dbt_invocation
from medspa.settings import DBT_PROJECT_DIR, Settings

#: Where the manifest and `partial_parse.msgpack` go. dagster-dbt copies the latter into each
#: run's own target folder, so runs skip parsing as long as the environment matches.
MANIFEST_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = MANIFEST_TARGET_DIR / "manifest.json"


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv), not whichever is on PATH: its
    `medspa-dbt` launcher (`medspa.dbt_launcher`, dbt's CLI with fewer garbage collections),
    else its `dbt`."""
    for name in ("medspa-dbt", "dbt"):
        candidate = Path(sys.executable).with_name(name)
        if candidate.exists():
            return str(candidate)
    return "dbt"


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


#: Folders of the dbt project that hold what dbt writes, not what it parses.
_GENERATED = {"target", "logs", "dbt_packages"}


def manifest_is_current(manifest_path: Path, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Whether the manifest exists and is newer than every source file of the dbt project."""
    if not manifest_path.exists():
        return False
    built = manifest_path.stat().st_mtime
    for path in project_dir.rglob("*"):
        relative = path.relative_to(project_dir).parts
        if relative[0] in _GENERATED or not path.is_file():
            continue
        if path.stat().st_mtime > built:
            return False
    return True


class StaleSourcesError(RuntimeError):
    """The dbt sources no longer say what ingestion/contract.yml says."""


def refuse_stale_sources(project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Raise when a file `medspa contract sync` writes differs from what the contract gives.

    The dbt sources carry the contract's PHI marks, which the dbt test
    `assert_no_phi_columns_outside_raw` reads: with a PHI column added to the contract but not
    synced, that test passed while the column reached staging and the marts of the warehouse
    (only the publish audit stopped it, with no word of the cause). Checked before any dbt
    work, on every load of the definitions and every run: rendering them takes milliseconds.
    """
    stale = [
        path.relative_to(project_dir.parent)
        for path, text in render_generated(project_dir).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if stale:
        raise StaleSourcesError(
            "the dbt sources are stale against ingestion/contract.yml: run `medspa contract "
            f"sync` (stale: {', '.join(str(p) for p in stale)})"
        )


def ensure_manifest(manifest_path: Path = MANIFEST_PATH) -> Path:
    """The manifest, built first (with a notice on stderr) when it is missing or stale.

    Refuses first when the dbt sources are stale against the contract (`refuse_stale_sources`).
    A lock beside it keeps concurrent first uses (test workers, a CLI run beside `dagster dev`)
    from parsing twice or reading a half-written file.
    """
    refuse_stale_sources()
    if manifest_is_current(manifest_path):
        return manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest_path.parent / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest_is_current(manifest_path):
            state = "stale" if manifest_path.exists() else "missing"
            print(
                f"dbt manifest {state}: building {manifest_path} (dbt parse)...",
                file=sys.stderr,
                flush=True,
            )
            build_manifest(target_dir=manifest_path.parent)
    return manifest_path


def load_manifest(manifest_path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """The prebuilt manifest as parsed JSON (built first when missing or stale), read once per
    process: the dbt assets and the translator's code versions read the same one."""
    return _read_manifest(manifest_path)


@functools.lru_cache(maxsize=4)
def _read_manifest(manifest_path: Path) -> dict[str, Any]:
    return json.loads(ensure_manifest(manifest_path).read_text(encoding="utf-8"))


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
