"""dbt never runs on sources that no longer say what the landing contract says.

A PHI column added to `ingestion/contract.yml` without `medspa contract sync` left the dbt
sources without its PHI mark: the dbt test that keeps PHI in the raw layer reads that mark,
so it passed while the column reached staging and the marts. Loading the manifest (every
load of the Dagster definitions, every run) now refuses first, naming the stale file and the
command that fixes it.
"""

from __future__ import annotations

import pytest

from ingestion.dbt_sources import sync_sources
from orchestration.manifest import StaleSourcesError, refuse_stale_sources


def test_synced_sources_pass_and_an_edited_one_is_refused(tmp_path):
    project = tmp_path / "dbt_project"
    assert sync_sources(project)  # what `medspa contract sync` writes
    refuse_stale_sources(project)
    sources = project / "models" / "staging" / "pms" / "_pms__sources.yml"
    # the contract marks first_name as PHI; a sources file from before the mark lacks it
    text = sources.read_text(encoding="utf-8")
    assert "phi: true" in text
    sources.write_text(text.replace("phi: true", "phi: false", 1), encoding="utf-8")
    with pytest.raises(StaleSourcesError, match=r"run `medspa contract sync`.*_pms__sources\.yml"):
        refuse_stale_sources(project)


def test_the_projects_own_sources_are_current():
    refuse_stale_sources()
