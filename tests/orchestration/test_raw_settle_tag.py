"""The raw step's cut-off for files still being copied in comes from one run tag: runs that
start on their own carry it, a run a person starts does not (it takes the folder as it is)."""

import time
from pathlib import Path

import pytest

from ingestion.pipeline import IngestSettings
from orchestration.defs.raw.assets import SETTLE_TAG, _ingest_settings

BASE = IngestSettings(Path("landing"), Path("data"), Path("data/warehouse.duckdb"))


def test_without_the_tag_every_file_is_taken():
    assert _ingest_settings(BASE, {}).settled_before is None


def test_with_the_tag_files_modified_in_its_seconds_before_the_load_wait():
    before = time.time()
    settled = _ingest_settings(BASE, {SETTLE_TAG: "30"}).settled_before
    assert settled is not None and before - 30 <= settled <= time.time() - 30


def test_a_tag_that_is_no_number_fails_the_step_naming_the_tag():
    with pytest.raises(ValueError, match=SETTLE_TAG):
        _ingest_settings(BASE, {SETTLE_TAG: "soon"})
