"""Quote names and values that are spliced into SQL text: the one helper every module uses.

DuckDB takes `?` parameters for values in queries, but not where a statement needs a
literal in its syntax (`attach '<path>'`, a table function's file argument inside a DDL,
an `in (...)` list built from the contract) or an identifier. Paths and names are data: a
data dir called `it's data` or a column called `a"b` must never end or extend a statement.
"""

from __future__ import annotations

from os import PathLike


def sql_str(value: str | PathLike[str]) -> str:
    """A SQL string literal: the value between single quotes, quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A quoted SQL identifier: the name between double quotes, double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def sql_str_list(values: object) -> str:
    """`'a', 'b'` for an `in (...)` list of string literals."""
    return ", ".join(sql_str(str(v)) for v in values)  # type: ignore[attr-defined]
