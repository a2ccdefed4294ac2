"""A damaged `.csv.gz` is refused with the defect named, and never stops or shrinks a load.

DuckDB's gzip reader reads a stream up to its damage without complaint, and a bad deflate
block raised `zlib.error` out of the loader. Each case below damages one 300-row rooms file
in a known place; the load must refuse that file (recorded, with its reason), load none of
its rows and still load and record every other file.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest
from ingest_fixtures import csv_text, header, query, settings_for, write, write_required

from ingestion.pipeline import ingest

pytestmark = pytest.mark.xdist_group("ingest_gzip")

ROOMS = 300


def _rooms_csv(first: int = 1, count: int = ROOMS, with_header: bool = True) -> bytes:
    rows = [
        {
            "room_id": f"R{i:04d}",
            "location_id": "L1",
            "name": f"Room {i}",
            "room_type": "treatment",
            "active_from": "2024-07-11",
            "updated_at": "2026-11-01T00:00:00Z",
        }
        for i in range(first, first + count)
    ]
    text = csv_text(header("pms.rooms"), rows)
    return (text if with_header else text.split("\n", 1)[1]).encode()


def _stored() -> bytes:
    """The rooms file with compression level 0: deflate "stored" blocks, so a changed byte
    inside the data changes the data only, and the CRC-32 (not the block structure) fails."""
    return gzip.compress(_rooms_csv(), compresslevel=0)


def _flip_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]


def _header_block(data: bytes) -> bytes:
    # bytes 10-16 are the first deflate block header: "g" (0x67) has block type 3, reserved
    return data[:10] + b"garbage" + data[17:]


def _bad_crc(data: bytes) -> bytes:
    return data[:-8] + bytes(b ^ 0xFF for b in data[-8:-4]) + data[-4:]


TRUNCATED = "corrupt gzip stream: truncated (it ends before its end-of-stream marker)"
CASES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "bad first block": (_header_block, "corrupt gzip stream: invalid compressed data"),
    "cut in half": (lambda d: d[: len(d) // 2], TRUNCATED),
    "trailer missing": (lambda d: d[:-8], TRUNCATED),
    "byte changed mid-stream": (_flip_middle, "corrupt gzip stream: CRC check failed"),
    "trailer CRC wrong": (_bad_crc, "corrupt gzip stream: CRC check failed"),
    "junk after the stream": (
        lambda d: d + b"JUNK",
        "corrupt gzip stream: unexpected data after the end of the stream",
    ),
    "not gzip at all": (lambda d: _rooms_csv(), "not a gzip stream (bad gzip header)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_gzip_is_refused_and_every_other_file_loads(tmp_root, case):
    damage, reason = CASES[case]
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, "pms/rooms/2026-11-20.csv.gz", damage(_stored()))
    settings = settings_for(tmp_root)

    report = ingest(settings)

    rooms = report.table("pms", "rooms")
    assert (rooms.files_loaded, rooms.files_refused) == (0, 1)
    assert rooms.refusals == [f"pms/rooms/2026-11-20.csv.gz: {reason}"]
    assert query(settings, "select count(*) from raw_pms.rooms") == [(0,)]
    # every file is recorded: the damaged one as refused (not retried until it changes)
    assert query(
        settings,
        "select table_name, status, refusal_reason from raw_meta.loaded_files order by 1",
    ) == [
        ("appointments", "loaded", None),
        ("locations", "loaded", None),
        ("rooms", "refused", f"pms/rooms/2026-11-20.csv.gz: {reason}"),
    ]
    assert query(settings, "select count(*) from raw_pms.appointments") == [(1,)]


def test_intact_gzip_of_several_members_loads_every_row(tmp_root):
    """`cat a.gz b.gz` is a valid gzip file (RFC 1952): rows 1-300 then 301-310 all load."""
    landing = tmp_root / "landing"
    write_required(landing)
    second = gzip.compress(_rooms_csv(ROOMS + 1, 10, with_header=False))
    write(landing, "pms/rooms/2026-11-20.csv.gz", gzip.compress(_rooms_csv()) + second)
    settings = settings_for(tmp_root)

    report = ingest(settings)

    assert report.table("pms", "rooms").files_loaded == 1, report.to_text()
    assert query(settings, "select count(*), max(room_id) from raw_pms.rooms") == [
        (ROOMS + 10, "R0310")
    ]
