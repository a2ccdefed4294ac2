"""Helpers: tiny landing folders written by hand, and a way to look inside the warehouse afterwards.

Every fixture file here is small enough to check by eye; the expected numbers in the
tests are counted from these rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from ingestion.contract import load_contract
from ingestion.pipeline import IngestSettings

CONTRACT = load_contract()


def header(qualified_table: str) -> list[str]:
    return CONTRACT.table(qualified_table).column_names


def csv_text(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A contract CSV: header row, RFC 4180 quoting, missing keys written as empty fields."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return buf.getvalue()


def write(landing: Path, rel_path: str, content: str | bytes) -> Path:
    path = landing / rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_csv(folder: Path, stem: str, text: str, compressed: bool) -> Path:
    """`text` as `<stem>.csv`, or gzipped as `<stem>.csv.gz`: the loader reads both alike."""
    if compressed:
        return write(folder, f"{stem}.csv.gz", gzip.compress(text.encode()))
    return write(folder, f"{stem}.csv", text.encode())


def location(location_id: str | None, name: str, updated_at: str, **extra: Any) -> dict:
    return {
        "location_id": location_id,
        "name": name,
        "timezone": "America/New_York",
        "opened_on": "2024-01-01",
        "updated_at": updated_at,
        **extra,
    }


def appointment(appointment_id: str | None, updated_at: str = "2026-11-05T21:00:00Z", **kw: Any):
    row = {
        "appointment_id": appointment_id,
        "patient_id": "P1",
        "location_id": "L1",
        "provider_id": "PR1",
        "service_id": "S1",
        "booking_channel": "phone",
        "booked_at": "2026-11-01T10:00:00Z",
        "scheduled_start": "2026-11-05T15:00:00-05:00",
        "scheduled_end": "2026-11-05T16:00:00-05:00",
        "status": "completed",
        "updated_at": updated_at,
    }
    row.update(kw)
    return row


def write_required(landing: Path, extract_id: str = "2026-11-20") -> None:
    """The two required tables with one row each (enough for the loader to start)."""
    write(
        landing,
        f"pms/locations/{extract_id}.csv",
        csv_text(header("pms.locations"), [location("L1", "Glow One", "2026-11-01T00:00:00Z")]),
    )
    write(
        landing,
        f"pms/appointments/{extract_id}.csv",
        csv_text(header("pms.appointments"), [appointment("A1")]),
    )


def settings_for(root: Path, **overrides: Any) -> IngestSettings:
    """The loader's settings for a test root: `<root>/landing` into `<root>/data`."""
    data = root / "data"
    values: dict[str, Any] = {
        "landing_dir": root / "landing",
        "data_dir": data,
        "warehouse_path": data / "warehouse.duckdb",
        **overrides,
    }
    return IngestSettings(**values)


def query(settings: IngestSettings, sql: str, params: list | None = None) -> list[tuple]:
    """Run one read-only query against the warehouse (the connection is closed at once)."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _validated(path: Path, qualified_table: str, fmt: str) -> tuple[Any, Any]:
    """A connection (a UTC session) and the validation of one file read as the loader reads
    it, with the contract's stored types."""
    from ingestion.landing import LandingFile
    from ingestion.readers import read_file
    from ingestion.validate import stored_types, text_column_names, validate

    table = CONTRACT.table(qualified_table)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    file = LandingFile(table.system, table.name, "e1", path, path.name, fmt)
    raw = read_file(con, file, "t", stored_types(table), text_column_names(table))
    return con, validate(con, table, raw, "e1", path.name)


def validate_one(
    path: Path, qualified_table: str, fmt: str, valid_columns: str
) -> tuple[list[tuple], list[tuple]]:
    """Read and validate one file as the loader does (a UTC session, the contract's stored
    types): (quarantine as (row, column, reason), `valid_columns` of the valid rows in file
    order)."""
    con, result = _validated(path, qualified_table, fmt)
    quarantine = con.execute(
        f"select row_number, column_name, reason from {result.quarantine} order by 1"
    ).fetchall()
    valid = con.execute(
        f"select {valid_columns} from {result.valid} order by _source_row"
    ).fetchall()
    return quarantine, valid


def quarantined_records(path: Path, qualified_table: str, fmt: str) -> list[tuple[int, dict]]:
    """Each quarantined row of one file as (row number, its raw_record parsed), in row order."""
    con, result = _validated(path, qualified_table, fmt)
    rows = con.execute(
        f"select row_number, raw_record from {result.quarantine} order by 1"
    ).fetchall()
    return [(row, json.loads(record)) for row, record in rows]


def files_holding(data_dir: Path, needles: Iterable[str]) -> list[tuple[str, str]]:
    """(file, needle) for every file under the data dir but the warehouse itself (and its WAL)
    whose bytes hold one of `needles`, case-insensitively: where PHI must never be."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("warehouse.duckdb"):
            continue
        content = path.read_bytes().lower()
        found += [(str(path), n) for n in needles if n.lower().encode() in content]
    return found
