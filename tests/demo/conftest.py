"""Session fixtures: a few tiny demo chains (one location, ~4 months) shared by all tests.

Generating takes seconds, so each chain is written once per session and the tests only read.
Every test in this folder runs in the `generator` xdist group to share them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from demo.config import ChainConfig
from demo.run import Report, advance, generate, write_snapshot

END = dt.date(2026, 11, 15)
ADVANCE_DAYS = 3


def tiny_config(seed: int = 7) -> ChainConfig:
    return ChainConfig.build("small", seed=seed, end_date=END, years=0.25)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/demo" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("generator"))


@pytest.fixture(scope="session")
def chain_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generator")


@pytest.fixture(scope="session")
def snapshot_chain(chain_root: Path) -> tuple[Path, Report]:
    """The first full snapshot of the tiny chain."""
    out = chain_root / "first"
    return out, generate(out, tiny_config())


@pytest.fixture(scope="session")
def same_seed_chain(chain_root: Path) -> Path:
    out = chain_root / "again"
    generate(out, tiny_config())
    return out


@pytest.fixture(scope="session")
def advanced_chain(chain_root: Path, snapshot_chain: tuple[Path, Report]) -> tuple[Path, Report]:
    """A copy of the first chain continued by ADVANCE_DAYS nightly deltas."""
    out = chain_root / "advanced"
    shutil.copytree(snapshot_chain[0], out)
    return out, advance(out, ADVANCE_DAYS)


@pytest.fixture(scope="session")
def later_snapshot(chain_root: Path) -> Path:
    """The same chain's full snapshot as of the last delta's day, written in one go."""
    out = chain_root / "later"
    cfg = tiny_config()
    write_snapshot(out, cfg, cfg.end_day + ADVANCE_DAYS)
    return out


@pytest.fixture(scope="session")
def defect_chain(chain_root: Path) -> tuple[Path, Report]:
    out = chain_root / "defects"
    return out, generate(out, tiny_config(), inject_bad_rows=0.02)
