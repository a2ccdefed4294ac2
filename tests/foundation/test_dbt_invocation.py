"""One builder of dbt's arguments and environment, for the CLI, Dagster and the manifest."""

from __future__ import annotations

import ast
import os
from dataclasses import replace
from pathlib import Path

from medspa.dbt_invocation import dbt_environment, dbt_invocation
from medspa.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, landing_dir=tmp_path / "landing", phi_key="k" * 32)


def test_build_args_carry_project_paths_selection_and_full_refresh(tmp_path: Path) -> None:
    call = dbt_invocation(
        _settings(tmp_path), "build", full_refresh=True, select=["+kpi_rooms", "dim_date"]
    )
    args = call.args
    assert args[0] == "build"
    assert args[args.index("--project-dir") + 1] == str(DBT_PROJECT_DIR)
    assert args[args.index("--profiles-dir") + 1] == str(DBT_PROJECT_DIR)
    assert args[args.index("--target-path") + 1] == str(tmp_path / "dbt_target")
    assert args[args.index("--log-path") + 1] == str(tmp_path / "dbt_logs")
    assert "--full-refresh" in args
    assert args[args.index("--select") + 1 :] == ["+kpi_rooms", "dim_date"]


def test_plain_build_selects_everything_incrementally(tmp_path: Path) -> None:
    args = dbt_invocation(_settings(tmp_path)).args
    assert args[0] == "build"
    assert "--full-refresh" not in args and "--select" not in args


def test_parse_and_build_see_the_same_environment(tmp_path: Path) -> None:
    """dbt re-parses when parse and run differ: the environment depends on the settings only."""
    settings = _settings(tmp_path)
    parse = dbt_invocation(settings, "parse", target_path=tmp_path / "t")
    build = dbt_invocation(settings, "build", target_path=tmp_path / "u", select=["x"])
    assert parse.env == build.env
    assert parse.env["MEDSPA_WAREHOUSE_PATH"] == str(tmp_path / "warehouse.duckdb")
    assert parse.env["MEDSPA_PHI_KEY"] == "k" * 32
    assert parse.env["DBT_PROFILES_DIR"] == str(DBT_PROJECT_DIR)


def test_dbt_gets_the_loaders_duckdb_limits(tmp_path: Path) -> None:
    """profiles.yml hands these to DuckDB: dbt spills instead of taking 80 % of RAM."""
    settings = replace(_settings(tmp_path), duckdb_memory_limit="3GB", duckdb_threads=1)
    env = dbt_invocation(settings).env
    assert env["MEDSPA_DUCKDB_MEMORY_LIMIT"] == "3GB"
    assert env["MEDSPA_DUCKDB_THREADS"] == "1"
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    for variable in ("MEDSPA_DUCKDB_MEMORY_LIMIT", "MEDSPA_DUCKDB_THREADS"):
        assert f"env_var('{variable}'" in profile
    # given once when the database opens, not re-applied per cursor (dbt-duckdb `settings`);
    # DuckDB refuses a temp_directory switch once a spill used it (that failed the large
    # chain's dbt build).
    assert "settings:" not in profile
    assert "temp_directory" not in profile.split("config_options:")[1]


def test_environment_is_restored_after_the_call(monkeypatch) -> None:
    monkeypatch.setenv("MEDSPA_PHI_KEY", "before")
    monkeypatch.delenv("MEDSPA_WAREHOUSE_PATH", raising=False)
    with dbt_environment({"MEDSPA_PHI_KEY": "during", "MEDSPA_WAREHOUSE_PATH": "/w"}):
        assert os.environ["MEDSPA_PHI_KEY"] == "during"
    assert os.environ["MEDSPA_PHI_KEY"] == "before"
    assert "MEDSPA_WAREHOUSE_PATH" not in os.environ


def test_no_other_module_builds_dbt_arguments_or_environment() -> None:
    """Every caller of dbt goes through medspa.dbt_invocation: nobody else names the
    variables profiles.yml reads or passes `--project-dir` itself."""
    offenders = []
    for path in REPO_ROOT.glob("*/**/*.py"):
        rel = path.relative_to(REPO_ROOT)
        if rel.parts[0] in {".venv", "tests", "data", "dbt_project"} or rel == Path(
            "medspa/dbt_invocation.py"
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in {
                "MEDSPA_WAREHOUSE_PATH",
                "--project-dir",
                "--profiles-dir",
            }:
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def test_dagster_dbt_steps_build_data_tests_but_leave_unit_tests_to_ci(tmp_path: Path) -> None:
    """The nightly's `dbt build` skips unit tests (code checks, run by `make test`) only."""
    from orchestration.resources import dbt_step_call

    args = dbt_step_call(_settings(tmp_path), tmp_path / "target").args
    assert args[0] == "build"
    excluded = args[args.index("--exclude-resource-type") + 1 :]
    assert excluded == ["unit_test"]
    # The plain invocation (CLI, tests' built warehouse) still builds every resource type.
    assert "--exclude-resource-type" not in dbt_invocation(_settings(tmp_path)).args


def test_dbts_spill_folder_is_owner_only_before_dbt_starts(tmp_path: Path) -> None:
    """dbt's DuckDB spills beside the warehouse (`<warehouse>.tmp`); a spill holds what a query
    held, raw PHI included. Dagster's dbt steps create it 0700 first, and make an existing
    folder (created under the umask by an older version) owner-only too."""
    from orchestration.resources import dbt_step_call

    settings = _settings(tmp_path)
    spill = tmp_path / "warehouse.duckdb.tmp"
    spill.mkdir(mode=0o755)
    spill.chmod(0o755)
    dbt_step_call(settings, tmp_path / "target")
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert spill.stat().st_mode & 0o777 == 0o700
