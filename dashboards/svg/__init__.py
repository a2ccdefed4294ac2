"""A small, deterministic SVG chart renderer: the site's line, bar and heatmap charts.

Charts are drawn in Python straight to SVG text, with no JavaScript runtime: about a
millisecond per chart, so a site build no longer needs a cache of drawn charts. One module
per job: `scales` (linear/band scales, nice ticks), `numbers` and `dates` (axis and tooltip
text), `text` (escaping, text-width estimate for label layout), `axes`, `marks`, `legend`,
`colors`, and the two chart layouts `series` (line/bar) and `heatmap`.

The same chart description always gives the same bytes: no clock, no locale, no machine
zone, no random ids.
"""

from dashboards.svg.heatmap import HeatmapChart, draw_heatmap
from dashboards.svg.series import SeriesChart, draw_series

__all__ = ["HeatmapChart", "SeriesChart", "draw_heatmap", "draw_series"]
