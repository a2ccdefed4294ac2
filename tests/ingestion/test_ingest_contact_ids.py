"""Contact data used as an id is quarantined: an email address or a phone number written as
one, in any id the marts publish as it is (an appointment's, a call's, a review's, a room's).

Patient and lead ids are pseudonymised from staging on, so they load whatever they look like;
plain digits and ordinary ids load too. The reason names the rule, never the value.
"""

from __future__ import annotations

import json

from ingest_fixtures import appointment, csv_text, header, validate_one, write

APPOINTMENTS = header("pms.appointments")
EMAIL = "an email address as an id (contact data: an id is published as it is)"
PHONE = "a phone number as an id (contact data: an id is published as it is)"


def _validate(tmp_path, rows: list[dict]) -> tuple[list[tuple], list[tuple]]:
    path = write(tmp_path, "appointments.csv", csv_text(APPOINTMENTS, rows))
    return validate_one(path, "pms.appointments", "csv", "appointment_id")


def test_email_and_phone_shaped_ids_are_quarantined_naming_column_and_rule(tmp_path):
    quarantine, valid = _validate(
        tmp_path,
        [
            appointment("jane.roe@example.com"),
            appointment("mailto:jane@example.com"),
            appointment("jane@bücher.de"),
            appointment("+1 (415) 555-0166"),
            appointment("+14155550166"),
            appointment("+44 20 7946 0958"),
            appointment("(415) 555-0166"),
            appointment("415-555-0166"),
            appointment("415.555.0166"),
            appointment("415 555 0166"),
            appointment("1-800-555-0199"),
            appointment("PRV-jane.doe\uff20gmail.com"),  # fullwidth @
            appointment("jane\ufe6bexample\uff0ecom"),  # small @, fullwidth dot
            appointment("A12", room_id="jane@example.com"),  # a foreign key, nullable
            appointment("A13", device_id="(415)555-0166"),
            appointment("A14", rescheduled_from_appointment_id="+33 1 23 45 67 89"),
        ],
    )
    assert quarantine == [
        (1, "appointment_id", EMAIL),
        (2, "appointment_id", EMAIL),
        (3, "appointment_id", EMAIL),
        (4, "appointment_id", PHONE),
        (5, "appointment_id", PHONE),
        (6, "appointment_id", PHONE),
        (7, "appointment_id", PHONE),
        (8, "appointment_id", PHONE),
        (9, "appointment_id", PHONE),
        (10, "appointment_id", PHONE),
        (11, "appointment_id", PHONE),
        (12, "appointment_id", EMAIL),
        (13, "appointment_id", EMAIL),
        (14, "room_id", EMAIL),
        (15, "device_id", PHONE),
        (16, "rescheduled_from_appointment_id", PHONE),
    ]
    assert valid == []


def test_ordinary_ids_numeric_ids_and_pseudonymised_ids_load(tmp_path):
    ids = [
        "1234567890",  # digits only: a numeric id, not a formatted number
        "20261115000123",
        "APT-000123",
        "CA1f2e3d4c5b6a",
        "123e4567-e89b-12d3-a456-426614174000",
        "2026-11-15-0001",  # a date, then a sequence
        "555-0166",  # too few digits for a full number
        "12345-67890",  # grouped digits, not the 3-3-4 of a number written without its +
        "0001-2345-6789",
        "2026-1115-0001-234",
        "+123",
        "user@host",  # no domain
        "A1@b",
        "APT00000001",
    ]
    rows = [appointment(i) for i in ids]
    # patient ids reach the marts only as their keyed hash: whatever they look like, they load
    rows.append(appointment("A2", patient_id="jane.roe@example.com"))
    rows.append(appointment("A3", patient_id="+1 (415) 555-0166"))
    quarantine, valid = _validate(tmp_path, rows)
    assert quarantine == []
    assert valid == [(i,) for i in [*ids, "A2", "A3"]]


def test_a_call_id_holding_a_phone_number_is_quarantined_in_jsonl(tmp_path):
    def call(call_id: str) -> dict:
        return {
            "call_id": call_id,
            "location_id": "L1",
            "direction": "inbound",
            "external_number": "+14155550100",  # PHI column: phone numbers belong here
            "started_at": "2026-11-05T15:00:00Z",
            "answered_at": None,
            "ended_at": "2026-11-05T15:01:00Z",
            "outcome": "missed",
            "answered_by": None,
            "tracking_source": None,
            "updated_at": "2026-11-05T15:01:00Z",
        }

    body = "".join(json.dumps(call(c)) + "\n" for c in ["CAL-1", "+1 (415) 555-0166"])
    path = write(tmp_path, "calls.jsonl", body)
    quarantine, valid = validate_one(path, "phone.calls", "jsonl", "call_id")
    assert quarantine == [(2, "call_id", PHONE)]
    assert valid == [("CAL-1",)]
    assert all("415" not in reason for _, _, reason in quarantine)
