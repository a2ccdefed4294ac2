"""dlt lands the winners with SQL run inside DuckDB, stamped with dlt's load id.

The loader's speed rests on the rows never leaving DuckDB: dlt gets a SQL model job that
selects the staged winners, and its loader runs it as `INSERT ... SELECT`. Were a table
handed over as rows or files instead (arrow, JSON lines, Parquet), dlt's normalisers would
copy every row through Python or a file again. These tests fail on that, not on a timing.
"""

from __future__ import annotations

import shutil

import pytest
from dlt.normalize.items_normalizers.arrow import ArrowItemsNormalizer
from dlt.normalize.items_normalizers.file_import import FileImportNormalizer
from dlt.normalize.items_normalizers.jsonl import JsonLItemsNormalizer
from dlt.normalize.items_normalizers.model import ModelItemsNormalizer
from ingest_fixtures import csv_text, header, location, query, settings_for, write, write_required

from ingestion import system_load
from ingestion.dlt_load import load_system
from ingestion.pipeline import ingest
from ingestion.stage import STAGE

pytestmark = pytest.mark.xdist_group("ingest_dlt_import")


@pytest.fixture
def no_rewrite(monkeypatch):
    """Fail the load if dlt normalises a table from rows or a data file; list the SQL models."""
    modelled: list[str] = []
    originals = {
        n: n.__call__ for n in (ArrowItemsNormalizer, JsonLItemsNormalizer, FileImportNormalizer)
    }
    original = ModelItemsNormalizer.__call__

    def refuse(self, extracted_items_file, root_table_name):
        if not root_table_name.startswith("_dlt"):  # dlt's own state rows are its business
            raise AssertionError(f"dlt got {root_table_name} as rows or a file, not as SQL")
        return originals[type(self)](self, extracted_items_file, root_table_name)

    def model(self, extracted_items_file, root_table_name):
        modelled.append(root_table_name)
        return original(self, extracted_items_file, root_table_name)

    for normaliser in (ArrowItemsNormalizer, JsonLItemsNormalizer, FileImportNormalizer):
        monkeypatch.setattr(normaliser, "__call__", refuse)
    monkeypatch.setattr(ModelItemsNormalizer, "__call__", model)
    return modelled


def test_first_load_and_delta_with_drift_are_imported_unchanged(tmp_root, no_rewrite):
    write_required(tmp_root / "landing")
    settings = settings_for(tmp_root)
    first = ingest(settings)
    assert first.ok, first.errors
    # A delta that updates a stored key (dlt merges) and carries a drift column: dlt adds the
    # column to its schema at the end, where the file has it.
    write(
        tmp_root / "landing",
        "pms/locations/2026-11-21.csv",
        csv_text(
            [*header("pms.locations"), "region"],
            [
                {**location("L1", "Glow One B", "2026-11-02T00:00:00Z"), "region": "west"},
                {**location("L2", "Glow Two", "2026-11-02T00:00:00Z"), "region": "east"},
            ],
        ),
    )
    delta = ingest(settings)
    assert delta.ok, delta.errors
    # Both loads handed every table over as SQL: the first load's two, the delta's one.
    assert sorted(no_rewrite) == ["appointments", "locations", "locations"]
    rows = query(
        settings,
        "select location_id, name, region, _extract_id, _source_row, _dlt_load_id "
        "from raw_pms.locations order by location_id",
    )
    load_id = delta.dlt_load_ids["pms"]
    assert rows == [
        ("L1", "Glow One B", "west", "2026-11-21", 1, load_id),
        ("L2", "Glow Two", "east", "2026-11-21", 2, load_id),
    ]
    # The appointment was not in the delta: still stamped with the first load.
    assert query(settings, "select _dlt_load_id from raw_pms.appointments") == [
        (first.dlt_load_ids["pms"],)
    ]


def test_no_copy_of_the_rows_is_left_in_dlts_folder_or_the_stage(tmp_root, monkeypatch):
    staged_after_load: list[int] = []
    read_in_place: list[list[tuple[str, bool]]] = []

    def load_and_look(con, pipelines_dir, system, staged, row_stamp):
        read_in_place.append(sorted((entry.table.name, entry.is_view) for entry in staged))
        load_id = load_system(con, pipelines_dir, system, staged, row_stamp)
        staged_after_load.append(
            con.execute(
                "select (select count(*) from duckdb_tables() where database_name = $1)"
                " + (select count(*) from duckdb_views() where database_name = $1)",
                [STAGE],
            ).fetchone()[0]
        )
        return load_id

    monkeypatch.setattr(system_load, "load_system", load_and_look)
    write_required(tmp_root / "landing")
    settings = settings_for(tmp_root)
    assert ingest(settings).ok
    # the same locations again, one newer: its key is stored, so the winners are ranked
    # and copied; nothing of either load is left in the stage
    write(
        tmp_root / "landing",
        "pms/locations/2026-11-21.csv",
        csv_text(header("pms.locations"), [location("L1", "Glow One B", "2026-11-02T00:00:00Z")]),
    )
    assert ingest(settings).ok
    left = [p for p in (settings.data_dir / ".dlt").rglob("*") if p.is_file()]
    assert [p for p in left if p.suffix in (".parquet", ".model", ".jsonl", ".gz")] == []
    assert staged_after_load == [0, 0]  # each load's staged winners and checked rows dropped
    # a first load hands dlt views over the checked rows; a contested key, a copy
    assert read_in_place == [[("appointments", True), ("locations", True)], [("locations", False)]]


def test_a_lost_dlt_folder_still_merges_the_next_delta(tmp_root):
    """dlt does not read its state back from the warehouse (`RESTORE_FROM_DESTINATION`): a
    run whose `.dlt` folder is gone must still merge, add a drift column, and keep the rest."""
    write_required(tmp_root / "landing")
    settings = settings_for(tmp_root)
    first = ingest(settings)
    assert first.ok, first.errors
    shutil.rmtree(settings.data_dir / ".dlt")
    write(
        tmp_root / "landing",
        "pms/locations/2026-11-21.csv",
        csv_text(
            [*header("pms.locations"), "region"],
            [{**location("L1", "Glow One B", "2026-11-02T00:00:00Z"), "region": "west"}],
        ),
    )
    delta = ingest(settings)
    assert delta.ok, delta.errors
    assert delta.table("pms", "locations").rows_updated == 1
    assert query(settings, "select location_id, name, region from raw_pms.locations") == [
        ("L1", "Glow One B", "west")
    ]
    assert query(settings, "select count(*) from raw_pms.appointments") == [(1,)]
