"""What one demo chain is: seed, size, period and the dates its story lines turn on.

A `ChainConfig` is fixed when the chain is first generated and saved in the marker file;
`--advance` reloads it, so story dates (which are relative to the *first* end date) never
move and continuing the chain gives the same rows a longer run would have given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from demo.timeutil import day_number

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 20_261_115
#: Fixed default end date: output never depends on the wall clock.
DEFAULT_END_DATE = dt.date(2026, 11, 15)
#: scale -> (locations, years)
SCALES: dict[str, tuple[int, float]] = {"small": (1, 1.25), "medium": (5, 3.0), "large": (40, 3.0)}


@dataclass(frozen=True)
class ChainConfig:
    """Everything the simulation depends on (besides the horizon it is run to)."""

    seed: int
    scale: str
    locations: int
    start_date: dt.date
    end_date: dt.date  # the first snapshot's date; story dates hang off it

    @classmethod
    def build(
        cls,
        scale: str = "small",
        seed: int = DEFAULT_SEED,
        end_date: dt.date = DEFAULT_END_DATE,
        locations: int | None = None,
        years: float | None = None,
    ) -> ChainConfig:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        n_loc, n_years = SCALES[scale]
        n_loc = locations if locations is not None else n_loc
        n_years = years if years is not None else n_years
        if n_loc < 1:
            raise ValueError("--locations must be at least 1")
        if not 0.05 <= n_years <= 10:
            raise ValueError("--years must be between 0.05 and 10")
        start = end_date - dt.timedelta(days=round(n_years * 365.25))
        return cls(seed, scale, n_loc, start, end_date)

    # -- day numbers the simulation uses -------------------------------------------------
    @property
    def start_day(self) -> int:
        return day_number(self.start_date)

    @property
    def end_day(self) -> int:
        return day_number(self.end_date)

    def at_share(self, share: float) -> int:
        """The day a given share of the way through the first period."""
        return self.start_day + round(share * (self.end_day - self.start_day))

    @property
    def membership_launch_day(self) -> int:
        """Story 3: memberships launch 40 % of the way in."""
        return self.at_share(0.40)

    @property
    def new_location_day(self) -> int:
        """Story 4: with two or more locations, the last one opens 45 % of the way in."""
        return self.at_share(0.45)

    @property
    def laser_purchase_day(self) -> int:
        """Story 5: location 1 (the first) buys its laser 35 % of the way in."""
        return self.at_share(0.35)

    @property
    def missed_call_story_day(self) -> int:
        """Story 1: from 7 weeks before the first end date the story location misses more calls."""
        return self.end_day - 49

    @property
    def room_open_day(self) -> int:
        return self.at_share(0.55)

    @property
    def room_retire_day(self) -> int:
        return self.at_share(0.70)

    @property
    def hours_change_day(self) -> int:
        return self.at_share(0.50)

    @property
    def missed_call_location(self) -> int:
        """Index of the missed-call story location (the second one when there are several)."""
        return 1 if self.locations > 1 else 0

    def opening_day(self, loc: int) -> int:
        """When location `loc` opened (all but a mid-way newcomer predate the data)."""
        if self.locations >= 2 and loc == self.locations - 1:
            return self.new_location_day
        return self.start_day - 400 - 97 * loc

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["start_date"] = self.start_date.isoformat()
        d["end_date"] = self.end_date.isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, object]) -> ChainConfig:
        return cls(
            seed=int(d["seed"]),  # type: ignore[arg-type]
            scale=str(d["scale"]),
            locations=int(d["locations"]),  # type: ignore[arg-type]
            start_date=dt.date.fromisoformat(str(d["start_date"])),
            end_date=dt.date.fromisoformat(str(d["end_date"])),
        )
