"""A NUL character in a (non-PHI) text column is a quarantined row, not a value to publish.

DuckDB stores it, but PostgreSQL's text cannot: one such value in a mart made every publish to
the BI database fail (`Attempting to write a VARCHAR value with a NULL-byte`) while
serving.duckdb went on publishing, so the two served copies parted for good.
"""

from __future__ import annotations

import json

from ingest_fixtures import validate_one, write

REASON = "a NUL character in text"
HEADER = "location_id,name,timezone,opened_on,closed_on,updated_at\n"


def test_csv_nul_in_a_text_column_is_quarantined(tmp_path):
    body = (
        HEADER
        + "L1,Brooklyn,America/New_York,2024-01-01,,2026-11-05T21:00:00Z\n"
        + 'L2,"Glow\x00Midtown",America/New_York,2024-01-01,,2026-11-05T21:00:00Z\n'
        + "L3\x00,Soho,America/New_York,2024-01-01,,2026-11-05T21:00:00Z\n"
    )
    path = write(tmp_path, "e1.csv", body)
    quarantine, valid = validate_one(path, "pms.locations", "csv", "location_id, name")
    assert quarantine == [(2, "name", REASON), (3, "location_id", REASON)]
    assert valid == [("L1", "Brooklyn")]


def test_jsonl_escaped_nul_is_quarantined(tmp_path):
    row = {
        "location_id": "L1",
        "name": "Glow\u0000Midtown",
        "timezone": "America/New_York",
        "opened_on": "2024-01-01",
        "closed_on": None,
        "updated_at": "2026-11-05T21:00:00Z",
    }
    path = write(tmp_path, "e1.jsonl", json.dumps(row) + "\n")
    quarantine, valid = validate_one(path, "pms.locations", "jsonl", "location_id")
    assert quarantine == [(1, "name", REASON)] and valid == []
