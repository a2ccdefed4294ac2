"""Fixtures for the ingestion tests (helpers live in ingest_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def tmp_root(tmp_path: Path) -> Path:
    """A scratch root with an empty landing folder; the warehouse goes to <root>/data."""
    (tmp_path / "landing").mkdir()
    return tmp_path
