"""The weekly flash email carries its styles inline, descendant rules included: a mail client
that drops `<style>` must still show an alert's row in red (`tr.status-below td`)."""

from __future__ import annotations

import re
from pathlib import Path

from dashboards.email import inline_css, parse_rules

CSS = """
td { padding: 3px; }
td.num { text-align: right; }
.status-below { border-left-color: #c0392b; }
tr.status-below td { color: #c0392b; }
.nav a { color: #dce8ef; }
.nav a.current { color: #fff; }
a:hover { color: red; }
div > p { margin: 0; }
"""


def _style_of(html_text: str, marker: str) -> str:
    """The `style` attribute of the start tag holding `marker` ('' when it has none)."""
    tag = re.search(rf"<[^>]*{re.escape(marker)}[^>]*>", html_text)
    assert tag, marker
    style = re.search(r'style="([^"]*)"', tag.group(0))
    return style.group(1) if style else ""


def test_descendant_rules_reach_the_cells_of_a_status_row_only() -> None:
    html_text = (
        '<table><tr class="status-below"><td id="a">x</td><td class="num" id="b">1</td></tr>'
        '<tr class="status-on_target"><td id="c">y</td></tr></table>'
    )
    out = inline_css(html_text, CSS)
    assert _style_of(out, 'id="a"') == "padding: 3px; color: #c0392b"
    # td.num (1 class, 1 tag) ranks below tr.status-below td (1 class, 2 tags).
    assert _style_of(out, 'id="b"') == "padding: 3px; text-align: right; color: #c0392b"
    # The first row closed: the next row's cells are not red.
    assert _style_of(out, 'id="c"') == "padding: 3px"
    assert _style_of(out, 'class="status-below"') == "border-left-color: #c0392b"


def test_an_element_left_open_closes_with_its_parent() -> None:
    """`</tr>` closes a `<td>` that was never closed: a later row is not taken for its child."""
    html_text = (
        '<table><tr class="status-below"><td id="a">x</tr><tr><td id="b">y</td></tr></table>'
    )
    out = inline_css(html_text, CSS)
    assert _style_of(out, 'id="a"') == "padding: 3px; color: #c0392b"
    assert _style_of(out, 'id="b"') == "padding: 3px"


def test_more_specific_rules_come_later_and_the_own_style_last() -> None:
    html_text = '<div class="nav"><a class="current" style="font-weight: bold" id="a">x</a></div>'
    out = inline_css(html_text, CSS)
    assert _style_of(out, 'id="a"') == "color: #dce8ef; color: #fff; font-weight: bold"


def test_selectors_an_inline_style_cannot_honour_are_skipped() -> None:
    selectors = [" ".join(c.tag or "" for c in rule.path) for rule in parse_rules(CSS)]
    assert "a" not in selectors  # a:hover
    assert "div p" not in selectors  # div > p
    out = inline_css('<div><p id="p">x</p><a id="a">y</a></div>', CSS)
    assert _style_of(out, 'id="p"') == ""
    assert _style_of(out, 'id="a"') == ""


def test_svg_is_left_untouched() -> None:
    html_text = (
        '<table><tr class="status-below"><td><svg><text id="t">1</text></svg></td></tr></table>'
    )
    css = CSS + "text { fill: red; }"
    assert _style_of(inline_css(html_text, css), 'id="t"') == ""


def test_the_shipped_stylesheet_colours_alert_rows_in_the_email() -> None:
    """Every rule of `style.css` that colours a status row's cells is one the inliner copies."""
    css = (Path(__file__).parents[2] / "dashboards" / "assets" / "style.css").read_text("utf-8")
    out = inline_css(
        '<table><tr class="status-moved"><td id="m">1</td></tr>'
        '<tr class="status-above"><td id="a">2</td></tr></table>',
        css,
    )
    assert "color: #a35f00" in _style_of(out, 'id="m"')
    assert "color: #c0392b" in _style_of(out, 'id="a"')
