"""Colours: the categorical palette for series and a sequential blue ramp for heatmaps."""

#: Ten distinguishable colours: the service-category mix has 8 series.
PALETTE = [
    "#2f6f8f",
    "#d08c3a",
    "#5b9a68",
    "#a4506c",
    "#7a6fb0",
    "#8c8c8c",
    "#3f9fb0",
    "#b59a2e",
    "#6b4f3a",
    "#d47fa6",
]
TARGET = "#a4506c"
BAND = "#5b9a68"
TEXT = "#444"
GRID = "#e6e6e6"
DOMAIN = "#888"
#: An open value (its KPI's window is still open: a count so far, not final) is drawn hollow:
#: a white point, a pale outlined bar, a grey heatmap cell outside the value scale.
WHITE = "#fff"
OPEN_CELL = "#e4e4e4"
OPEN_KEY = "#777"
OPEN_DASH = "4,3"

#: Light to dark blue; the lightest is still visible on white so a low cell is not "missing".
_BLUES = [
    (0xCF, 0xE1, 0xF2),
    (0xA8, 0xCE, 0xE5),
    (0x74, 0xB2, 0xD7),
    (0x45, 0x92, 0xC6),
    (0x20, 0x6F, 0xB2),
    (0x0A, 0x4A, 0x90),
]


def series_color(index: int) -> str:
    """The palette colour of the `index`-th series (the palette repeats past 10 series)."""
    return PALETTE[index % len(PALETTE)]


def blues(t: float) -> str:
    """The ramp's colour at `t` in [0, 1] (clamped), linearly interpolated between stops."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(_BLUES) - 1)
    i = min(int(pos), len(_BLUES) - 2)
    f = pos - i
    a, b = _BLUES[i], _BLUES[i + 1]
    r, g, bl = (round(a[k] + (b[k] - a[k]) * f) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"
