"""Keys the loader must not take at face value: ids padded or blank (spaces, tabs, line
breaks, invisible Unicode), and a repeated key one of whose copies is also wrong in another
column.

Each expected verdict is the landing contract's rule applied by hand to the rows below.
"""

from __future__ import annotations

from pathlib import Path

from ingest_fixtures import appointment, csv_text, header, validate_one, write

#: the reason an appointment's unknown status is quarantined with (the allowed values)
APPOINTMENT_STATUS = (
    "unknown enum value (not one of booked, confirmed, checked_in, completed, cancelled, no_show)"
)

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
        (2, "appointment_id", f"{DUPLICATE_12}; also status: {APPOINTMENT_STATUS}"),
    ]
    assert valid == [("A2", "completed")]


def test_a_copy_whose_key_is_itself_bad_is_no_duplicate(tmp_path):
    """A missing key is its own defect; the one good A1 loads."""
    quarantine, valid = _validate(tmp_path, [appointment("A1"), appointment(None)])
    assert quarantine == [(2, "appointment_id", "missing primary key")]
    assert valid == [("A1", "completed")]


PADDED = "identifier with leading or trailing whitespace"
BLANK = "blank identifier (only whitespace)"


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
        (2, "appointment_id", PADDED),
        (3, "appointment_id", PADDED),
        (4, "appointment_id", BLANK),
        (5, "patient_id", BLANK),
        (6, "room_id", PADDED),
    ]
    assert valid == [("A1", "completed"), ("A7", "completed")]


def test_ids_padded_by_invisible_characters_other_than_spaces_are_quarantined(tmp_path):
    """A tab, a carriage return, a line break, a no-break space, a zero-width space, a
    byte-order mark, a direction mark, a soft hyphen or another control or format character
    around an id prints like the id itself and would still make a second one. Characters
    inside an id, and printable ones at its ends (`~`, `é`), are left alone."""
    rows = [
        appointment("A1\t"),
        appointment("A2\r"),
        appointment("\nA3"),
        appointment("\u00a0A4"),
        appointment("A5\u200b"),
        appointment("\ufeffA6"),
        appointment("A7\x7f"),
        appointment("A8", patient_id="\t\r\n"),
        appointment("A13\u200e"),  # left-to-right mark
        appointment("\u200fA14"),  # right-to-left mark
        appointment("A15\xad"),  # soft hyphen
        appointment("A16\u2066"),  # bidi isolate
        appointment("A9", patient_id="\u3000"),
        appointment("~A10~"),
        appointment("A 11"),
        appointment("é12é"),
    ]
    # a lone CR is quoted, as an export that writes CRLF lines must (unquoted, the file is
    # malformed and refused whole); Python's writer quotes only its own line terminator
    text = csv_text(APPOINTMENTS, rows).replace("\nA2\r,", '\n"A2\r",')
    path = write(tmp_path, "appointments.csv", text)
    quarantine, valid = validate_one(path, "pms.appointments", "csv", "appointment_id, status")
    assert quarantine == [
        (1, "appointment_id", PADDED),
        (2, "appointment_id", PADDED),
        (3, "appointment_id", PADDED),
        (4, "appointment_id", PADDED),
        (5, "appointment_id", PADDED),
        (6, "appointment_id", PADDED),
        (7, "appointment_id", PADDED),
        (8, "patient_id", BLANK),
        (9, "appointment_id", PADDED),
        (10, "appointment_id", PADDED),
        (11, "appointment_id", PADDED),
        (12, "appointment_id", PADDED),
        (13, "patient_id", BLANK),
    ]
    assert valid == [("~A10~", "completed"), ("A 11", "completed"), ("é12é", "completed")]


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
