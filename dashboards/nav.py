"""The navigation block of every page, rendered once per folder depth instead of per page.

Every page carries the whole navigation (at large scale 290 links), so rendering it through
the template for each page is quadratic: 84,000 links for a chain's site. The block differs
between pages only by the link prefix (`root`, one per folder depth) and by which link is
marked current, so it is rendered once per `root` with no current link, and each page's copy
marks its own link the way the template would (`class="... current"`). The text is the same
as rendering `nav.html.j2` for the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from markupsafe import escape


class NavHtml:
    """`render(root, current)` == `template.render(nav=nav, root=root, current=current)`."""

    def __init__(self, template: jinja2.Template, nav: Sequence[dict[str, Any]]) -> None:
        self.template = template
        self.nav = nav
        self._by_root: dict[str, str] = {}

    def render(self, root: str, current: str) -> str:
        base = self._by_root.get(root)
        if base is None:
            base = self.template.render(nav=self.nav, root=root, current=None)
            self._by_root[root] = base
        marked = {
            bool(item.get("child"))
            for item in self.nav
            if not item.get("group") and item.get("href") == current
        }
        for child in sorted(marked):
            cls = "child" if child else ""
            link = f'<a href="{escape(root)}{escape(current)}" class="{cls}'
            base = base.replace(f'{link}">', f'{link} current">')
        return base
