"""Keyed random streams: every draw is a pure function of (seed, key, purpose).

Two kinds of stream keep the simulation causal, which is what makes `--advance` deltas equal
a longer full run: day streams (`day_rng`) for everything decided on one day, and entity
streams (`keyed_uniform`) for things derived from one entity (an invoice from its appointment).
Neither depends on the end date or on how many days were simulated.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

#: Added to day numbers so stream keys are never negative.
_DAY_OFFSET = 1_000_000


class Stream(IntEnum):
    """One purpose per stream; a new purpose gets a new number, old numbers never change."""

    ROSTER = 1
    NEW_PATIENTS = 2
    BOOKING = 3
    ALLOCATE = 4
    LIFECYCLE = 5
    FOLLOW_UP = 6
    LEADS = 7
    REACTIVATION = 8
    CALLS = 9
    RETAIL = 10
    SPEND = 11
    REVIEWS = 12
    PEOPLE = 13
    BILLING = 20
    MEMBERSHIP = 21
    INTAKE = 22
    MESSAGES = 23
    SURVEYS = 24
    LEAD_CALLS = 25
    MARKETING = 26
    DEFECTS = 30


def day_rng(seed: int, day: int, stream: Stream, sub: int = 0) -> np.random.Generator:
    """The generator for one day and purpose (`sub` separates repeated passes of one day)."""
    return np.random.default_rng([seed, int(day) + _DAY_OFFSET, int(stream), sub])


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a cheap, well-spread bijection on uint64."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def keyed_uniform(seed: int, stream: Stream, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform [0, 1) draws, one per element of the broadcast keys, reproducible per key."""
    with np.errstate(over="ignore"):
        h = _mix(np.uint64(seed) * _GOLD + np.uint64(int(stream)))
        for k in keys:
            h = _mix(h ^ (np.asarray(k).astype(np.int64).astype(np.uint64) + _GOLD))
    h = np.atleast_1d(h)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def keyed_choice(u: np.ndarray, weights: np.ndarray | list[float]) -> np.ndarray:
    """Map uniforms to indices of `weights` (inverse CDF), vectorised."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(w) - 1)
