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


def text_width(text: str, size: float = 10.0) -> float:
    """Estimated width in px of `text` in sans-serif at font size `size`."""
    units = 0.0
    for ch in text:
        if ch in _NARROW:
            units += 0.3
        elif ch in _WIDE:
            units += 0.85
        elif ch.isupper():
            units += 0.67
        elif ch.isdigit():
            units += 0.56
        else:
            units += 0.53
    return units * size


def truncate(text: str, limit: float, size: float = 10.0) -> str:
    """`text` cut with an ellipsis so its estimated width fits `limit` px."""
    if text_width(text, size) <= limit:
        return text
    while text and text_width(text + "…", size) > limit:
        text = text[:-1]
    return text + "…"
