"""Table and column comments in the published DuckDB files, from the dbt docs.

An analyst who opens `serving.duckdb` in DBeaver, the DuckDB CLI or Metabase's DuckDB
driver sees `duckdb_tables().comment` / `duckdb_columns().comment`, as a PostgreSQL user
sees the `COMMENT`s of the PostgreSQL publish (`serving.pg_docs`): the same text, from the
one home of every definition (the dbt YAML, through the manifest).

Only comments that differ from what the file already holds are written, in one transaction:
a nightly publish starts from a copy of the previous file, whose patched marts keep their
comments, so a night writes none unless a description changed or a mart was replaced whole.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from safeio.sqlquote import quote_ident, sql_str
from serving.pg_docs import TableDoc

#: (schema, table) -> its description and its columns' descriptions.
Docs = Mapping[tuple[str, str], TableDoc]


def read_comments(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], TableDoc]:
    """The comments `catalog` holds now, of every table (empty text for none)."""
    found: dict[tuple[str, str], TableDoc] = {}
    for schema, table, comment in con.execute(
        "select schema_name, table_name, coalesce(comment, '') from duckdb_tables() "
        "where database_name = ?",
        [catalog],
    ).fetchall():
        found[(schema, table)] = TableDoc(comment, {})
    for schema, table, column, comment in con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = ? and comment is not null and comment <> ''",
        [catalog],
    ).fetchall():
        if (schema, table) in found:
            found[(schema, table)].columns[column] = comment
    return found


def _statements(
    catalog: str,
    present: Mapping[tuple[str, str], TableDoc],
    columns: Mapping[tuple[str, str], list[str]],
    docs: Docs,
) -> list[str]:
    """COMMENT statements for each documented table and column whose text differs."""
    statements = []
    for (schema, table), doc in docs.items():
        held = present.get((schema, table))
        if held is None:
            continue  # not in this file (a scorecard file holds two marts)
        rel = f"{quote_ident(catalog)}.{quote_ident(schema)}.{quote_ident(table)}"
        if doc.description and doc.description != held.description:
            statements.append(f"comment on table {rel} is {sql_str(doc.description)}")
        for column in columns.get((schema, table), []):
            text = doc.columns.get(column)
            if text and text != held.columns.get(column):
                statements.append(
                    f"comment on column {rel}.{quote_ident(column)} is {sql_str(text)}"
                )
    return statements


def apply_comments(con: duckdb.DuckDBPyConnection, catalog: str, docs: Docs) -> int:
    """Write the comments of `docs` that `catalog` does not hold yet; how many were written."""
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = ? order by column_index",
        [catalog],
    ).fetchall():
        columns.setdefault((schema, table), []).append(column)
    statements = _statements(catalog, read_comments(con, catalog), columns, docs)
    if statements:
        # One transaction: each comment committed on its own costs a commit (3-4 ms) apiece.
        con.execute("begin")
        try:
            for statement in statements:
                con.execute(statement)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return len(statements)


def schema_docs(schema: str, docs: Mapping[str, TableDoc]) -> dict[tuple[str, str], TableDoc]:
    """`docs` keyed by table name, placed in `schema`."""
    return {(schema, name): doc for name, doc in docs.items()}
