"""Nightly deltas: validate the rows loaded since the last clean validation, not whole tables.

A raw table's rows carry the `_dlt_load_id` of the load that wrote them; a merge rewrites a
changed row with the new load's id. Once a suite has passed on a table, the rows loaded up to
then (its *watermark*, the table's newest load id at that validation) are known good, so the
next run needs to look only at rows with a newer load id. Which rows each expectation reads:

- row-local (a row passes or fails on its own: not null, in set, between, pair A >= B):
  the rows loaded after the watermark;
- column names (contract columns exist): the new rows' `select *`, whose columns are the
  table's columns;
- primary-key uniqueness (single or compound): the key columns of every row that shares its
  key with a newer row. Old rows were unique among themselves when the watermark was set, and
  only a load rewrites a row (giving it the new load id), so any duplicate now involves a
  newer row and shares its key: the rows read are exactly those a duplicate can be among.
  The key is matched with `=` in a semi join: a row with a null key part is not read, but a
  required primary-key column is also never null (a row-local rule on the same new rows), so
  such a row fails the suite anyway. A key with a nullable part (marketing_spend.campaign)
  has its own null-safe query (`raw_suites`) and is read whole;
- table-level (column types from `information_schema`, anything with its own query such as
  the mart checks): what they read on a full run.

Why the semi join pays: the full-table check is one `count(distinct key)`, a hash aggregate of
every key (6.3 M message ids: 4.5-6 s on the large chain, loaded machine); the semi join hashes
only the new keys and streams the key column past them (0.3 s), even though GX runs its query
once per metric. On a small table both take milliseconds.

Load ids are dlt's `<unix seconds>.<fraction>` strings; compared as text they order like their
times (ten-digit seconds until the year 2286), and DuckDB's per-row-group min/max of the column
lets a delta skip the older row groups.

The watermark only moves when the whole suite passed; after a failure the next run validates
from the same watermark again, so a failing row keeps failing until it is fixed. A table whose
newest load id is older than its watermark (the warehouse was rebuilt from older data) or a
table without `_dlt_load_id` (marts) is validated whole.

A watermark is trusted only for the suite definition that passed: each pass also records a
fingerprint of the suite's expectations (`suite_definition`), and a suite whose rules changed
since (a contract edit adding a rule or narrowing a range) reads its whole table once, so a new
rule is checked on the old rows too. A suite whose table has no load newer than its trusted
watermark is not run at all (`carried`): nothing was written to the table since the run that
passed on all of it. In a nightly delta that is every dimension table (locations, rooms,
services...), about 9 of the 22 raw suites.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from quality.spec import ExpectationSpec, SuiteSpec
from safeio.private import private_dir
from safeio.sqlquote import quote_ident, sql_str

LOAD_ID = "_dlt_load_id"
ROW_LOCAL_KINDS = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeNull",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnPairValuesAToBeGreaterThanB",
    }
)
#: Rules on the relation's column *names*: the new rows' `select *` has the same columns, so
#: they ride along with the row-local rules (one GX batch fewer per table).
COLUMN_NAME_KINDS = frozenset({"ExpectTableColumnsToMatchSet"})


#: Uniqueness rules -> their key columns (from the expectation's kwargs).
KEY_COLUMNS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "ExpectColumnValuesToBeUnique": lambda kw: [kw["column"]],
    "ExpectCompoundColumnsToBeUnique": lambda kw: list(kw["column_list"]),
}


def watermark_file(results_dir: Path) -> Path:
    """Where the watermarks live: beside the results, not a `*.json` the report would read."""
    return Path(results_dir) / "_state" / "validated_loads.json"


def definitions_file(results_dir: Path) -> Path:
    """Where the fingerprint of each suite's last passing definition lives (beside the marks)."""
    return Path(results_dir) / "_state" / "validated_definitions.json"


def read_watermarks(path: Path) -> dict[str, str]:
    """Suite name -> load id validated clean up to (or, for the definitions file, the passing
    definition's fingerprint); empty when none (or unreadable)."""
    try:
        marks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in marks.items()} if isinstance(marks, dict) else {}


def write_watermarks(path: Path, marks: Mapping[str, str]) -> None:
    """Replace the watermark file atomically (a crash mid-write must not lose every mark).

    The marks and the definitions are two files: whichever a crash leaves behind, a suite
    either reads more rows than needed or its whole table, never fewer."""
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(marks.items())), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def suite_definition(spec: SuiteSpec) -> str:
    """Fingerprint of what a suite checks: its relation and every expectation's rule."""
    rules = [
        [e.kind, e.kwargs, e.severity, e.query, e.label, e.sensitive] for e in spec.expectations
    ]
    text = json.dumps([spec.relation, rules], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def trusted_marks(
    specs: Iterable[SuiteSpec], marks: Mapping[str, str], definitions: Mapping[str, str]
) -> dict[str, str]:
    """The watermarks of suites whose definition is the one that passed when it was set."""
    return {
        spec.name: marks[spec.name]
        for spec in specs
        if spec.name in marks and definitions.get(spec.name) == suite_definition(spec)
    }


def carried(
    specs: Iterable[SuiteSpec], marks: Mapping[str, str], newest: Mapping[str, str | None]
) -> list[SuiteSpec]:
    """Suites with nothing loaded after their (trusted) watermark: their pass still holds."""
    return [
        spec
        for spec in specs
        if marks.get(spec.name) is not None and newest.get(spec.name) == marks[spec.name]
    ]


def newest_loads(db_path: Path, specs: Iterable[SuiteSpec]) -> dict[str, str | None]:
    """Suite name -> its table's newest `_dlt_load_id` (None: empty, or no such column)."""
    specs = list(specs)
    newest: dict[str, str | None] = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        loaded = {
            (schema, table)
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.columns "
                "where column_name = ?",
                [LOAD_ID],
            ).fetchall()
        }
        for spec in specs:
            schema, table = spec.relation.split(".", 1)
            if (schema, table) not in loaded:
                newest[spec.name] = None
                continue
            relation = f"{quote_ident(schema)}.{quote_ident(table)}"
            row = con.execute(f"select max({quote_ident(LOAD_ID)}) from {relation}").fetchone()
            newest[spec.name] = row[0] if row else None
    return newest


def delta_suite(spec: SuiteSpec, since: str) -> SuiteSpec:
    """`spec` reading only what changed after load `since` (see the module docstring)."""
    schema, table = spec.relation.split(".", 1)
    relation = f"{quote_ident(schema)}.{quote_ident(table)}"
    newer = f"{quote_ident(LOAD_ID)} > {sql_str(since)}"
    new_rows = f"select * from {relation} where {newer}"
    expectations = []
    for exp in spec.expectations:
        if exp.query is None and exp.kind in ROW_LOCAL_KINDS | COLUMN_NAME_KINDS:
            exp = dataclasses.replace(exp, query=new_rows)
        elif exp.query is None and exp.kind in KEY_COLUMNS:
            exp = dataclasses.replace(exp, query=_sharing_new_keys(relation, newer, exp))
        expectations.append(exp)
    return dataclasses.replace(spec, expectations=tuple(expectations))


def _sharing_new_keys(relation: str, newer: str, exp: ExpectationSpec) -> str:
    """The key columns of every row sharing its key with a row newer than the watermark."""
    keys = [quote_ident(c) for c in KEY_COLUMNS[exp.kind](exp.kwargs)]
    on = " and ".join(f"t.{k} = n.{k}" for k in keys)
    return (
        f"select {', '.join(f't.{k}' for k in keys)} from {relation} as t semi join "
        f"(select distinct {', '.join(keys)} from {relation} where {newer}) as n on {on}"
    )


def plan(
    specs: Iterable[SuiteSpec], marks: Mapping[str, str], newest: Mapping[str, str | None]
) -> tuple[list[SuiteSpec], dict[str, str]]:
    """The suites to run (delta where a valid watermark exists) and the watermark each used."""
    planned, since = [], {}
    for spec in specs:
        mark, top = marks.get(spec.name), newest.get(spec.name)
        if mark is not None and top is not None and top >= mark:
            planned.append(delta_suite(spec, mark))
            since[spec.name] = mark
        else:
            planned.append(spec)
    return planned, since
