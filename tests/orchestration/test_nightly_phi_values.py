"""After a real nightly run, no file under the data directory holds a PHI value.

Column names are not enough (a name copied into a log line has no column): this reads the
PHI values the landing folder delivered (every `phi: true` column of the contract, plus the
raw patient and lead ids) and searches every file the run wrote for them: serving.duckdb
(its cells, not only its bytes), the site, logs, kept quality results, Dagster storage and
dbt's target folders. Only the raw layer may hold PHI: warehouse.duckdb is allowed to, and
dlt's working folder `.dlt/` is checked by its own test below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from phi_values import collect, find, scan

pytestmark = pytest.mark.xdist_group("e2e")

#: The raw layer: the one place PHI may live.
RAW_LAYER = ("warehouse.duckdb", "warehouse.duckdb.wal")
#: dlt's pipeline working folder (load packages): scanned with the rest, and on its own.
DLT_DIR = ".dlt"


@pytest.fixture(scope="module")
def phi(demo_landing):
    return collect(demo_landing)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _outside_raw(data_dir: Path) -> list[Path]:
    return [p for p in _files(data_dir) if p.name not in RAW_LAYER]


def test_phi_values_come_from_every_phi_column_of_the_contract(phi):
    from ingestion.contract import load_contract

    marked = {f"{t.qualified_name}.{c}" for t in load_contract().tables for c in t.phi_columns}
    assert set(phi.columns) == marked
    assert {"pms.patients.email", "crm.leads.phone", "messaging.messages.body"} <= marked
    assert phi.emails and phi.phones and phi.dates and phi.full_names and phi.ids
    assert len(phi) > 1000


def test_the_scanner_finds_every_kind_in_the_landing_files(phi, demo_landing):
    """The search works: the delivered files themselves are full of the values it looks for."""
    found: dict[str, int] = {}
    for path in _files(demo_landing):
        for kind, n in find(phi, path.read_bytes().decode("utf-8", errors="ignore")).items():
            found[kind] = found.get(kind, 0) + n
    # gzip'd extracts (reviews) are covered by scan(); plain ones hold every other kind
    assert set(found) == {"email", "phone", "date_of_birth", "full_name", "whole_value", "raw_id"}


def test_the_scanner_reads_duckdb_cells_not_only_bytes(phi, happy_run):
    """A positive control on a DuckDB file: the raw layer holds PHI and the scan sees it."""
    raw = ("raw_pms", "raw_crm", "raw_reviews")
    found = scan(phi, [happy_run.warehouse], happy_run.data_dir, schemas=raw)
    kinds = {kind for hits in found.values() for kind in hits}
    assert {"email", "phone", "date_of_birth", "full_name", "whole_value", "raw_id"} <= kinds
    assert any("::raw_pms.patients" in where for where in found)


def test_no_file_outside_the_raw_layer_holds_a_phi_value(phi, happy_run):
    assert happy_run.summary.success, happy_run.summary.to_text()
    files = _outside_raw(happy_run.data_dir)
    top = {p.relative_to(happy_run.data_dir).parts[0] for p in files}
    # the scan covers what the run wrote: serving file, site, Dagster, quality, dbt artifacts
    assert {"serving.duckdb", "site", "dagster", "quality", "dbt_target"} <= top
    assert any(p.suffix == ".html" for p in files)
    assert any(p.name == "run_results.json" for p in files)
    assert scan(phi, files, happy_run.data_dir) == {}


def test_dlt_working_folder_keeps_no_phi_value_after_the_load(phi, happy_run):
    dlt_dir = happy_run.data_dir / DLT_DIR
    assert dlt_dir.is_dir()
    assert scan(phi, _files(dlt_dir), happy_run.data_dir) == {}
