"""Make the weekly flash a single HTML file an email client shows as intended.

Many mail clients drop `<style>` blocks, so each rule of our own stylesheet whose selector is
simple (`tag`, `.class`, `tag.class`) is copied into the `style` attribute of the elements it
matches. Charts are already inline SVG, so the file needs nothing from the network or disk.
SVG elements are left untouched (their attribute names are case-sensitive).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE = re.compile(r"^(?P<tag>[a-z][a-z0-9]*)?(?P<classes>(?:\.[A-Za-z0-9_-]+)*)$")
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}


def parse_rules(css: str) -> list[tuple[str | None, frozenset[str], str]]:
    """(tag, classes, declarations) for each simple selector, in stylesheet order."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules = []
    for selectors, decls in _RULE.findall(css):
        decls = " ".join(decls.split()).strip().rstrip(";")
        for sel in selectors.split(","):
            m = _SIMPLE.match(sel.strip())
            if m and (m.group("tag") or m.group("classes")):
                classes = frozenset(c for c in m.group("classes").split(".") if c)
                rules.append((m.group("tag"), classes, decls))
    return rules


class _Inliner(HTMLParser):
    def __init__(self, rules: list[tuple[str | None, frozenset[str], str]]) -> None:
        super().__init__(convert_charrefs=False)
        self.rules = rules
        self.out: list[str] = []
        self.svg_depth = 0

    def _styled(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        text = self.get_starttag_text() or ""
        if self.svg_depth or tag == "svg":
            return text
        classes = set((dict(attrs).get("class") or "").split())
        decls = [
            d for t, cls, d in self.rules if (t is None or t == tag) and cls and cls <= classes
        ]
        decls = [d for t, cls, d in self.rules if t == tag and not cls] + decls
        if not decls:
            return text
        existing = dict(attrs).get("style")
        style = "; ".join(decls + ([existing] if existing else []))
        text = re.sub(r'\sstyle="[^"]*"', "", text, count=1)
        return re.sub(r"^<([A-Za-z0-9]+)", lambda m: f'<{m.group(1)} style="{style}"', text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._styled(tag, attrs))
        if tag == "svg":
            self.svg_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._styled(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg_depth = max(0, self.svg_depth - 1)
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
    """Copy simple CSS rules into matching elements' style attributes."""
    parser = _Inliner(parse_rules(css))
    parser.feed(html_text)
    parser.close()
    return "".join(parser.out)
