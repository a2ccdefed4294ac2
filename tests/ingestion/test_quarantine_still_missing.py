"""A lifted quarantine block does not bring the rows back: the check warns while they are missing.

Three real loads of pms.appointments (hand-written CSVs, counted by eye):
- 2026-11-20.csv: A1 good; A2 with an unknown status; A3 with a booked_at that is no instant;
  a row with a blank id. 3 of 4 rows quarantined: the load blocks publishing.
- 2026-11-21.csv: A4 good, and A2 corrected. The latest load is clean, so the block lifts;
  A2 is back (a later load stored its key), but A3 and the blank-id row are still missing: 2
  rows, and the check warns (it does not block) naming the file and its load.
- 2026-11-20.csv delivered again, corrected (A1, A3; the blank row dropped): the file's new
  version replaces every row quarantined from it, and the check passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_fixtures import appointment, csv_text, header, location, query, settings_for, write

from ingestion.pipeline import ingest
from quality.quarantine import replaced_rows, table_verdicts

#: the reason an appointment's unknown status is quarantined with (the allowed values)
APPOINTMENT_STATUS = (
    "unknown enum value (not one of booked, confirmed, checked_in, completed, cancelled, no_show)"
)

APPOINTMENTS = header("pms.appointments")
KEY = ("pms", "appointments")


def _day(landing: Path, extract_id: str, rows: list[dict]) -> None:
    write(landing, f"pms/appointments/{extract_id}.csv", csv_text(APPOINTMENTS, rows))


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> list:
    """After each load: (the table's verdict, `replaced_rows` of the warehouse)."""
    root = tmp_path_factory.mktemp("still-missing")
    landing = root / "landing"
    settings = settings_for(root)
    write(
        landing,
        "pms/locations/2026-11-20.csv",
        csv_text(header("pms.locations"), [location("L1", "Glow One", "2026-11-01T00:00:00Z")]),
    )
    seen = []

    def load() -> None:
        report = ingest(settings)
        assert report.tables, "nothing loaded"
        seen.append(
            (
                table_verdicts(settings.warehouse_path, 0.01)[KEY],
                replaced_rows(settings.warehouse_path),
            )
        )

    _day(
        landing,
        "2026-11-20",
        [
            appointment("A1"),
            appointment("A2", status="teleported"),
            appointment("A3", booked_at="yesterday"),
            appointment(None),
        ],
    )
    load()
    _day(landing, "2026-11-21", [appointment("A4"), appointment("A2")])
    load()
    stored = query(settings, "select appointment_id from raw_pms.appointments order by 1")
    assert stored == [("A1",), ("A2",), ("A4",)]
    _day(landing, "2026-11-20", [appointment("A1"), appointment("A3")])
    load()
    return seen


@pytest.fixture(scope="module")
def verdicts(loads: list) -> list:
    return [verdict for verdict, _ in loads]


def test_the_bad_load_blocks(verdicts) -> None:
    first = verdicts[0]
    assert first.blocks and first.rows_quarantined == 3 and first.earlier_missing == 0


def test_a_clean_later_load_lifts_the_block_but_warns_while_rows_are_missing(verdicts) -> None:
    second = verdicts[1]
    assert not second.blocks and not second.passed
    assert second.rows_quarantined == 0
    assert second.earlier_missing == 2  # A3 and the blank-id row; A2 came back by its key
    assert second.description.startswith(
        "latest load clean; 2 row(s) quarantined in earlier loads are still missing "
        "(pms/appointments/2026-11-20.csv of load "
    )
    assert "re-deliver them corrected" in second.description


def test_the_files_corrected_delivery_replaces_what_it_quarantined(verdicts) -> None:
    third = verdicts[2]
    assert third.passed and not third.blocks and third.earlier_missing == 0
    assert third.description == (
        "latest load clean; 3 row(s) quarantined before, all replaced by later loads"
    )


def test_the_rows_a_later_load_replaced_are_counted_by_file_and_reason(loads) -> None:
    """What the data-quality page tells apart from rows still held back: nothing after the
    bad load; A2 (its key stored again by the next day's file) after the second; all three
    after the file's corrected delivery."""
    first, second, third = (replaced for _, replaced in loads)
    bad_file = "pms/appointments/2026-11-20.csv"
    assert first == {}
    assert [(k[:3], n) for k, n in second.items()] == [(("pms", "appointments", bad_file), 1)]
    assert next(iter(second))[3] == APPOINTMENT_STATUS  # A2's status
    assert {k[:3] for k in third} == {("pms", "appointments", bad_file)}
    assert sum(third.values()) == 3
