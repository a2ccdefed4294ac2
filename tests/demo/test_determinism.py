"""Same seed, same bytes: the demo chain never depends on the wall clock or on chance."""

from __future__ import annotations

import hashlib
from pathlib import Path

from demo.config import DEFAULT_END_DATE, ChainConfig


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_writes_byte_identical_files(snapshot_chain, same_seed_chain):
    first, again = _digests(snapshot_chain[0]), _digests(same_seed_chain)
    assert len(first) == 23  # 22 tables + the marker
    assert first == again


def test_default_end_date_is_fixed_not_today():
    cfg = ChainConfig.build("small")
    assert cfg.end_date == DEFAULT_END_DATE
    assert ChainConfig.build("small") == cfg


def test_scales_set_locations_and_years_and_overrides_win():
    medium = ChainConfig.build("medium")
    assert (medium.locations, (medium.end_date - medium.start_date).days) == (5, 1096)
    custom = ChainConfig.build("large", locations=2, years=1)
    assert (custom.locations, (custom.end_date - custom.start_date).days) == (2, 365)
