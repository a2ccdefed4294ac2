"""A dbt step starts from the newest parse an earlier step of its data directory left, and
keeps the newest `KEEP_TARGETS` target folders, its own included."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.defs.dbt.assets import (
    KEEP_TARGETS,
    PARTIAL_PARSE,
    _make_room,
    _reuse_partial_parse,
)


def _parse(folder: Path, content: bytes, mtime: int) -> Path:
    folder.mkdir(parents=True)
    path = folder / PARTIAL_PARSE
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def test_the_newest_earlier_parse_is_copied_into_a_new_target(tmp_path: Path) -> None:
    targets = tmp_path / "dbt_target"
    _parse(targets / "dbt_build-0000", b"older", 1_000)
    _parse(targets / "dbt_build-aaaa", b"newest", 2_000)
    target = targets / "dbt_build-bbbb"
    _reuse_partial_parse(targets, target)
    assert (target / PARTIAL_PARSE).read_bytes() == b"newest"


def test_a_target_that_has_its_own_parse_keeps_it(tmp_path: Path) -> None:
    targets = tmp_path / "dbt_target"
    _parse(targets / "dbt_build-aaaa", b"earlier", 2_000)
    own = _parse(targets / "dbt_build-bbbb", b"own", 1_000)
    _reuse_partial_parse(targets, own.parent)
    assert own.read_bytes() == b"own"


def test_a_first_run_has_nothing_to_reuse(tmp_path: Path) -> None:
    targets = tmp_path / "dbt_target"
    _reuse_partial_parse(targets, targets / "dbt_build-aaaa")
    assert not targets.exists()
    targets.mkdir()
    _reuse_partial_parse(targets, targets / "dbt_build-aaaa")
    assert not (targets / "dbt_build-aaaa").exists()


def test_a_step_keeps_the_newest_earlier_targets_and_its_own(tmp_path: Path) -> None:
    """Eight earlier runs, then a new step: it keeps the newest five earlier folders (whose
    parse it reuses) and its own, six in all."""
    targets = tmp_path / "dbt_target"
    for i in range(8):
        _parse(targets / f"dbt_build-{i:04d}", b"parse", 1_000 + i)
        os.utime(targets / f"dbt_build-{i:04d}", (1_000 + i, 1_000 + i))
    target = targets / "dbt_build-new0"
    _make_room(targets, target, keep=KEEP_TARGETS)
    _reuse_partial_parse(targets, target)
    kept = sorted(p.name for p in targets.iterdir())
    assert kept == [f"dbt_build-{i:04d}" for i in range(3, 8)] + ["dbt_build-new0"]
    assert len(kept) == KEEP_TARGETS == 6
    # a retried attempt of the same step finds its own folder there: it stays, six in all
    _make_room(targets, target, keep=KEEP_TARGETS)
    assert len(list(targets.iterdir())) == KEEP_TARGETS
    assert target.is_dir()
