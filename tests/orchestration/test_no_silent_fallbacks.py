"""Wiring fails loudly: a missing quality module, a suite for a mart that does not exist, or a
missing dbt manifest never turn into silently absent checks or a cryptic error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quality.spec import SuiteSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Loading the code location imports dagster, dagster-dbt and the manifest: slow on 2 cores.
TIMEOUT_S = 300

pytestmark = pytest.mark.xdist_group("dagster_tools")


def test_definitions_fail_to_load_when_the_quality_suites_cannot_be_imported():
    """Before, the raw checks fell back to another module and the mart checks to `[]`,
    dropping the scorecard check that guards publishing without a word."""
    code = (
        "import sys\n"
        "sys.modules['quality.suites'] = None  # any import of it raises ImportError\n"
        "import orchestration.definitions\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode != 0
    assert "import of quality.suites halted" in proc.stderr  # the ImportError itself


def test_a_mart_suite_for_a_mart_the_project_lacks_is_an_error(defs, monkeypatch):
    from orchestration.defs.marts import checks

    ghost = SuiteSpec(name="ghost", relation="marts.kpi_that_does_not_exist", expectations=())
    monkeypatch.setattr(checks, "listed_mart_suites", lambda: [ghost])
    with pytest.raises(checks.UnknownMartError, match="kpi_that_does_not_exist"):
        checks.mart_suites()


def test_every_listed_mart_suite_becomes_a_check(defs):
    from orchestration.defs.marts import checks
    from quality.suites import mart_suites

    assert [s.name for s in checks.mart_suites()] == [s.name for s in mart_suites()]
    assert any("scorecard" in s.relation for s in checks.mart_suites())


def test_missing_manifest_is_built_on_first_use_with_a_notice(defs, tmp_path, capsys):
    """Right after `make install` there is no manifest: the first load builds it."""
    from orchestration.manifest import load_manifest

    missing = tmp_path / "target" / "manifest.json"
    manifest = load_manifest(missing)
    assert missing.is_file()
    assert any(n["resource_type"] == "model" for n in manifest["nodes"].values())
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "dbt manifest missing" in notice[0]


def test_dagster_validates_from_the_repo_root_without_dagster_home(defs, tmp_path):
    """`dagster definitions validate` as a Dagster user types it: no -m, no DAGSTER_HOME."""
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MEDSPA_DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Validation successful for code location medspa" in proc.stdout + proc.stderr


def test_a_manifest_older_than_a_dbt_file_is_stale(tmp_path):
    """After a pull or an edit, runs must not map dbt's events against an old manifest."""
    from orchestration.manifest import manifest_is_current

    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "target").mkdir()
    model = project / "models" / "m.sql"
    model.write_text("select 1")
    manifest = project / "target" / "manifest.json"
    assert not manifest_is_current(manifest, project)  # missing
    manifest.write_text("{}")
    os.utime(model, (1_000, 1_000))
    os.utime(manifest, (2_000, 2_000))
    (project / "logs").mkdir()
    (project / "logs" / "dbt.log").write_text("written by dbt, not parsed")
    assert manifest_is_current(manifest, project)
    os.utime(model, (3_000, 3_000))
    assert not manifest_is_current(manifest, project)
