"""Decide which incoming rows may replace stored ones, before dlt's merge runs.

dlt's `merge` (delete-insert on the primary key) replaces a stored row unconditionally.
The contract says otherwise: the higher `updated_at` wins, and on a tie the later
extract. So the new files' valid rows are compared with the stored rows *of their own
keys only* (a semi-join, so a nightly delta costs the work of its rows, not the table's)
and only the winners are handed to dlt. Each row is also classified as the file that
brought it would see it, in extract order: inserted, updated, or unchanged (it lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from ingestion.contract import Table
from ingestion.readers import quote_ident

_INTERNAL = ("__seq", "__prev", "__last", "__stored", "__status")


@dataclass
class FileCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class MergePlan:
    """The winning rows (for dlt) and, per file sequence number, how its rows fared."""

    rows: pa.Table
    counts: dict[int, FileCounts] = field(default_factory=dict)


def plan_merge(
    con: duckdb.DuckDBPyConnection, table: Table, valid_relations: list[tuple[int, str]]
) -> MergePlan:
    """Compare the files' valid rows (`(seq, temp table)`, extract order) with the stored table."""
    name = f"__inc_{table.system}_{table.name}"
    union = " union all by name ".join(
        f"select *, {seq} as __seq from {rel}" for seq, rel in valid_relations
    )
    con.execute(f"create or replace temp table {name} as {union}")
    keys = ", ".join(quote_ident(k) for k in table.primary_key)
    on = " and ".join(f"s.{quote_ident(k)} = i.{quote_ident(k)}" for k in table.primary_key)
    version = "struct_pack(u := updated_at, e := _extract_id)"
    con.execute(
        f"""create or replace temp table {name}__cls as
        with stored as (
            select {", ".join(f"s.{quote_ident(k)}" for k in table.primary_key)},
                max(struct_pack(u := s.updated_at, e := s._extract_id)) as __stored
            from {quote_ident(table.dataset)}.{quote_ident(table.name)} s
            where exists (select 1 from {name} i where {on})
            group by all
        ),
        ranked as (
            select i.*, st.__stored,
                greatest(st.__stored, max({version}) over (
                    partition by {", ".join(f"i.{quote_ident(k)}" for k in table.primary_key)}
                    order by i.__seq rows between unbounded preceding and 1 preceding
                )) as __prev,
                row_number() over (
                    partition by {", ".join(f"i.{quote_ident(k)}" for k in table.primary_key)}
                    order by i.updated_at desc, i._extract_id desc, i.__seq desc
                ) = 1 as __last
            from {name} i left join stored st using ({keys})
        )
        select *,
            case when __prev is null then 'inserted'
                 when {version} >= __prev then 'updated'
                 else 'unchanged' end as __status
        from ranked"""
    )
    counts: dict[int, FileCounts] = {seq: FileCounts() for seq, _ in valid_relations}
    for seq, status, n in con.execute(
        f"select __seq, __status, count(*) from {name}__cls group by all"
    ).fetchall():
        setattr(counts[int(seq)], str(status), int(n))
    winners = con.execute(
        f"""select * exclude ({", ".join(_INTERNAL)}) from {name}__cls
        where __last and (__stored is null or {version} >= __stored)
        order by __seq, _source_row"""
    ).to_arrow_table()
    con.execute(f"drop table {name}; drop table {name}__cls")
    return MergePlan(winners, counts)
