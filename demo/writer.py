"""Write Arrow tables as landing-folder extracts, byte for byte the same on every run.

Formats differ by system on purpose, so the loader's readers are exercised for real:
pms and crm as CSV, pos as Parquet, phone and messaging as JSON lines, reviews as gzip CSV.
Gzip headers carry no timestamp or file name, and JSON lines are written single-threaded in
row order, so the same seed gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from safeio.sqlquote import sql_str

FORMATS: dict[str, str] = {
    "pms": "csv",
    "crm": "csv",
    "pos": "parquet",
    "phone": "jsonl",
    "messaging": "jsonl",
    "reviews": "csv.gz",
}


def is_text(system: str) -> bool:
    return FORMATS[system] != "parquet"


def _csv_bytes(tbl: pa.Table) -> bytes:
    buf = io.BytesIO()
    pcsv.write_csv(tbl, buf, pcsv.WriteOptions(include_header=True, quoting_style="needed"))
    return buf.getvalue()


def write_extract(tbl: pa.Table, system: str, path: Path) -> None:
    """Write one extract atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fmt = FORMATS[system]
    if fmt == "csv":
        tmp.write_bytes(_csv_bytes(tbl))
    elif fmt == "csv.gz":
        with (
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        ):
            gz.write(_csv_bytes(tbl))
    elif fmt == "parquet":
        pq.write_table(tbl, tmp, compression="zstd")
    else:
        con = duckdb.connect(config={"threads": 1})
        try:
            con.register("extract", tbl)
            con.execute(f"COPY extract TO {sql_str(tmp)} (FORMAT json)")
        finally:
            con.close()
    tmp.replace(path)
