"""Text in SVG: escaping and a width estimate for laying out labels.

Labels come from data (location, provider and service names), so every text and attribute
value is XML-escaped. There is no font engine here: widths are estimated from per-character
classes of a generic sans-serif, close enough to thin overlapping labels and size margins.
"""

import html

_NARROW = frozenset("iljtfrI.,:;'!|()[]{}/\\ ")
_WIDE = frozenset("mwMW@%")


def esc(text: object) -> str:
    """XML-escape a text or attribute value (quotes too: values go inside attributes)."""
    return html.escape(str(text), quote=True)


#: Column names that say nothing on their own in a hover text: a period's start in words;
#: `value` (a page's long table filtered to one KPI, the chart's title naming it) not at all.
_FIELD_WORDS = {"period_start": "period starting", "cohort_month": "cohort"}
_UNNAMED = frozenset({"value"})


def tip_line(column: str, text: str) -> str:
    """One line of a mark's hover text: `net revenue: $1,200`, `period starting: 2026-11-02`,
    and a bare `$1,200` for a column called `value` ("value: $1,200", "period_start:
    2026-11-02" were the query's names, not words)."""
    if column in _UNNAMED:
        return text
    return f"{_FIELD_WORDS.get(column, column.replace('_', ' '))}: {text}"


def _units(ch: str) -> float:
    """One character's width in ems (of the font size)."""
    if ch in _NARROW:
        return 0.3
    if ch in _WIDE:
        return 0.85
    if ch.isupper():
        return 0.67
    if ch.isdigit():
        return 0.56
    return 0.53


def text_width(text: str, size: float = 10.0) -> float:
    """Estimated width in px of `text` in sans-serif at font size `size`."""
    units = 0.0
    for ch in text:
        units += _units(ch)
    return units * size


def truncate(text: str, limit: float, size: float = 10.0) -> str:
    """`text` cut with an ellipsis so its estimated width fits `limit` px.

    One pass over the text: the longest prefix whose width with the ellipsis fits. A name
    comes from a clinic's export and may be any length (a 200,000-character location name
    once held a site build for ever when each cut re-measured the whole text)."""
    if text_width(text, size) <= limit:
        return text
    ellipsis, units, cut = _units("…"), 0.0, 0
    for ch in text:
        units += _units(ch)
        if (units + ellipsis) * size > limit:
            break
        cut += 1
    return text[:cut] + "…"
