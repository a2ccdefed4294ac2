"""Make the weekly flash a single HTML file an email client shows as intended.

Many mail clients drop `<style>` blocks, so each rule of our own stylesheet whose selector is
simple (`tag`, `.class`, `tag.class`) or a chain of simple ones read as descendants
(`tr.status-below td`: the colour of an alert's row) is copied into the `style` attribute of
the elements it matches, in the cascade's order (less specific first, the element's own
`style` last). Charts are already inline SVG, so the file needs nothing from the network or
disk. SVG elements are left untouched (their attribute names are case-sensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE = re.compile(r"^(?P<tag>[a-z][a-z0-9]*)?(?P<classes>(?:\.[A-Za-z0-9_-]+)*)$")
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}


@dataclass(frozen=True)
class Compound:
    """One simple selector: an optional tag and the classes an element must all have."""

    tag: str | None
    classes: frozenset[str]

    def matches(self, element: Compound) -> bool:
        """Whether an element (its tag and every class it has) matches this selector."""
        return (self.tag is None or self.tag == element.tag) and self.classes <= element.classes


@dataclass(frozen=True)
class Rule:
    """`declarations` for an element matching `path[-1]` inside ones matching the rest, in
    order (descendant combinators only); `order` is the rule's place in the stylesheet."""

    path: tuple[Compound, ...]
    declarations: str
    order: int

    @property
    def specificity(self) -> tuple[int, int]:
        """(classes, tags), as CSS ranks selectors without ids or attributes."""
        return (
            sum(len(c.classes) for c in self.path),
            sum(c.tag is not None for c in self.path),
        )

    def matches(self, element: Compound, ancestors: list[Compound]) -> bool:
        """Whether `element` (a tag and its classes) inside `ancestors` (outermost first)
        matches: its own part, then each outer part in some ancestor, innermost first."""
        *outer, own = self.path
        if not own.matches(element):
            return False
        pending = list(outer)
        for ancestor in reversed(ancestors):
            if not pending:
                break
            if pending[-1].matches(ancestor):
                pending.pop()
        return not pending


def _element(tag: str, attrs: list[tuple[str, str | None]]) -> Compound:
    """An element as a selector matches it: its tag and its classes."""
    return Compound(tag, frozenset((dict(attrs).get("class") or "").split()))


def _compound(text: str) -> Compound | None:
    m = _SIMPLE.match(text)
    if not m or not (m.group("tag") or m.group("classes")):
        return None
    classes = frozenset(c for c in m.group("classes").split(".") if c)
    return Compound(m.group("tag"), classes)


def parse_rules(css: str) -> list[Rule]:
    """A rule per selector made only of simple selectors (descendant chains included), in
    stylesheet order; selectors with anything else (`>`, `:hover`, `#id`, `[attr]`) are
    skipped: an email client could not honour them inline either."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules: list[Rule] = []
    for selectors, decls in _RULE.findall(css):
        decls = " ".join(decls.split()).strip().rstrip(";")
        for sel in selectors.split(","):
            path = [_compound(part) for part in sel.split()]
            if path and all(c is not None for c in path):
                rules.append(Rule(tuple(c for c in path if c is not None), decls, len(rules)))
    return rules


class _Inliner(HTMLParser):
    def __init__(self, rules: list[Rule]) -> None:
        super().__init__(convert_charrefs=False)
        self.rules = sorted(rules, key=lambda r: (r.specificity, r.order))
        self.out: list[str] = []
        self.svg_depth = 0
        #: The open elements, outermost first (what a descendant selector's ancestors match).
        self.open: list[Compound] = []

    def _styled(self, element: Compound, attrs: list[tuple[str, str | None]]) -> str:
        text = self.get_starttag_text() or ""
        if self.svg_depth or element.tag == "svg":
            return text
        decls = [r.declarations for r in self.rules if r.matches(element, self.open)]
        if not decls:
            return text
        existing = dict(attrs).get("style")
        style = "; ".join(decls + ([existing] if existing else []))
        text = re.sub(r'\sstyle="[^"]*"', "", text, count=1)
        return re.sub(r"^<([A-Za-z0-9]+)", lambda m: f'<{m.group(1)} style="{style}"', text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _element(tag, attrs)
        self.out.append(self._styled(element, attrs))
        if tag == "svg":
            self.svg_depth += 1
        if tag not in _VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._styled(_element(tag, attrs), attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg_depth = max(0, self.svg_depth - 1)
        # Close up to the nearest open element of this name (an element left open inside it
        # closes with it, as HTML parsers do); a stray end tag closes nothing.
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                break
        # Tag names are case-insensitive to HTML parsers, inside inline SVG too.
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def inline_css(html_text: str, css: str) -> str:
    """Copy the stylesheet's simple and descendant rules into matching elements' `style`."""
    parser = _Inliner(parse_rules(css))
    parser.feed(html_text)
    parser.close()
    return "".join(parser.out)
