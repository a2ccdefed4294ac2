"""The generator streams: one table (or one chunk of messages) at a time, same bytes.

The large chain (40 locations x 3 years) must generate within 2 GB. What makes that possible
is checked here on small inputs: tables are built on demand and not kept, messages come in
id-ordered chunks equal to the whole table, and an extract written slice by slice has the
bytes of one written whole. The memory bound itself is checked on a one-location, one-year
slice at large density, in a subprocess so its peak RSS is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from demo import messaging
from demo.chain import chain_tables
from demo.encode import encode
from demo.writer import FORMATS, PARQUET_ROW_GROUP, ExtractWriter, write_extract
from ingestion.contract import load_contract
from tests.demo.conftest import tiny_config


def _table(n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([f"ID{i:07d}" for i in range(n)]),
            "note": pa.array([None if i % 7 == 0 else f'say "hi", {i}' for i in range(n)]),
            "amount": pa.array(range(n), pa.int64()),
        }
    )


def _streamed(tbl: pa.Table, system: str, path: Path, sizes: list[int]) -> bytes:
    writer = ExtractWriter(system, path)
    start = 0
    for size in sizes:
        writer.write(tbl.slice(start, size))
        start += size
    writer.write(tbl.slice(start))
    writer.close()
    return path.read_bytes()


@pytest.mark.parametrize("system", sorted({s for s, f in FORMATS.items()}))
def test_extract_written_in_slices_has_the_bytes_of_one_written_whole(
    system: str, tmp_path: Path
) -> None:
    tbl = _table(5_000)
    write_extract(tbl, system, tmp_path / "whole")
    streamed = _streamed(tbl, system, tmp_path / "sliced", [1, 0, 1_234, 2_000])
    assert streamed == (tmp_path / "whole").read_bytes()


def test_parquet_streamed_past_one_row_group_keeps_the_row_groups(tmp_path: Path) -> None:
    n = PARQUET_ROW_GROUP * 2 + 10
    tbl = pa.table({"amount": pa.array(range(n), pa.int64())})
    write_extract(tbl, "pos", tmp_path / "whole")
    streamed = _streamed(tbl, "pos", tmp_path / "sliced", [300_000, 900_001, 77])
    assert streamed == (tmp_path / "whole").read_bytes()


def test_extract_writer_without_rows_writes_no_file(tmp_path: Path) -> None:
    writer = ExtractWriter("pms", tmp_path / "empty.csv")
    writer.write(_table(0))
    writer.close()
    assert not (tmp_path / "empty.csv").exists()


def test_tables_are_forgotten_once_taken_and_messages_chunk_into_the_whole_table() -> None:
    cfg = tiny_config()
    tables = chain_tables(cfg, cfg.end_day)
    whole = messaging.messages(tables.sim)
    chunks = list(messaging.message_chunks(tables.sim, rows=997))
    assert len(chunks) == -(-len(whole) // 997)
    # Equal as written: the contract columns encoded for the extract (pandas may infer a
    # different dtype for a chunk whose ids are all empty; the extract's text is the same).
    table = load_contract().table("messaging.messages")
    timezones = list(tables.sim.cal.tables["locations"]["timezone"])
    streamed = encode(pd.concat(chunks, ignore_index=True), table, timezones, text=True)
    assert streamed.equals(encode(whole, table, timezones, text=True))
    tables.take("pms.appointments")
    assert "pms.appointments" not in tables._built
    tables.take("pos.invoices")  # built with invoice_lines in one pass: that one is kept
    assert set(tables._built) == {"pos.invoice_lines"}


#: Peak RSS growth allowed above the interpreter with everything imported, for one location
#: over one year at large density (~100 k rows). Measured: ~150 MB (simulation state, one
#: table, one chunk of messages, DuckDB's JSON writer). Holding a whole large chain's tables
#: instead grows with the chain (10+ GB at 40 locations x 3 years), so a leak of whole tables
#: across the run, or an unchunked table, breaks this bound long before the large chain would.
SLICE_BOUND_MB = 300

_MEASURE = """
import json, resource, sys, tempfile
from pathlib import Path
from demo.config import ChainConfig
from demo.run import generate
import demo.chain, demo.writer, duckdb, pyarrow.parquet
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with tempfile.TemporaryDirectory() as out:
    report = generate(Path(out) / "chain", ChainConfig.build("large", locations=1, years=1.0))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "peak_kb": peak, "rows": report.total_rows}))
"""


def test_one_location_year_at_large_density_stays_under_the_memory_bound() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True
    )
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    assert measured["rows"] > 50_000  # the slice really is a year of a large-density clinic
    grown_mb = (measured["peak_kb"] - measured["before_kb"]) / 1024
    assert grown_mb < SLICE_BOUND_MB, f"peak grew {grown_mb:.0f} MB over the imports"


def test_a_contract_column_the_generator_does_not_write_is_named() -> None:
    """A column added to the contract before the generator writes it: a message naming the
    table and column, not a KeyError from inside pandas."""
    table = load_contract().table("pms.rooms")
    frame = pd.DataFrame({c.name: [] for c in table.columns if c.name != "room_type"})
    frame["_loc"] = []
    with pytest.raises(ValueError, match=r"pms\.rooms column\(s\) \['room_type'\]"):
        encode(frame, table, ["UTC"], text=True)
