"""Parse a page file: front matter, named SQL blocks, and where each component sits.

A page is plain markdown an analyst can read on GitHub. We take it apart without losing line
numbers: front matter and SQL blocks are replaced by blank lines in `Page.body`, so a line
number Jinja or the component scanner reports is the line in the author's file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dashboards.errors import PageError

_FENCE_OPEN = re.compile(r"^```sql(?:\s+(?P<rest>.*?))?\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: A component tag: a capitalised tag name, attributes (quotes may hold anything but `<>`
#: stays out of bare text), self-closing.
COMPONENT_TAG = re.compile(
    r"<(?P<name>[A-Z][A-Za-z0-9]*)(?P<attrs>(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?)\s*/>", re.DOTALL
)
_ANY_CAPITAL_TAG = re.compile(r"<(?P<name>[A-Z][A-Za-z0-9]*)\b")
_DATA_REF = re.compile(r"\bdata\s*=\s*\{\s*(?P<ref>[A-Za-z_][A-Za-z0-9_]*)\s*\}")
#: A chained query name in SQL (`${name}` or `{{ name }}`), as `dashboards.queries` resolves it.
_QUERY_REF = re.compile(r"\$\{\s*(?P<a>[A-Za-z_]\w*)\s*\}|\{\{\s*(?P<b>[A-Za-z_]\w*)\s*\}\}")
#: Helper queries any page may chain without defining them (README: "Shared helpers").
SHARED_QUERIES_PATH = Path(__file__).resolve().parent / "shared_queries.md"


@dataclass(frozen=True)
class SqlBlock:
    """One ```sql name block. `line` is the fence line; `body_line` the first SQL line."""

    name: str
    sql: str
    line: int
    body_line: int
    optional: bool = False


@dataclass(frozen=True)
class ComponentUse:
    """A component tag as written (before Jinja), for checks that must run before any SQL."""

    name: str
    line: int
    data_ref: str | None


@dataclass
class Page:
    """A parsed page. `body` keeps the author's line numbers (removed parts are blank lines)."""

    path: Path
    meta: dict[str, Any]
    queries: dict[str, SqlBlock]
    body: str
    components: list[ComponentUse] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.name.replace("_", " ").replace("-", " "))


def line_of(text: str, offset: int, first_line: int = 1) -> int:
    """1-based line number of a character offset."""
    return first_line + text.count("\n", 0, offset)


def _front_matter(lines: list[str], page: str) -> tuple[dict[str, Any], int]:
    """Front matter (YAML between `---` lines at the top) and how many lines it spans."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            try:
                meta = yaml.safe_load("\n".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = 2 + mark.line if mark is not None else 1
                raise PageError(page, line, "front matter is not valid YAML") from None
            if not isinstance(meta, dict):
                raise PageError(page, 1, "front matter must be a YAML mapping")
            return meta, i + 1
    raise PageError(page, 1, "front matter opened with --- is never closed")


def _sql_blocks(lines: list[str], start: int, page: str) -> dict[str, SqlBlock]:
    """Find the ```sql blocks and blank them out of `lines` (in place)."""
    blocks: dict[str, SqlBlock] = {}
    i = start
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence_line = i + 1
        words = (m.group("rest") or "").split()
        if not words or not _NAME.match(words[0]):
            raise PageError(page, fence_line, "a ```sql block needs a name: ```sql my_query")
        name, flags = words[0], set(words[1:])
        if flags - {"optional"}:
            raise PageError(page, fence_line, f"unknown sql block flag(s): {sorted(flags)}")
        if name in blocks:
            raise PageError(page, fence_line, f"query {name!r} is defined twice")
        j = i + 1
        while j < len(lines) and not _FENCE_CLOSE.match(lines[j]):
            j += 1
        if j == len(lines):
            raise PageError(page, fence_line, f"sql block {name!r} is never closed with ```")
        sql = "\n".join(lines[i + 1 : j]).strip().rstrip(";")
        if not sql:
            raise PageError(page, fence_line, f"sql block {name!r} is empty")
        blocks[name] = SqlBlock(name, sql, fence_line, fence_line + 1, "optional" in flags)
        for k in range(i, j + 1):
            lines[k] = ""
        i = j + 1
    return blocks


def scan_components(body: str, page: str) -> list[ComponentUse]:
    """Every component tag in the body; a capitalised tag that is not self-closing is an error."""
    uses: list[ComponentUse] = []
    covered: set[int] = set()
    for m in COMPONENT_TAG.finditer(body):
        ref = _DATA_REF.search(m.group("attrs"))
        line = line_of(body, m.start())
        uses.append(ComponentUse(m.group("name"), line, ref.group("ref") if ref else None))
        covered.add(m.start())
    for m in _ANY_CAPITAL_TAG.finditer(body):
        if m.start() not in covered:
            raise PageError(
                page, line_of(body, m.start()), f"<{m.group('name')}> must be self-closing: <... />"
            )
    return uses


def parse_page(path: Path, text: str | None = None) -> Page:
    """Parse one page file; raises PageError with the offending line."""
    page = path.name
    text = path.read_text(encoding="utf-8") if text is None else text
    lines = text.split("\n")
    meta, fm_lines = _front_matter(lines, page)
    for k in range(fm_lines):
        lines[k] = ""
    queries = _sql_blocks(lines, fm_lines, page)
    _add_shared_queries(queries)
    body = "\n".join(lines)
    return Page(path, meta, queries, body, scan_components(body, page))


@functools.cache
def shared_queries() -> dict[str, SqlBlock]:
    """The helper blocks of `shared_queries.md`, each a `_name` (never run on its own).

    Why: a rule two pages must apply alike (how a provider is named) was written on each page
    and drifted apart, so one provider had two names. Written once here, it cannot.
    """
    name = SHARED_QUERIES_PATH.name
    lines = SHARED_QUERIES_PATH.read_text(encoding="utf-8").split("\n")
    blocks = _sql_blocks(lines, 0, name)
    for block in blocks.values():
        if not block.name.startswith("_"):
            raise PageError(name, block.line, f"shared query {block.name!r} must be a _helper")
    return blocks


def _add_shared_queries(queries: dict[str, SqlBlock]) -> None:
    """Add to a page's blocks the shared helpers it chains (and those they chain), unless the
    page defines a block of that name itself (the page's own wins)."""
    shared = shared_queries()
    todo = list(queries.values())
    while todo:
        block = todo.pop()
        for m in _QUERY_REF.finditer(block.sql):
            ref = m.group("a") or m.group("b")
            if ref in shared and ref not in queries:
                queries[ref] = shared[ref]
                todo.append(shared[ref])


_TABLE_REF = re.compile(r"\b(marts|ops)\.([A-Za-z_][A-Za-z0-9_]*)\b")


def tables_read(pages_dir: Path) -> set[str]:
    """Every `marts.x` / `ops.x` table the pages' SQL reads (for asset deps and drift tests).

    SQL comments are ignored, so a table named only in a `--` comment is not a dependency.
    """
    tables: set[str] = set()
    for path in sorted(pages_dir.glob("*.md")):
        for block in parse_page(path).queries.values():
            sql = re.sub(r"--[^\n]*", "", block.sql)
            tables.update(f"{schema}.{name}" for schema, name in _TABLE_REF.findall(sql))
    return tables
