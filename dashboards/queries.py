"""Compile a page's SQL blocks (chaining, parameters) and run them read-only on serving.duckdb.

Chaining follows Evidence: `${other}` (or `{{ other }}`) inside a block is replaced by
`(<other's compiled SQL>)`, so a block can select from another. References are resolved
before any SQL runs; a missing or circular reference is a PageError on the line that holds
it, and nothing is sent to the database. `${params.x}` is a template page's parameter,
substituted with single quotes doubled so it is safe inside a quoted SQL string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from dashboards.errors import PageError
from dashboards.pages import Page, SqlBlock, parse_page

_REF = re.compile(
    r"\$\{\s*(?P<a>[A-Za-z_][A-Za-z0-9_.]*)\s*\}|\{\{\s*(?P<b>[A-Za-z_][A-Za-z0-9_.]*)\s*\}\}"
)
_DUCKDB_LINE = re.compile(r"LINE (\d+):")

#: Result columns a page may never show: pseudonymous identities, keyed hashes and contact
#: fields. Aggregate them away in SQL (or in a `_helper` query, which is never run alone).
FORBIDDEN_COLUMNS = frozenset(
    {
        "patient_key",
        "lead_key",
        "patient_id",
        "lead_id",
        "email",
        "phone",
        "date_of_birth",
        "reviewer_name",
        "body",
        "message_body",
    }
)


class QueryResult(list):
    """Rows (dicts) of one query, plus its column names; empty and falsy when there is no data."""

    def __init__(
        self, name: str, columns: list[str], rows: list[dict[str, Any]], missing: bool = False
    ) -> None:
        super().__init__(rows)
        self.name = name
        self.columns = columns
        #: True when an `optional` block's table is not published yet.
        self.missing = missing


def _is_forbidden(column: str) -> bool:
    col = column.lower()
    return col in FORBIDDEN_COLUMNS or col.endswith("_hash")


def _sql_literal(value: object) -> str:
    return str(value).replace("'", "''")


def compile_queries(
    page: Page, params: Mapping[str, Any] | None = None, names: list[str] | None = None
) -> dict[str, str]:
    """Blocks' SQL with references inlined (all, or `names` and what they need).

    Raises PageError on a missing or circular reference or an unknown parameter.
    """
    params = dict(params or {})
    compiled: dict[str, str] = {}

    def compile_one(block: SqlBlock, stack: tuple[str, ...]) -> str:
        if block.name in compiled:
            return compiled[block.name]

        def substitute(m: re.Match[str]) -> str:
            ref = m.group("a") or m.group("b")
            line = block.body_line + block.sql.count("\n", 0, m.start())
            if ref.startswith("params."):
                key = ref.removeprefix("params.")
                if key not in params:
                    known = ", ".join(sorted(params)) or "none (not a template page)"
                    raise PageError(
                        page.path.name, line, f"unknown parameter {ref!r}; parameters: {known}"
                    )
                return _sql_literal(params[key])
            if ref not in page.queries:
                raise PageError(
                    page.path.name, line, f"query {block.name!r} references unknown query {ref!r}"
                )
            if ref in stack:
                cycle = " -> ".join((*stack, ref))
                raise PageError(page.path.name, line, f"circular query reference: {cycle}")
            return "(\n" + compile_one(page.queries[ref], (*stack, ref)) + "\n)"

        sql = _REF.sub(substitute, block.sql)
        compiled[block.name] = sql
        return sql

    for name in names if names is not None else list(page.queries):
        compile_one(page.queries[name], (name,))
    return compiled


def _plain(value: object) -> object:
    """DuckDB values -> what Jinja, formatting and the charts handle alike."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def _error_line(block: SqlBlock, message: str, chained: bool) -> int:
    m = _DUCKDB_LINE.search(message)
    if m and not chained:
        return block.body_line + int(m.group(1)) - 1
    return block.line


def _short(message: str) -> str:
    """DuckDB's message without the echoed SQL (it can be long; the line number says where)."""
    head = message.split("\n\nLINE")[0].split("\nLINE")[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


def run_queries(
    con: duckdb.DuckDBPyConnection,
    page: Page,
    params: Mapping[str, Any] | None = None,
    names: list[str] | None = None,
    cache: dict[str, QueryResult] | None = None,
) -> dict[str, QueryResult]:
    """Run every public block (names not starting with `_`), or just `names`; return rows.

    `cache` (compiled SQL -> result), shared by the instances of one template page: a block
    whose compiled text is the same for every instance (it reads no `${params.x}`, like the
    page's own `each` query) runs once per build instead of once per location or provider.
    serving.duckdb is read-only while a site builds, so the same text gives the same rows.
    """
    wanted = names if names is not None else [n for n in page.queries if not n.startswith("_")]
    compiled = compile_queries(page, params, wanted)
    results: dict[str, QueryResult] = {}
    for name in wanted:
        block = page.queries[name]
        sql = compiled[name]
        if cache is not None and sql in cache:
            results[name] = _copy(cache[sql], name)
            continue
        results[name] = _run_one(con, page, block, sql)
        if cache is not None:
            cache[sql] = _copy(results[name], name)
    return results


def _copy(result: QueryResult, name: str) -> QueryResult:
    """A result of its own for each page instance (rows are dicts a renderer could touch)."""
    rows = [dict(row) for row in result]
    return QueryResult(name, list(result.columns), rows, missing=result.missing)


def _run_one(con: duckdb.DuckDBPyConnection, page: Page, block: SqlBlock, sql: str) -> QueryResult:
    """One compiled block's rows; errors become a PageError at the block's line."""
    name = block.name
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        raw_rows = cursor.fetchall()
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        # an optional block over a table, or a column, that a serving file published by an
        # earlier version does not have yet: the page says so until the next publish
        missing_column = isinstance(exc, duckdb.BinderException) and (
            'Referenced column "' in str(exc) and "not found" in str(exc)
        )
        if block.optional and (isinstance(exc, duckdb.CatalogException) or missing_column):
            return QueryResult(name, [], [], missing=True)
        raise PageError(
            page.path.name, _error_line(block, str(exc), sql != block.sql), _short(str(exc))
        ) from None
    except duckdb.PermissionException as exc:
        raise PageError(
            page.path.name,
            _error_line(block, str(exc), sql != block.sql),
            "pages read serving.duckdb only: files, other databases and settings are "
            f"sealed off ({_short(str(exc))})",
        ) from None
    except duckdb.Error as exc:
        raise PageError(
            page.path.name, _error_line(block, str(exc), sql != block.sql), _short(str(exc))
        ) from None
    bad = [c for c in columns if _is_forbidden(c)]
    if bad:
        raise PageError(
            page.path.name,
            block.line,
            f"query {name!r} returns {bad}: identities and contacts never appear on pages; "
            "aggregate them away",
        )
    rows = [dict(zip(columns, map(_plain, r), strict=True)) for r in raw_rows]
    return QueryResult(name, columns, rows)


#: The footer's one query: the shared `_as_of` block, as the pages that print it use it.
_AS_OF_PAGE = "```sql as_of\nselect as_of from ${_as_of}\n```\n"


def data_as_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The data's as-of time ("2026-11-17 07:35 UTC"), for every page's footer: a manager
    reading a location's page sees how current it is, as the home page and the flash say."""
    try:
        rows = run_queries(con, parse_page(Path("footer.md"), _AS_OF_PAGE))["as_of"]
    except PageError:  # a serving file without reporting_periods: the pages that need it fail
        return None
    return rows[0]["as_of"] if rows else None
