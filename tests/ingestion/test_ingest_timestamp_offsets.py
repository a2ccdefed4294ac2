"""A timestamp's UTC offset must be one a clock can show: hours 00-23, minutes 00-59.

DuckDB's cast reads `+25:00` or `+99:99` as an offset and stores an instant shifted by it; the
loader quarantines such a value instead, in text (CSV) and in a Parquet string column alike.
The table is pms.locations: `updated_at` is a required timestamp.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_fixtures import CONTRACT, csv_text, header, location, validate_one, write

LOCATIONS = CONTRACT.table("pms.locations")
BAD = "not an ISO 8601 timestamp with offset"

#: updated_at -> the instant stored (UTC), or the quarantine reason; worked out by hand.
OFFSETS: list[tuple[str, str]] = [
    ("2026-11-05T08:00:00+25:00", BAD),
    ("2026-11-05T08:00:00+99:99", BAD),
    ("2026-11-05T08:00:00-00:60", BAD),
    ("2026-11-05T08:00:00+2400", BAD),
    ("2026-11-05T08:00:00+24", BAD),
    ("2026-11-05T08:00:00+23:59", "2026-11-04 08:01:00+00"),
    ("2026-11-05T08:00:00-0800", "2026-11-05 16:00:00+00"),
    ("2026-11-05T08:00:00+05:30", "2026-11-05 02:30:00+00"),
    ("2026-11-05T08:00+01", "2026-11-05 07:00:00+00"),
    ("2026-11-05T08:00:00-00:59", "2026-11-05 08:59:00+00"),
]


def _check(path: Path, fmt: str) -> tuple[list[tuple], list[tuple]]:
    return validate_one(path, "pms.locations", fmt, "location_id, updated_at::varchar")


def _expected() -> tuple[list[tuple], list[tuple]]:
    quarantine = [(n, "updated_at", v) for n, (_, v) in enumerate(OFFSETS, 1) if v == BAD]
    valid = [(f"L{n}", v) for n, (_, v) in enumerate(OFFSETS, 1) if v != BAD]
    return quarantine, valid


def _rows() -> list[dict]:
    return [location(f"L{n}", "Glow", ts) for n, (ts, _) in enumerate(OFFSETS, 1)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_impossible_offsets_are_quarantined_real_ones_shift_the_instant(tmp_path, fmt):
    if fmt == "csv":
        path = write(tmp_path, "e1.csv", csv_text(header("pms.locations"), _rows()))
    else:
        path = tmp_path / "e1.parquet"
        columns = header("pms.locations")
        rows = _rows()
        table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})
        pq.write_table(table, path)
    assert _check(path, fmt) == _expected()
