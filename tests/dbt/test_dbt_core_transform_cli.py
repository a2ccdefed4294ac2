"""`medspa transform` hands dbt the project, the settings' paths and the caller's options."""

from __future__ import annotations

from pathlib import Path

from medspa.cli import build_parser
from medspa.commands.transform import build_args, run
from medspa.settings import DBT_PROJECT_DIR, Settings


def test_build_args_carry_project_selection_and_full_refresh(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=tmp_path)
    args = build_args(settings, full_refresh=True, select=["+kpi_rooms", "dim_date"])
    assert args[0] == "build"
    assert args[args.index("--project-dir") + 1] == str(DBT_PROJECT_DIR)
    assert args[args.index("--target-path") + 1] == str(tmp_path / "dbt_target")
    assert "--full-refresh" in args
    assert args[args.index("--select") + 1 :][:2] == ["+kpi_rooms", "dim_date"]


def test_plain_build_selects_everything_incrementally(tmp_path: Path) -> None:
    args = build_args(Settings.from_env(data_dir=tmp_path))
    assert "--full-refresh" not in args
    assert "--select" not in args


def test_missing_warehouse_is_a_clear_error_not_a_dbt_crash(tmp_path: Path, capsys) -> None:
    parsed = build_parser().parse_args(["transform", "--data-dir", str(tmp_path)])
    assert run(parsed) == 2
    assert "medspa ingest" in capsys.readouterr().out
