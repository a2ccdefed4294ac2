"""Turn a simulated table into an Arrow table of contract columns, in contract order.

Text formats (CSV, JSONL) get ISO 8601 timestamps with the location's UTC offset
(`2026-03-02T09:30:00-08:00`), `YYYY-MM-DD` dates and 2-decimal money strings; Parquet gets
native types (UTC timestamps, date32, decimal(18,2)), as a POS export would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from demo.timeutil import DAY, NA
from ingestion.contract import Table

_CENT = pa.scalar(__import__("decimal").Decimal("0.01"), pa.decimal128(3, 2))


def utc_offsets(local_s: np.ndarray, loc: np.ndarray, timezones: list[str]) -> np.ndarray:
    """UTC offset in seconds of each local time, taken at local noon of its date.

    Using the date's noon offset keeps every local wall time representable (no DST gaps);
    clinics are closed at 2 a.m., when the offset changes.
    """
    out = np.zeros(len(local_s), dtype=np.int64)
    day = local_s // DAY
    for i in np.unique(loc):
        sel = loc == i
        days, inv = np.unique(day[sel], return_inverse=True)
        noon = pd.DatetimeIndex((days * DAY + DAY // 2).astype("datetime64[s]"))
        utc = noon.tz_localize(timezones[i]).tz_convert("UTC").tz_localize(None)
        off = ((noon - utc).total_seconds()).astype(np.int64).to_numpy()
        out[sel] = off[inv]
    return out


def _offset_text(off: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(off, return_inverse=True)
    texts = []
    for o in uniq:
        sign = "-" if o < 0 else "+"
        h, m = divmod(abs(int(o)) // 60, 60)
        texts.append(f"{sign}{h:02d}:{m:02d}")
    return np.array(texts, dtype=object)[inv] if len(uniq) else np.array([], dtype=object)


def _timestamps(values: np.ndarray, loc: np.ndarray, tzs: list[str], text: bool) -> pa.Array:
    null = values == NA
    safe = np.where(null, 0, values)
    off = utc_offsets(safe, loc, tzs)
    if not text:
        return pa.array((safe - off) * 1_000_000, pa.int64(), mask=null).cast(
            pa.timestamp("us", tz="UTC")
        )
    local = np.datetime_as_string(safe.astype("datetime64[s]"), unit="s").astype(object)
    return pa.array(local + _offset_text(off), pa.string(), mask=null)


def _money(values: np.ndarray, text: bool) -> pa.Array:
    null = values == NA
    dec = pc.multiply(
        pa.array(np.where(null, 0, values), pa.int64(), mask=null).cast(pa.decimal128(19, 0)), _CENT
    ).cast(pa.decimal128(18, 2))
    return dec.cast(pa.string()) if text else dec


def _dates(values: np.ndarray, text: bool) -> pa.Array:
    null = values == NA
    arr = pa.array(np.where(null, 0, values).astype(np.int32), pa.int32(), mask=null).cast(
        pa.date32()
    )
    return arr.cast(pa.string()) if text else arr


def encode(df: pd.DataFrame, table: Table, timezones: list[str], text: bool) -> pa.Table:
    """Contract columns of `df` in contract order, typed for a text or a Parquet extract."""
    loc = df["_loc"].to_numpy().astype(np.int64) if len(df) else np.zeros(0, np.int64)
    missing = [col.name for col in table.columns if col.name not in df.columns]
    if missing:
        # a column added to ingestion/contract.yml that the generator does not write yet
        raise ValueError(
            f"the demo generator writes no {table.qualified_name} column(s) {missing} that "
            f"the contract has: generate them in demo/ (the module that builds {table.name})"
        )
    arrays = []
    for col in table.columns:
        v = df[col.name].to_numpy()
        if col.type == "timestamp":
            arrays.append(_timestamps(v.astype(np.int64), loc, timezones, text))
        elif col.type == "date":
            arrays.append(_dates(v.astype(np.int64), text))
        elif col.type == "decimal":
            arrays.append(_money(v.astype(np.int64), text))
        elif col.type == "integer":
            v = v.astype(np.int64)
            arrays.append(pa.array(v, pa.int64(), mask=v == NA))
        elif col.type == "boolean":
            arrays.append(pa.array(v.astype(bool), pa.bool_()))
        else:
            arrays.append(pa.array(v, pa.string(), from_pandas=True))
    return pa.Table.from_arrays(arrays, names=table.column_names)
