"""Raw-layer suites, derived from the landing contract (never retyped here).

Every rule comes from `ingestion/contract.yml` through `load_contract()`: the column set,
the DuckDB type of each column, the primary key (not null, unique), required columns,
enums and numeric ranges. Two plausibility rules are derived from the contract's types and
names rather than listed: timestamps/dates fall inside a fixed calendar window, and an
`*_end` / `ended_at` is not before its `*_start` / `started_at`.

Severity: anything that breaks the contract (or KPI joins) is `error`; plausibility
heuristics are `warn` (a date in 1999 can be real history, but deserves a look).
"""

from __future__ import annotations

import datetime as dt

from ingestion.contract import Column, Table, load_contract
from quality.spec import ExpectationSpec, SuiteSpec
from safeio.sqlquote import quote_ident, sql_str, sql_str_list

#: Plausible calendar window. Fixed, not "now": a result must depend only on the data.
#: Dates reach back further than timestamps (dates of birth, opening dates of old clinics).
EARLIEST_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_TIMESTAMP = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
LATEST_DATE = dt.date(2100, 1, 1)


def is_sensitive(column: Column) -> bool:
    """PHI columns, and ids that name a person (patients, leads): report counts, not values.

    Source patient/lead ids are not PHI in the contract, but downstream they may only appear
    pseudonymised, and quality results reach the BI-facing database.
    """
    return column.phi or column.pseudonymised


#: The column the types query yields: `<column name> <DuckDB type>` per contract column.
TYPE_COLUMN = "column_type"


def _types_query(table: Table) -> str:
    """Each contract column present, as `<name> <type>` (drift columns are not asked for).

    One text column, so the types rule is an in-set rule GX bundles into a single aggregate
    query, where a pair rule (name, type) cost it a row count, a not-both-null count and a
    sub-select per table: 5 statements against 3, about a third less of GX's time per group.
    """
    names = sql_str_list(c.name for c in table.columns)
    return (
        f"select column_name || ' ' || data_type as {TYPE_COLUMN} from information_schema.columns "
        f"where table_schema = {sql_str(table.dataset)} and table_name = {sql_str(table.name)} "
        f"and column_name in ({names})"
    )


def column_type(column: Column) -> str:
    """A contract column as the types query shows it when its type is the contract's."""
    return f"{column.name} {column.duckdb_type}"


def _table_level(table: Table) -> list[ExpectationSpec]:
    specs = [
        ExpectationSpec(
            kind="ExpectTableColumnsToMatchSet",
            kwargs={"column_set": table.column_names, "exact_match": False},
            severity="error",
            description="every contract column exists (extra loader/drift columns are allowed)",
        ),
        ExpectationSpec(
            kind="ExpectColumnValuesToBeInSet",
            kwargs={
                "column": TYPE_COLUMN,
                "value_set": [column_type(c) for c in table.columns],
            },
            severity="error",
            description="each contract column has its contract type (from information_schema)",
            column="column types",
            query=_types_query(table),
        ),
    ]
    if len(table.primary_key) == 1:
        key = table.column(table.primary_key[0])
        specs.append(
            ExpectationSpec(
                kind="ExpectColumnValuesToBeUnique",
                kwargs={"column": key.name},
                severity="error",
                description="primary key is unique",
                column=key.name,
                sensitive=is_sensitive(key),
            )
        )
    else:
        specs.append(
            ExpectationSpec(
                kind="ExpectCompoundColumnsToBeUnique",
                kwargs={"column_list": list(table.primary_key)},
                severity="error",
                description="composite primary key is unique",
                column=", ".join(table.primary_key),
                sensitive=any(is_sensitive(table.column(c)) for c in table.primary_key),
                query=_null_safe_key_query(table),
            )
        )
    return specs


def _null_safe_key_query(table: Table) -> str | None:
    """The key columns with each nullable part as a non-null text that keeps null apart.

    A nullable key part (marketing_spend.campaign: null is a key value of its own) must count
    two nulls as the same key. GX's compound-uniqueness rule joins the duplicated keys back with
    `=`, which never matches null, so a repeated key with a null part passed in full and in the
    delta (whose semi join also used `=`). Null becomes 'N', a value `'V' || value`. None when
    every key column is required (the relation is read as is, and narrowed in a delta).
    """
    nullable = {c for c in table.primary_key if table.column(c).nullable}
    if not nullable:
        return None
    parts = [
        (
            f"case when {quote_ident(c)} is null then 'N' "
            f"else 'V' || cast({quote_ident(c)} as varchar) end as {quote_ident(c)}"
        )
        if c in nullable
        else quote_ident(c)
        for c in table.primary_key
    ]
    return f"select {', '.join(parts)} from {quote_ident(table.dataset)}.{quote_ident(table.name)}"


def _column_level(table: Table, col: Column) -> list[ExpectationSpec]:
    sensitive = is_sensitive(col)
    specs: list[ExpectationSpec] = []

    def add(kind: str, severity: str, description: str, **kwargs: object) -> None:
        specs.append(
            ExpectationSpec(
                kind=kind,
                kwargs={"column": col.name, **kwargs},
                severity=severity,  # type: ignore[arg-type]
                description=description,
                column=col.name,
                sensitive=sensitive,
            )
        )

    if not col.nullable:
        why = "primary key column" if col.name in table.primary_key else "required column"
        add("ExpectColumnValuesToNotBeNull", "error", f"{why} is never null")
    if col.enum is not None:
        add(
            "ExpectColumnValuesToBeInSet",
            "error",
            "value in the contract enum",
            value_set=list(col.enum),
        )
    if col.min is not None or col.max is not None:
        add(
            "ExpectColumnValuesToBeBetween",
            "error",
            "value in the contract range",
            min_value=col.min,
            max_value=col.max,
        )
    if col.type == "timestamp":
        add(
            "ExpectColumnValuesToBeBetween",
            "warn",
            "plausible timestamp (2000-01-01 to 2100-01-01)",
            min_value=EARLIEST_TIMESTAMP,
            max_value=LATEST_TIMESTAMP,
        )
    elif col.type == "date":
        add(
            "ExpectColumnValuesToBeBetween",
            "warn",
            "plausible date (1900-01-01 to 2100-01-01)",
            min_value=EARLIEST_DATE,
            max_value=LATEST_DATE,
        )
    return specs


def _interval_pairs(table: Table) -> list[tuple[str, str]]:
    """(end, start) column pairs by naming rule: `x_end`/`x_start`, `ended_at`/`started_at`."""
    names = set(table.column_names)
    pairs = []
    for name in table.column_names:
        if name.endswith("_start") and name.removesuffix("_start") + "_end" in names:
            pairs.append((name.removesuffix("_start") + "_end", name))
        elif name == "started_at" and "ended_at" in names:
            pairs.append(("ended_at", "started_at"))
    return pairs


def table_suite(table: Table) -> SuiteSpec:
    """The suite of one raw contract table: `raw_<system>__<table>` on `raw_<system>.<table>`."""
    specs = _table_level(table)
    for col in table.columns:
        specs.extend(_column_level(table, col))
    for end, start in _interval_pairs(table):
        specs.append(
            ExpectationSpec(
                kind="ExpectColumnPairValuesAToBeGreaterThanB",
                kwargs={
                    "column_A": end,
                    "column_B": start,
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                severity="warn",
                description=f"{end} is not before {start}",
                column=f"{end} >= {start}",
            )
        )
    return SuiteSpec(
        name=f"{table.dataset}__{table.name}",
        relation=f"{table.dataset}.{table.name}",
        expectations=tuple(specs),
        description=f"Contract rules for {table.qualified_name} in the raw layer.",
    )


def raw_suites() -> list[SuiteSpec]:
    """One suite per raw contract table, in contract order."""
    return [table_suite(t) for t in load_contract().tables]
