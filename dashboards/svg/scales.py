"""Scales: value -> pixel. Linear scales with "nice" round ticks, and band scales.

Nice ticks follow d3's rule (steps of 1, 2 or 5 times a power of ten, chosen so the count
is close to what fits), so axes read 0, 500, 1,000 rather than 0, 437, 874.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

_E10, _E5, _E2 = math.sqrt(50), math.sqrt(10), math.sqrt(2)


def tick_step(lo: float, hi: float, count: int) -> float:
    """A round step (1, 2 or 5 x 10^k) giving about `count` ticks over [lo, hi]."""
    raw = (hi - lo) / max(1, count)
    power = math.floor(math.log10(raw))
    step = 10.0**power
    error = raw / step
    if error >= _E10:
        step *= 10
    elif error >= _E5:
        step *= 5
    elif error >= _E2:
        step *= 2
    return step


def _clean(value: float) -> float:
    """Drop float noise (0.30000000000000004) and negative zero, so labels are exact."""
    value = round(value, 10)
    return 0.0 if value == 0 else value


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round ticks covering [lo, hi]: the first at or below lo, the last at or above hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("scale domain is not finite")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:  # one value (or all zero): a unit around it, so the axis still has ticks
        lo, hi = (lo - abs(lo) / 2, hi + abs(hi) / 2) if lo else (0.0, 1.0)
    step = tick_step(lo, hi, count)
    for _ in range(2):  # widening the domain can change the step once (as d3's nice)
        # The tolerance keeps 0.30000000000000004 from growing the domain by a whole step.
        lo = _clean(math.floor(lo / step + 1e-9) * step)
        hi = _clean(math.ceil(hi / step - 1e-9) * step)
        step = tick_step(lo, hi, count)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [_clean(i * step) for i in range(first, last + 1)]


@dataclass(frozen=True)
class Linear:
    """Maps [d0, d1] onto [r0, r1] (r0 > r1 for a y axis, which grows upwards)."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        span = self.d1 - self.d0
        return self.r0 + (value - self.d0) / span * (self.r1 - self.r0) if span else self.r0


@dataclass(frozen=True)
class Band:
    """Evenly spaced bands for categories; `padding` is the share of each step left empty."""

    domain: Sequence[object]
    start: float
    extent: float
    padding: float = 0.1
    outer: float = 0.05

    @property
    def step(self) -> float:
        return self.extent / max(1.0, len(self.domain) - self.padding + 2 * self.outer)

    @property
    def bandwidth(self) -> float:
        return self.step * (1 - self.padding)

    def __call__(self, index: int) -> float:
        """Left (or top) edge of the band of category number `index`."""
        return self.start + self.step * (self.outer + index)

    def center(self, index: int) -> float:
        return self(index) + self.bandwidth / 2


def point_scale(n: int, start: float, extent: float) -> Band:
    """Categories as points (a line over ordinal x): half a step of margin at each end."""
    return Band(list(range(n)), start, extent, padding=1.0, outer=0.5)
