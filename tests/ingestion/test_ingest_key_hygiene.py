"""Keys the loader must not take at face value: padded or blank ids, and a repeated key one of
whose copies is also wrong in another column.

Each expected verdict is the landing contract's rule applied by hand to the rows below.
"""

from __future__ import annotations

from pathlib import Path

from ingest_fixtures import appointment, csv_text, header, validate_one, write

APPOINTMENTS = header("pms.appointments")
DUPLICATE_12 = "duplicate primary key within the extract (rows 1, 2)"


def _validate(tmp_path: Path, rows: list[dict]) -> tuple[list[tuple], list[tuple]]:
    path = write(tmp_path, "appointments.csv", csv_text(APPOINTMENTS, rows))
    return validate_one(path, "pms.appointments", "csv", "appointment_id, status")


def test_a_repeated_key_quarantines_every_copy_even_when_one_copy_is_also_bad(tmp_path):
    """Row 1 `booked` (older), row 2 a typo `canceled` (newer): before, row 2 alone was
    quarantined (unknown enum value) and the stale row 1 loaded as A1's only version."""
    quarantine, valid = _validate(
        tmp_path,
        [
            appointment("A1", "2026-11-02T00:00:00Z", status="booked"),
            appointment("A1", "2026-11-03T00:00:00Z", status="canceled"),
            appointment("A2"),
        ],
    )
    assert quarantine == [
        (1, "appointment_id", DUPLICATE_12),
        (2, "appointment_id", f"{DUPLICATE_12}; also status: unknown enum value"),
    ]
    assert valid == [("A2", "completed")]


def test_a_copy_whose_key_is_itself_bad_is_no_duplicate(tmp_path):
    """A missing key is its own defect; the one good A1 loads."""
    quarantine, valid = _validate(tmp_path, [appointment("A1"), appointment(None)])
    assert quarantine == [(2, "appointment_id", "missing primary key")]
    assert valid == [("A1", "completed")]


def test_padded_and_blank_identifiers_are_quarantined_not_stored_as_other_ids(tmp_path):
    quarantine, valid = _validate(
        tmp_path,
        [
            appointment("A1"),
            appointment(" A1"),  # would be a second A1
            appointment("A3 "),
            appointment("   "),
            appointment("A5", patient_id="  "),
            appointment("A6", room_id=" R1"),  # a nullable id is still an id
            appointment("A7", room_id=""),  # empty = null: fine where null is allowed
        ],
    )
    assert quarantine == [
        (2, "appointment_id", "identifier with leading or trailing spaces"),
        (3, "appointment_id", "identifier with leading or trailing spaces"),
        (4, "appointment_id", "blank identifier (only spaces)"),
        (5, "patient_id", "blank identifier (only spaces)"),
        (6, "room_id", "identifier with leading or trailing spaces"),
    ]
    assert valid == [("A1", "completed"), ("A7", "completed")]


def test_year_zero_is_no_date_in_text_as_in_parquet(tmp_path):
    """DuckDB reads the text `0000-01-01` as 1 BC; a stored Parquet value before year 1 was
    already refused, and the text now gets the same verdict."""
    quarantine, valid = _validate(
        tmp_path,
        [
            appointment("A1", scheduled_start="0000-01-05T10:00:00Z"),
            appointment("A2", booked_at="0001-01-01T00:00:00Z"),
            appointment("A3", cancelled_at="9999-12-31T23:59:59Z"),
        ],
    )
    assert quarantine == [(1, "scheduled_start", "not an ISO 8601 timestamp with offset")]
    assert valid == [("A2", "completed"), ("A3", "completed")]
