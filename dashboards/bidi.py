"""Keep a data value's text direction to the value itself.

Names come from clinic systems and may hold Unicode direction controls: an override (U+202E
RIGHT-TO-LEFT OVERRIDE) left open in a location's name reverses everything after it on the
line, so `Location: Austin <U+202E>` turns the rest of a sentence, a title or a browser tab
backwards. Right-to-left letters (a Hebrew or Arabic name) are legitimate, but they too pull
neighbouring numbers and punctuation into their direction.

Three remedies, for the kinds of place a value lands in:

- `balance` closes what a value opens and drops what it closes but never opened, so its
  controls act inside the value only. Plain text, so it works in titles and attributes.
- `isolate_html` also wraps a value holding right-to-left text or controls in `<bdi>`, which
  lays it out apart from the text around it. Values of plain left-to-right text, nearly all
  of them, are left exactly as they were.
- `strip_controls` is for `<title>`: a browser tab or window title may not honour isolation,
  so the controls and marks are removed there.
"""

from __future__ import annotations

import re

#: Embeddings and overrides (closed by PDF) and isolates (closed by PDI), per the Unicode
#: Bidirectional Algorithm (UAX #9).
LRE, RLE, PDF, LRO, RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
_EMBEDDINGS = frozenset({LRE, RLE, LRO, RLO})
_ISOLATES = frozenset({LRI, RLI, FSI})
#: Left-to-right, right-to-left and Arabic letter marks: no scope, but they steer neighbours.
MARKS = frozenset({"\u200e", "\u200f", "\u061c"})
CONTROLS = _EMBEDDINGS | _ISOLATES | {PDF, PDI}

_CONTROL_OR_MARK = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
#: Direction controls, marks, and the blocks of right-to-left scripts (Hebrew, Arabic,
#: Syriac, Thaana, NKo, Samaritan, Mandaic, their presentation forms, and the
#: supplementary-plane right-to-left blocks).
_NEEDS_ISOLATION = re.compile(
    "[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def balance(text: str) -> str:
    """`text` with every embedding, override and isolate it opens closed at its end, and every
    PDF or PDI that closes nothing it opened removed (matched as UAX #9 matches them: a PDF
    never closes across an isolate; a PDI closes what was opened since its isolate)."""
    if not _CONTROL_OR_MARK.search(text):
        return text
    out: list[str] = []
    open_: list[str] = []  # PDF or PDI: what closes each open control, innermost last
    for ch in text:
        if ch in _EMBEDDINGS:
            open_.append(PDF)
        elif ch in _ISOLATES:
            open_.append(PDI)
        elif ch == PDF:
            if not open_ or open_[-1] != PDF:
                continue
            open_.pop()
        elif ch == PDI:
            if PDI not in open_:
                continue
            while open_.pop() != PDI:
                pass
        out.append(ch)
    out.extend(reversed(open_))
    return "".join(out)


def isolate_html(html_text: str) -> str:
    """An HTML fragment (an escaped value) balanced and, when it holds right-to-left text or
    direction controls, wrapped in `<bdi>`; any other value is returned unchanged."""
    if not _NEEDS_ISOLATION.search(html_text):
        return html_text
    return f"<bdi>{balance(html_text)}</bdi>"


def strip_controls(text: str) -> str:
    """`text` without direction controls or marks (for `<title>`, where markup is text)."""
    return _CONTROL_OR_MARK.sub("", text)
