"""A dbt step starts from the newest parse an earlier step of its data directory left."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.defs.dbt.assets import PARTIAL_PARSE, _reuse_partial_parse


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
