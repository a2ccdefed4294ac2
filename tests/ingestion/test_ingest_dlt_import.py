"""dlt lands the winners from the Parquet file DuckDB wrote, as it is, stamped with dlt's load.

The loader's speed rests on dlt importing that file unchanged: when the file's schema stops
matching the hints (names, order, nullability), dlt's normaliser silently rewrites every row
in Python instead. These tests fail on that rewrite, not on a timing.
"""

from __future__ import annotations

import pytest
from dlt.normalize.items_normalizers.arrow import ArrowItemsNormalizer
from ingest_fixtures import csv_text, header, location, query, settings_for, write, write_required

from ingestion.pipeline import ingest

pytestmark = pytest.mark.xdist_group("ingest_dlt_import")


@pytest.fixture
def no_rewrite(monkeypatch):
    """Fail the load if dlt's normaliser rewrites an imported Parquet file."""
    rewritten: list[str] = []

    def record(self, extracted_items_file, root_table_name, add_dlt_id):
        rewritten.append(root_table_name)
        raise AssertionError(f"dlt rewrote the Parquet file of {root_table_name}")

    monkeypatch.setattr(ArrowItemsNormalizer, "_write_with_dlt_columns", record)
    return rewritten


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
    assert no_rewrite == []
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


def test_no_parquet_copy_of_the_rows_is_left_in_dlts_folder(tmp_root):
    write_required(tmp_root / "landing")
    settings = settings_for(tmp_root)
    assert ingest(settings).ok
    left = [p for p in (settings.data_dir / ".dlt").rglob("*.parquet")]
    assert left == []
