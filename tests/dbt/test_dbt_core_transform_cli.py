"""`medspa transform` refuses clearly when there is nothing to transform (its dbt arguments are
tested in tests/foundation/test_dbt_invocation.py)."""

from __future__ import annotations

from pathlib import Path

from medspa.cli import build_parser
from medspa.commands.transform import run


def test_missing_warehouse_is_a_clear_error_not_a_dbt_crash(tmp_path: Path, capsys) -> None:
    parsed = build_parser().parse_args(["transform", "--data-dir", str(tmp_path)])
    assert run(parsed) == 2
    assert "medspa ingest" in capsys.readouterr().out
