"""A Dagster home an earlier version made gets this version's dagster.yaml, saying so.

`medspa run` used to copy dagster.yaml into the instance's home only when none was there, so a
deployment upgraded in place kept its first version's run queue, monitoring and retention for
good (`make dev` copies it every time).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medspa.commands.run import using_dagster_home
from medspa.settings import REPO_ROOT

SHIPPED = (REPO_ROOT / "dagster.yaml").read_text()


def test_a_new_home_gets_the_projects_file_quietly(tmp_path: Path, capsys) -> None:
    home = tmp_path / "dagster"
    with using_dagster_home(home):
        pass
    assert (home / "dagster.yaml").read_text() == SHIPPED
    assert capsys.readouterr().err == ""


def test_an_older_file_is_replaced_and_kept_beside(tmp_path: Path, capsys) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    older = "concurrency:\n  runs:\n    max_concurrent_runs: 2\ntelemetry:\n  enabled: false\n"
    (home / "dagster.yaml").write_text(older)

    with using_dagster_home(home):
        pass

    assert (home / "dagster.yaml").read_text() == SHIPPED
    assert (home / "dagster.yaml.before-update").read_text() == older
    err = capsys.readouterr().err
    assert "differed from this version's dagster.yaml: replaced" in err
    with using_dagster_home(home):  # the same file again: nothing to say
        pass
    assert capsys.readouterr().err == ""


def test_two_runs_refreshing_the_file_at_once_both_succeed(tmp_path: Path) -> None:
    """Two tenants' runs started together after an upgrade: each writes its own temporary
    file (a shared name made the second rename fail)."""
    from concurrent.futures import ThreadPoolExecutor

    home = tmp_path / "dagster"
    home.mkdir()

    def refresh(_: int) -> None:
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        with using_dagster_home(home):
            pass

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(refresh, range(40)))
    assert (home / "dagster.yaml").read_text() == SHIPPED
    assert sorted(p.name for p in home.iterdir()) == ["dagster.yaml", "dagster.yaml.before-update"]


@pytest.mark.parametrize("shipped_key", ["retention:", "run_monitoring:", "concurrency:"])
def test_the_shipped_file_has_what_an_upgrade_must_bring(shipped_key: str) -> None:
    assert f"\n{shipped_key}\n" in f"\n{SHIPPED}"
