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


#: Rows per Parquet row group: pyarrow's default for `write_table`, kept when streaming so a
#: file written chunk by chunk has the same row groups, hence the same bytes.
PARQUET_ROW_GROUP = 1024 * 1024


class ExtractWriter:
    """Write one extract chunk by chunk, with the same bytes `write_extract` gives the whole.

    The generator encodes a big table a slice at a time and hands each slice here, so the
    text, the Arrow columns and the CSV bytes of the whole table never sit in memory at once.
    CSV rows are independent lines, JSON lines too, and gzip's stream does not depend on how
    its input is split; Parquet slices are regrouped into `PARQUET_ROW_GROUP`-row groups.
    The file appears (atomically) on `close()`; with no rows written, no file appears.
    """

    def __init__(self, system: str, path: Path) -> None:
        self.system, self.path, self.fmt = system, path, FORMATS[system]
        self.tmp = path.with_name(path.name + ".tmp")
        self.rows = 0
        self._raw: io.BufferedWriter | None = None
        self._sink: object = None
        self._csv: pcsv.CSVWriter | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []

    def write(self, tbl: pa.Table) -> None:
        if not tbl.num_rows:
            return
        if self._raw is None:
            self._open(tbl.schema)
        self.rows += tbl.num_rows
        if self._csv is not None:
            self._csv.write_table(tbl)
        elif self.fmt == "parquet":
            self._pending.append(tbl)
            self._flush_row_groups(final=False)
        else:
            part = self.tmp.with_name(self.tmp.name + ".part")
            _write_jsonl(tbl, part)
            with open(part, "rb") as fh:
                while chunk := fh.read(1 << 24):
                    self._raw.write(chunk)  # type: ignore[union-attr]
            part.unlink()

    def _open(self, schema: pa.Schema) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._raw = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()
        if self.fmt in ("csv", "csv.gz"):
            sink = self._raw
            if self.fmt == "csv.gz":
                sink = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
                self._sink = sink
            options = pcsv.WriteOptions(include_header=True, quoting_style="needed")
            self._csv = pcsv.CSVWriter(sink, schema, write_options=options)
        elif self.fmt == "parquet":
            self._parquet = pq.ParquetWriter(self._raw, schema, compression="zstd")

    def _flush_row_groups(self, final: bool) -> None:
        pending = pa.concat_tables(self._pending) if self._pending else None
        self._pending = []
        while pending is not None and (
            pending.num_rows >= PARQUET_ROW_GROUP or (final and pending.num_rows)
        ):
            group = pending.slice(0, PARQUET_ROW_GROUP)
            self._parquet.write_table(group, row_group_size=PARQUET_ROW_GROUP)  # type: ignore[union-attr]
            pending = pending.slice(PARQUET_ROW_GROUP)
        if pending is not None and pending.num_rows:
            self._pending = [pending]

    def close(self) -> None:
        """Finish the file and move it into place (nothing to do when no rows came)."""
        if self._raw is None:
            return
        if self._csv is not None:
            self._csv.close()
        if self._sink is not None:
            self._sink.close()  # type: ignore[attr-defined]
        if self._parquet is not None:
            self._flush_row_groups(final=True)
            self._parquet.close()
        self._raw.close()
        self.tmp.replace(self.path)


def _write_jsonl(tbl: pa.Table, path: Path) -> None:
    """JSON lines in row order, single-threaded (DuckDB's writer, as `write_extract` uses)."""
    # One thread keeps row order; the memory limit keeps a slice's copy from growing the
    # generator's peak (a slice is a few hundred thousand rows).
    con = duckdb.connect(config={"threads": 1, "memory_limit": "512MB"})
    try:
        con.register("extract", tbl)
        escaped = str(path).replace("'", "''")
        con.execute(f"COPY extract TO '{escaped}' (FORMAT json)")
    finally:
        con.close()


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
        _write_jsonl(tbl, tmp)
    tmp.replace(path)
