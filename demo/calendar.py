"""The capacity calendar: what is open, which room is active and who works there, per day.

Its own module because both `locations` (which builds it) and `staff` (which fills its roster)
need the type; with the class inside `locations` the two modules imported each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Calendar:
    """Capacity lookups indexed by [location or room, day - day0] plus the dimension rows."""

    day0: int
    n_days: int
    open_h: np.ndarray  # (loc, day) opening hour, 0 when closed
    close_h: np.ndarray  # (loc, day) closing hour, 0 when closed
    room_loc: np.ndarray
    room_kind: np.ndarray  # 0 treatment, 1 consult, 2 other
    room_active: np.ndarray  # (room, day) bool
    loc_treat_rooms: list[np.ndarray]
    loc_consult_room: np.ndarray
    dev_room: np.ndarray  # (loc, device type) -> room index or -1
    dev_from: np.ndarray  # (loc, device type) -> purchase day
    roster: np.ndarray  # (room, day) -> provider index or -1
    provider_loc: np.ndarray
    weak_rebooker: int  # story 2
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
