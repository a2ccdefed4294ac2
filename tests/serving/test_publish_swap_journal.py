"""A publish killed between the swaps of its files is finished by the next run.

`serving.duckdb`, its row hashes and `scorecard.duckdb` are swapped in one after another; a
process killed between two swaps (here: a child process that `os._exit`s at the chosen swap,
as `kill -9` would stop it) left today's marts beside yesterday's scorecard. The journal
written before the first swap lets the next run finish the swaps (`finish_swaps`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_publish_serving import RELATIONS, _ops, warehouse  # noqa: F401 (a fixture)

from serving import publish
from serving.scorecard_file import scorecard_path
from serving.swap_journal import SwapJournalError, finish_swaps, journal_path

#: Publishes as run2, dying (exit 9, no clean-up) when it is about to replace the file named.
_KILLED_PUBLISH = """
import datetime as dt, os, sys
from pathlib import Path
from serving import publish
warehouse, serving, die_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
real_replace = os.replace
def replace(src, dst):
    if Path(dst).name == die_at:
        os._exit(9)
    real_replace(src, dst)
os.replace = replace
at = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
row = ("run2", at, at, 1, 1, 0, 0, "published", None, False)
ops = publish.OpsData(check_results=[], run_log_row=row)
marts = [publish.MartRelation("marts", name) for name in ("kpi_scorecard", "kpi_targets")]
publish.publish(warehouse, serving, "run2", marts, ops)
"""


def _nps(path: Path) -> float:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select value from marts.kpi_scorecard where kpi = 'nps'").fetchone()[0]
    finally:
        con.close()


def _killed_publish(warehouse_path: Path, serving: Path, die_at: str) -> None:
    """Publish run1 whole, change the marts (nps 40 -> 55), then a run2 killed at `die_at`."""
    publish.publish(warehouse_path, serving, "run1", RELATIONS, _ops("run1"))
    con = duckdb.connect(str(warehouse_path))
    con.execute("update marts.kpi_scorecard set value = 55.0 where kpi = 'nps'")
    con.close()
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_PUBLISH, str(warehouse_path), str(serving), die_at],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 9, child.stderr


def test_a_publish_killed_between_its_swaps_is_finished_by_the_next_run(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    serving = tmp_path / "serving.duckdb"
    _killed_publish(warehouse, serving, die_at="scorecard.duckdb")
    # What the kill left: today's marts beside yesterday's scorecard.
    assert (_nps(serving), _nps(scorecard_path(serving))) == (55.0, 40.0)
    assert json.loads(journal_path(serving).read_text())["run_id"] == "run2"

    assert finish_swaps(serving) == [scorecard_path(serving)]

    assert (_nps(serving), _nps(scorecard_path(serving))) == (55.0, 55.0)
    assert not journal_path(serving).exists()
    assert publish.remove_leftovers(serving) == []  # every file of run2 was swapped in
    assert finish_swaps(serving) == []  # nothing left to finish


def test_a_publish_killed_before_its_journal_leaves_the_previous_files_whole(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    serving = tmp_path / "serving.duckdb"
    _killed_publish(warehouse, serving, die_at=journal_path(serving).name)

    assert finish_swaps(serving) == []
    removed = {p.name for p in publish.remove_leftovers(serving)}
    # run2's built files and its half-written journal go; run1's files stay, consistent.
    assert {"serving.duckdb.tmp-run2", "scorecard.duckdb.tmp-run2"} <= removed
    assert "serving.duckdb.tmp-run2.swapping" in removed
    assert (_nps(serving), _nps(scorecard_path(serving))) == (40.0, 40.0)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"version": 1, "run_id": "r", "swaps": [["../x", "serving.duckdb"]]}, "outside"),
        ({"version": 1, "run_id": "r", "swaps": [["a", "/etc/passwd"]]}, "outside"),
        ({"version": 1, "run_id": "r", "swaps": [["a", ".."]]}, "outside"),
        ({"version": 2, "run_id": "r", "swaps": []}, "version 2"),
        ("not json", "not a publish journal"),
    ],
)
def test_a_journal_that_cannot_be_trusted_is_refused_and_nothing_moves(
    tmp_path: Path, record: object, message: str
) -> None:
    serving = tmp_path / "serving.duckdb"
    serving.write_text("published")
    (tmp_path / "a").write_text("built")
    text = record if isinstance(record, str) else json.dumps(record)
    journal_path(serving).write_text(text)

    with pytest.raises(SwapJournalError, match=message):
        finish_swaps(serving)

    assert serving.read_text() == "published" and (tmp_path / "a").exists()
    assert journal_path(serving).exists()  # left for a person to look at


def test_a_publish_interrupted_between_its_swaps_finishes_them_itself(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C (or SIGTERM) raising between two swaps used to let the publish's clean-up delete
    the built files the journal still listed: today's marts beside yesterday's scorecard."""
    from serving import swap_journal

    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"))
    con = duckdb.connect(str(warehouse))
    con.execute("update marts.kpi_scorecard set value = 55.0 where kpi = 'nps'")
    con.close()
    real_replace = swap_journal.os.replace
    interrupted: list[str] = []

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)).name == "scorecard.duckdb" and not interrupted:
            interrupted.append(str(dst))
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(swap_journal.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        publish.publish(warehouse, serving, "run2", RELATIONS, _ops("run2"))

    assert interrupted
    assert (_nps(serving), _nps(scorecard_path(serving))) == (55.0, 55.0)
    assert not journal_path(serving).exists()
    assert publish.remove_leftovers(serving) == []
