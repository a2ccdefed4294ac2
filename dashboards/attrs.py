"""Component tag attributes: parsing `key=value` pairs and the checks every component shares.

`data={query}` binds a query's rows; every other attribute is text. A wrong column name, a
bad number or an unknown format is the author's mistake and raises ComponentError, which the
renderer reports at the tag's line.

Attributes are parsed while each `{{ ... }}` value is still a placeholder (`restore` puts the
values back), so a value from the data is one attribute value, and one `where` value, however
many spaces, commas or `=` it holds: `where="location_id={{ loc.location_id }}"` selects a
location called `LOC,02` too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dashboards.bidi import balance
from dashboards.formatting import KNOWN_FORMATS
from dashboards.queries import QueryResult

_ATTR = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*)"
    r"(?:\s*=\s*(?:\{\s*(?P<ref>[^{}]*?)\s*\}|\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"'=<>`]+)))?"
)


class ComponentError(Exception):
    """An author mistake inside one component tag."""


@dataclass
class Attrs:
    """A tag's attributes; `data` is the bound query result (or None)."""

    values: dict[str, str]
    data: QueryResult | None
    #: `where` as (column, value) pairs, split before data values were put back (see the
    #: module doc); None when built by hand, and `selected_rows` splits `values["where"]`.
    where: list[tuple[str, str]] | None = None

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def column(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        """An attribute naming a column of `data`; a wrong name is the author's error."""
        name = self.values.get(key, default)
        if name is None:
            if required:
                raise ComponentError(f"attribute {key}= is required")
            return None
        if self.data is not None and self.data.columns and name not in self.data.columns:
            if key in self.values:
                raise ComponentError(
                    f"{key}={name!r}: query {self.data.name!r} has no such column "
                    f"(columns: {', '.join(self.data.columns)})"
                )
            return None  # a defaulted column the query simply does not have
        return name

    def columns(self, key: str, required: bool = False) -> list[str]:
        raw = self.values.get(key)
        if raw is None:
            if required:
                raise ComponentError(f"attribute {key}= is required")
            return []
        names = [c.strip() for c in raw.split(",") if c.strip()]
        for name in names:
            if self.data is not None and self.data.columns and name not in self.data.columns:
                raise ComponentError(
                    f"{key}: query {self.data.name!r} has no column {name!r} "
                    f"(columns: {', '.join(self.data.columns)})"
                )
        return names

    def number(self, key: str) -> float | None:
        """A numeric attribute; absent, empty or `None` is no number. `None` is what a null
        from the data reads as (`yRef={{ t.target_low }}` for a KPI without a target), so a
        chart reads its target from the seed and draws no line when the seed has none."""
        raw = self.values.get(key)
        if raw in (None, "", "None"):
            return None
        try:
            return float(raw)
        except ValueError:
            raise ComponentError(f"{key}={raw!r} is not a number") from None

    def fmt_name(self, key: str) -> str | None:
        name = self.values.get(key)
        if name is not None and name not in KNOWN_FORMATS:
            raise ComponentError(
                f"{key}={name!r}: unknown format ({', '.join(sorted(KNOWN_FORMATS))})"
            )
        return name

    def flag(self, key: str, default: bool = False) -> bool:
        raw = self.values.get(key)
        return default if raw is None else raw.lower() not in ("false", "0", "no")


def _no_values(text: str) -> str:
    return text


def _split_where(raw: str, restore: Callable[[str], str]) -> list[tuple[str, str]]:
    """`col=value, col2=value2` split on the commas and first `=` of the text as written;
    each part gets its data values back (`restore`) only then, so they are never split."""
    conditions = []
    for cond in filter(None, (c.strip() for c in raw.split(","))):
        if "=" not in cond:
            raise ComponentError(f"where: {restore(cond)!r} is not column=value")
        col, want = (restore(s.strip()) for s in cond.split("=", 1))
        conditions.append((col.strip(), want))
    return conditions


def parse_attrs(
    text: str,
    results: Mapping[str, QueryResult],
    restore: Callable[[str], str] = _no_values,
) -> Attrs:
    """Parse `key=value` pairs; `data={name}` must name one of the page's queries.

    `text` may hold placeholders for the page's `{{ ... }}` values, which `restore` replaces
    by the (HTML-escaped) values: parsing first keeps a value from being taken apart.
    """
    values: dict[str, str] = {}
    data: QueryResult | None = None
    where: list[tuple[str, str]] | None = None
    for m in _ATTR.finditer(text):
        key = m.group("key")
        if m.group("ref") is not None:
            ref = m.group("ref")
            if key != "data":
                values[key] = restore(ref)
                continue
            if ref not in results:
                raise ComponentError(f"data={{{ref}}}: no query named {ref!r} on this page")
            data = results[ref]
            continue
        raw = next((m.group(g) for g in ("dq", "sq", "bare") if m.group(g) is not None), "true")
        values[key] = html.unescape(restore(raw))
        if key == "where":
            where = _split_where(raw, lambda part: html.unescape(restore(part)))
    return Attrs(values, data, where)


def title_html(text: str | None) -> str:
    return f'<div class="c-title">{html.escape(balance(text))}</div>' if text else ""


def empty_notice(kind: str, attrs: Attrs) -> str:
    what = attrs.get("title") or (attrs.data.name if attrs.data is not None else kind)
    if attrs.data is not None and attrs.data.missing:
        reason = "the table behind it is not published yet"
    else:
        reason = attrs.get("emptyMessage") or "no rows for this period"
    what, reason = balance(what), balance(reason)  # data may be in either (`dashboards.bidi`)
    return f'<p class="empty">No data for {html.escape(what)}: {html.escape(reason)}.</p>'


def selected_rows(attrs: Attrs) -> list[dict[str, Any]]:
    """Rows of `data`, narrowed by `where="col=value, col2=value2"` when given."""
    if attrs.data is None:
        raise ComponentError("attribute data={query} is required")
    rows = list(attrs.data)
    where = attrs.where
    if where is None:
        where = _split_where(attrs.get("where") or "", _no_values)
    for col, want in where:
        if attrs.data.columns and col not in attrs.data.columns:
            raise ComponentError(f"where: query {attrs.data.name!r} has no column {col!r}")
        rows = [r for r in rows if str(r.get(col)) == want]
    return rows
