"""Session fixtures for the quality tests.

GX takes ~10 s to import and ~1 s per suite, so each fixture database is validated once
(session scope) and the tests read the shared results. Tests that run GX carry
`xdist_group("quality_gx")` so one worker imports GX once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from quality.results import SuiteResult


@pytest.fixture(scope="session")
def run_and_keep(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """Run suites once per (fixture name) and keep the results and their folder."""
    cache: dict[str, tuple[dict[str, SuiteResult], Path]] = {}

    def run(name: str, build: Callable[[Path], Path], specs: list) -> tuple[dict, Path]:
        if name not in cache:
            from quality.runner import run_suites

            folder = tmp_path_factory.mktemp(name)
            db = build(folder / "warehouse.duckdb")
            results = run_suites(specs, db, folder / "results")
            cache[name] = ({r.suite: r for r in results}, folder / "results")
        return cache[name]

    return run
