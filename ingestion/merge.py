"""Decide which incoming rows may replace stored ones, before dlt's merge runs.

dlt's `merge` (delete-insert on the primary key) replaces a stored row unconditionally.
The contract says otherwise: the higher `updated_at` wins, and on a tie the later
extract. So the new files' valid rows are compared with the stored rows *of their own
keys only* (a semi-join, so a nightly delta costs the work of its rows, not the table's)
and only the winners are handed to dlt. Each row is also classified as the file that
brought it would see it, in extract order: inserted, updated, or unchanged (it lost).

The winners stay a query (`MergePlan.query`) instead of being copied out: dlt's load step
writes them once, straight from DuckDB (see `ingestion.dlt_load`). When no key is contested
(a first load, a delta of new keys) the query reads only the files' checked rows in the stage
every connection sees (`MergePlan.shared`), and dlt reads them there: no row is copied before
dlt writes it. Contested keys are ranked into a temp table, which is copied for dlt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ingestion import stage
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
    """The winning rows (a query for dlt) and, per file sequence number, how its rows fared.

    `query` selects the winners from temp tables of the connection that planned them and from
    the stage (`ingestion.stage`); they live until the caller drops every temp and stage object
    named by a prefix in `temp_prefixes`.
    `append_only` is True when no winning key is stored yet: dlt may then append instead of
    merging, which skips its staging copy and delete (the first load's common case).
    """

    query: str
    row_count: int
    counts: dict[int, FileCounts] = field(default_factory=dict)
    append_only: bool = False
    temp_prefixes: list[str] = field(default_factory=list)
    #: `query` reads only the stage (`ingestion.stage`), which every connection of the
    #: instance sees: dlt may read the winners through it instead of a copy.
    shared: bool = False


def plan_merge(
    con: duckdb.DuckDBPyConnection, table: Table, valid_relations: list[tuple[int, str]]
) -> MergePlan:
    """Compare the files' valid rows (`(seq, relation)`, extract order) with the stored table.

    Only *contested* keys (already stored, or in more than one new file) need the ordering
    logic; every other row is simply new. That keeps a first load and a delta cheap.
    """
    name = f"__inc_{table.system}_{table.name}"
    union = " union all by name ".join(
        f"select *, {seq} as __seq from {rel}" for seq, rel in valid_relations
    )
    # A view: the valid rows are already materialised per file; copying them once more
    # cost as much as reading the file. In the stage (`ingestion.stage`), so that when no key
    # is contested dlt reads the winners through it, on its own connection.
    incoming = stage.relation(name)
    con.execute(f"create or replace view {incoming} as {union}")
    key_cols = [quote_ident(k) for k in table.primary_key]
    keys = ", ".join(key_cols)
    # `is not distinct from`: a key part declared nullable matches null to null.
    on = " and ".join(f"s.{k} is not distinct from i.{k}" for k in key_cols)
    same = " and ".join(f"a.{k} is not distinct from b.{k}" for k in key_cols)
    on_stored = " and ".join(f"st.{k} is not distinct from i.{k}" for k in key_cols)
    stored_table = f"{quote_ident(table.dataset)}.{quote_ident(table.name)}"
    con.execute(
        f"""create or replace temp table {name}__stored as
        select {", ".join(f"s.{k}" for k in key_cols)},
            max(struct_pack(u := s.updated_at, e := s._extract_id)) as __stored
        from {stored_table} s semi join {incoming} i on {on}
        group by all"""
    )
    # Within one file a key is unique (validation quarantines repeats), so only several
    # files can contest a key among themselves.
    repeated = (
        f"select {keys} from {incoming} group by all having count(*) > 1 union "
        if len(valid_relations) > 1
        else ""
    )
    con.execute(
        f"""create or replace temp table {name}__contested as
        {repeated}select {keys} from {name}__stored"""
    )
    counts: dict[int, FileCounts] = {seq: FileCounts() for seq, _ in valid_relations}
    contested = con.execute(f"select count(*) from {name}__contested").fetchone()[0]
    if not contested:
        for seq, n in con.execute(f"select __seq, count(*) from {incoming} group by 1").fetchall():
            counts[int(seq)].inserted += int(n)
        total = sum(c.inserted for c in counts.values())
        query = f"select * exclude (__seq) from {incoming}"
        return MergePlan(query, total, counts, True, [name], shared=True)
    version = "struct_pack(u := updated_at, e := _extract_id)"
    con.execute(
        f"""create or replace temp table {name}__cls as
        with ranked as (
            select i.*, st.__stored,
                greatest(st.__stored, max({version}) over (
                    partition by {", ".join(f"i.{k}" for k in key_cols)}
                    order by i.__seq rows between unbounded preceding and 1 preceding
                )) as __prev,
                row_number() over (
                    partition by {", ".join(f"i.{k}" for k in key_cols)}
                    order by i.updated_at desc, i._extract_id desc, i.__seq desc
                ) = 1 as __last
            from (select * from {incoming} a semi join {name}__contested b on {same}) i
            left join {name}__stored st on {on_stored}
        )
        select *,
            case when __prev is null then 'inserted'
                 when {version} >= __prev then 'updated'
                 else 'unchanged' end as __status
        from ranked"""
    )
    for seq, n in con.execute(
        f"select __seq, count(*) from {incoming} a anti join {name}__contested b on {same} "
        "group by 1"
    ).fetchall():
        counts[int(seq)].inserted += int(n)
    for seq, status, n in con.execute(
        f"select __seq, __status, count(*) from {name}__cls group by all"
    ).fetchall():
        setattr(counts[int(seq)], str(status), getattr(counts[int(seq)], str(status)) + int(n))
    winners = f"""select * exclude (__seq) from {incoming} a anti join {name}__contested b on {same}
        union all by name
        select * exclude ({", ".join(_INTERNAL)}) from {name}__cls
        where __last and (__stored is null or {version} >= __stored)"""
    # Materialised: the ranking would otherwise run again when dlt writes the rows.
    con.execute(f"create or replace temp table {name}__winners as {winners}")
    total = con.execute(f"select count(*) from {name}__winners").fetchone()[0]
    append_only = not con.execute(f"select count(*) from {name}__stored").fetchone()[0]
    query = f"select * from {name}__winners"
    return MergePlan(query, int(total), counts, append_only, [name])


def drop_superseded(con: duckdb.DuckDBPyConnection, table: Table) -> int:
    """Delete stored rows another stored row of the same key supersedes; return how many.

    dlt's merge matches keys with `=`, so a row whose nullable key part is null never replaces
    its stored predecessor: both stay. Only the winner was handed to dlt (`plan_merge` compares
    null-safely), so the newest (updated_at, extract id) of each key is the row to keep; on a
    tie (the same extract delivered again, changed) the later load's row: one load stores at
    most one row per key, and the loads' stamps increase from load to load (`ingestion.load_clock`).

    The tie is never broken by DuckDB's `rowid`: a drift column named `rowid` shadows it, and
    its text values then kept the older row. `_dlt_load_id` is the loader's own (a file's
    `_dlt*` columns are refused); a row stored without one counts as the oldest.
    """
    if not table.nullable_key_columns:
        return 0
    stored = f"{quote_ident(table.dataset)}.{quote_ident(table.name)}"
    same = " and ".join(
        f"newer.{quote_ident(k)} is not distinct from s.{quote_ident(k)}" for k in table.primary_key
    )
    version = (
        "struct_pack(u := {t}.updated_at, e := {t}._extract_id, "
        "l := coalesce({t}._dlt_load_id, ''))"
    )
    return int(
        con.execute(
            f"""delete from {stored} as s where exists (
                select 1 from {stored} as newer
                where {same} and {version.format(t="newer")} > {version.format(t="s")})"""
        ).fetchone()[0]
    )
