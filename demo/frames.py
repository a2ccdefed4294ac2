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
    """Zero-padded string ids (`APT00000042`) from int numbers, vectorised."""
    nums = pd.Series(np.asarray(numbers, dtype=np.int64)).astype(str).str.zfill(width)
    return (prefix + nums).to_numpy(dtype=object)


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
