"""A JSON object or array in a text column is a rejected row, not its JSON text.

The readers hand every value over as text and the validator types it; a typed column refuses
an object's text rendering by itself, but a text column (an id, a name) would have stored
`{"first":"x"}` as if the extract had sent that string. JSON Lines rows holding one are
quarantined, naming the columns; a Parquet file whose schema stores a text column as a struct,
list or map is refused. Scalars stay accepted as text, as in a CSV.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_fixtures import validate_one, write

from ingestion.readers import FileRefused

REASON = "a JSON object or array where the contract wants text"
COLUMNS = "location_id, name, timezone, opened_on, updated_at, _source_row"


def _line(location_id, name) -> str:
    return json.dumps(
        {
            "location_id": location_id,
            "name": name,
            "timezone": "America/New_York",
            "opened_on": "2024-01-01",
            "closed_on": None,
            "updated_at": "2026-11-05T21:00:00Z",
        }
    )


def test_jsonl_objects_and_arrays_in_text_columns_are_rejected_rows(tmp_path):
    lines = [
        _line("L1", "{Brooklyn}"),  # a string that merely starts with a brace: kept as is
        _line("L2", {"first": "x"}),
        _line(["L3"], [1]),
        _line("L4", True),  # a scalar is text, as in a CSV
        _line("L5", "[old] Midtown"),
    ]
    path = write(tmp_path, "e1.jsonl", "\n".join(lines) + "\n")
    quarantine, valid = validate_one(path, "pms.locations", "jsonl", "location_id, name")
    assert quarantine == [(2, "name", REASON), (3, "location_id, name", REASON)]
    assert valid == [("L1", "{Brooklyn}"), ("L4", "true"), ("L5", "[old] Midtown")]


def test_a_jsonl_file_of_plain_strings_reads_the_same_by_either_path(tmp_path):
    """No text value starts with a brace: the native read; one does: the exact read. Both
    give the same rows, numbered by line."""
    plain = [_line("L1", "One"), _line("L2", 'Two "quoted"'), _line("L3", "Three\n[annex]")]
    braced = [*plain, _line("L4", "{x}")]
    _, from_native = validate_one(
        write(tmp_path, "a.jsonl", "\n".join(plain) + "\n"), "pms.locations", "jsonl", COLUMNS
    )
    _, from_exact = validate_one(
        write(tmp_path, "b.jsonl", "\n".join(braced) + "\n"), "pms.locations", "jsonl", COLUMNS
    )
    assert [row[:2] for row in from_native] == [
        ("L1", "One"),
        ("L2", 'Two "quoted"'),
        ("L3", "Three\n[annex]"),
    ]
    assert from_exact[:3] == from_native
    assert from_exact[3][:2] == ("L4", "{x}")


@pytest.mark.parametrize(
    ("name_type", "value", "shown"),
    [
        (pa.struct([("Jane Doe", pa.string())]), {"Jane Doe": "x"}, "(STRUCT)"),
        (pa.list_(pa.string()), ["x"], "(LIST)"),
        (pa.map_(pa.string(), pa.string()), [("k", "v")], "(MAP)"),
    ],
)
def test_a_parquet_text_column_stored_nested_refuses_the_file(tmp_path, name_type, value, shown):
    table = pa.table(
        {
            "location_id": pa.array(["L1"]),
            "name": pa.array([value], type=name_type),
            "timezone": pa.array(["America/New_York"]),
            "opened_on": pa.array(["2024-01-01"]),
            "updated_at": pa.array(["2026-11-05T21:00:00Z"]),
        }
    )
    path = tmp_path / "e1.parquet"
    pq.write_table(table, path)
    with pytest.raises(FileRefused) as refused:
        validate_one(path, "pms.locations", "parquet", "location_id")
    assert refused.value.reason.startswith(
        "nested Parquet type where the contract wants text: name ("
    )
    assert shown in refused.value.reason
    # The reason is stored and published: a struct's field names (here a patient's name, as
    # a dict keyed by name gives them) never appear in it, only the kind.
    assert refused.value.reason.endswith(f"name {shown}") and "Jane" not in refused.value.reason


def test_an_object_in_a_listed_values_column_is_quarantined_by_its_list(tmp_path):
    """Columns with an `enum` are not scanned for nested values: an object's rendering is
    never one of the listed values, so the enum check rejects the row already."""
    room = {
        "room_id": "R1",
        "location_id": "L1",
        "name": "Room 1",
        "active_from": "2024-01-01",
        "active_to": None,
        "updated_at": "2026-11-05T21:00:00Z",
    }
    lines = [
        json.dumps({**room, "room_type": "treatment"}),
        json.dumps({**room, "room_id": "R2", "room_type": {"kind": "treatment"}}),
    ]
    path = write(tmp_path, "e1.jsonl", "\n".join(lines) + "\n")
    quarantine, valid = validate_one(path, "pms.rooms", "jsonl", "room_id, room_type")
    assert [(row, column) for row, column, _ in quarantine] == [(2, "room_type")]
    # the reason names the rule and the allowed values, never the row's value
    assert quarantine[0][2] == "unknown enum value (not one of treatment, consult, other)"
    assert valid == [("R1", "treatment")]
