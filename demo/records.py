"""The simulation's working records: growable columns, booking requests and the result."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.calendar import Calendar
from demo.config import ChainConfig

#: "Never" for day-valued patient state.
FAR = 10**9
REQ_FIELDS = (
    "patient",
    "lead",
    "loc",
    "target",
    "service",
    "n_done",
    "booked_at",
    "channel",
    "resched_from",
    "acq",
)


class Grow:
    """A column store that grows by doubling (patient state is looked up by index)."""

    def __init__(self, **dtypes: type) -> None:
        self.n = 0
        self.cols = {k: np.zeros(1024, dtype=t) for k, t in dtypes.items()}

    def add(self, **values: np.ndarray) -> np.ndarray:
        m = len(next(iter(values.values())))
        while self.n + m > len(next(iter(self.cols.values()))):
            for k, v in self.cols.items():
                self.cols[k] = np.concatenate([v, np.zeros_like(v)])
        for k, v in values.items():
            self.cols[k][self.n : self.n + m] = v
        idx = np.arange(self.n, self.n + m)
        self.n += m
        return idx

    def __getitem__(self, k: str) -> np.ndarray:
        return self.cols[k]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: v[: self.n] for k, v in self.cols.items()})


def requests(n: int, **given: np.ndarray) -> dict[str, np.ndarray]:
    """Booking requests with defaults: -1 = decide at booking time."""
    out = {k: np.full(n, -1, dtype=np.int64) for k in REQ_FIELDS}
    for k, v in given.items():
        out[k] = np.asarray(v, dtype=np.int64)
    return out


@dataclass
class SimResult:
    """Everything the table builders need from one simulation run."""

    cfg: ChainConfig
    cal: Calendar
    horizon: int
    appointments: pd.DataFrame
    patients: pd.DataFrame
    leads: pd.DataFrame
    reactivations: pd.DataFrame
    #: Booking requests that found no free slot within days of their target (full books).
    lost_requests: int = 0
