"""The in-memory shape of a simulated table, before it is cut into extracts.

A simulated table is a pandas DataFrame holding every contract column in its *final* state
(internal types: local seconds / day numbers / cents as int64 with `NA`, strings as objects),
plus bookkeeping columns that start with `_`:
`_loc` (location index, for the time zone), `_created` (local seconds the row appears) and one
`_t_<name>` time per state change. `snapshot.py` turns that into the row as of any date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from demo.timeutil import NA


def frame(columns: dict[str, object], n: int | None = None) -> pd.DataFrame:
    """A DataFrame from arrays/scalars (scalars broadcast), keeping int64 as int64."""
    if n is None:
        n = next(len(v) for v in columns.values() if isinstance(v, np.ndarray | list))
    data = {}
    for k, v in columns.items():
        if isinstance(v, np.ndarray | list):
            data[k] = np.asarray(v) if not isinstance(v, list) else np.array(v, dtype=object)
        else:
            data[k] = np.full(n, v, dtype=object if v is None or isinstance(v, str) else None)
    return pd.DataFrame(data)


def ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded string ids (`APT00000042`) from int numbers, vectorised.

    Each distinct number's id is one string object that every row holding it points to: a
    location's, provider's or patient's id repeats on up to millions of rows, and one Python
    string per row (~60 bytes) was the bulk of the generator's peak at chain scale.
    """
    distinct, where = np.unique(np.asarray(numbers, dtype=np.int64), return_inverse=True)
    texts = (prefix + pd.Series(distinct).astype(str).str.zfill(width)).to_numpy(dtype=object)
    return texts[where.reshape(-1)]


def day_location_ids(
    prefix: str, days: np.ndarray, locs: np.ndarray, seq: np.ndarray, width: int = 0
) -> np.ndarray:
    """Ids `<prefix><yyyymmdd>-<location no., 2 digits>-<seq, zero-padded to width>`.

    For rows drawn per day and location (walk-in calls, retail sales, reviews): the id says
    where and when the row was born, and the same draw gives the same id on every run.
    """
    date = pd.Series(np.asarray(days).astype("datetime64[D]")).dt.strftime("%Y%m%d")
    loc = pd.Series(np.asarray(locs) + 1).astype(str).str.zfill(2)
    number = pd.Series(np.asarray(seq)).astype(str).str.zfill(width)
    return (prefix + date + "-" + loc + "-" + number).to_numpy(dtype=object)


def sort_rows(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`df` stably sorted by `keys` (text or integer columns), with a fresh index.

    The same order as `sort_values(keys, kind="stable")` (ids are ASCII, so Arrow's byte order
    is pandas' code-point order), but ranked by Arrow on the key columns alone: pandas
    factorises every text key of a multi-key sort into a hash table of Python strings, which
    at chain scale added ~300 MB to the generator's peak for the POS lines.
    """
    keys_table = pa.table({k: pa.array(df[k]) for k in keys})
    order = pc.sort_indices(keys_table, [(k, "ascending") for k in keys]).to_numpy()
    del keys_table
    return df.take(order).reset_index(drop=True)


def numbers_within(sorted_keys: pd.Series) -> np.ndarray:
    """1, 2, 3... within each run of equal consecutive values of `sorted_keys`.

    `groupby(...).cumcount() + 1` for a column that is already sorted, without the groupby's
    hash table of every distinct value.
    """
    values = pa.array(sorted_keys)
    n = len(values)
    starts = np.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = pc.not_equal(values.slice(1), values.slice(0, n - 1)).to_numpy(
            zero_copy_only=False
        )
    position = np.arange(n, dtype=np.int64)
    return position - np.maximum.accumulate(np.where(starts, position, 0)) + 1


def na_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Int64 values with NA where mask is true."""
    out = np.asarray(values, dtype=np.int64).copy()
    out[mask] = NA
    return out


def strings_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Object strings with None where mask is true."""
    out = np.asarray(values, dtype=object).copy()
    out[mask] = None
    return out
