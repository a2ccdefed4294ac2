"""The quarantine gate: warn on any rejected row, block when one load rejects too much.

The landing contract (docs/landing-contract.md): a data-quality check warns on any quarantined
row, and blocks publishing when a table's quarantined share of one load exceeds a threshold
(default 1 %). The share is
`rows_quarantined / rows_read` summed over a table's files within one `load_id` of
`raw_meta.loaded_files`, refused files left out (their rows were counted as read, then the
file was refused: 300 such rows made 2 bad rows of 20 look like 0.6 %); exactly the threshold
passes, anything above fails. The comparison is exact (integers and a `Fraction`), so 1 row in
100 at 1% never fails on float rounding.

Only counts, file names, columns and reasons are read, never `rejected_rows.raw_record`
(the rejected row as text, which may hold PHI). Plain SQL, no GX: this is one aggregate.

`table_verdicts` decides *which* load a per-table check judges: the table's latest load.
`evaluate` summarises every load ever recorded, so an old bad delivery would otherwise block
publishing forever; judging the latest load blocks until the clinic delivers a good extract of
that table, then lifts. A load in which every file of the table was refused delivered no
extract of it (its 0 rows read are no evidence of a good one): it is not the table's latest
load for this judgement, so a refused file never lifts a block. Likewise the WARN is about the
latest load; the rows of older loads stay listed in `ops.quarantine_summary`.

A lifted block does not bring the rows back: a clean delivery of *other* rows lifts it while
the quarantined ones are still missing from the table (a day of invoices, say). So the check
keeps warning, without blocking, while rows quarantined in an earlier load are *still missing*:
neither a later load of the same file (the clinic re-delivered it) nor a later load of a row with
the same key (from any file) has replaced them (`still_missing`). A row whose key could not be
read (a record the CSV reader could not split, a blank key) is replaced only by its file's
re-delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import duckdb

from ingestion.contract import Table, load_contract
from safeio.sqlquote import quote_ident, sql_str

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class TableLoadShare:
    """One table in one load: rows read, rows quarantined, and their share."""

    load_id: str
    system: str
    table_name: str
    rows_read: int
    rows_quarantined: int
    share: float
    over_threshold: bool
    #: at least one file of the table was loaded in this load (False: every file was refused)
    delivered: bool = True

    @property
    def qualified_name(self) -> str:
        return f"{self.system}.{self.table_name}"

    def describe(self) -> str:
        return (
            f"{self.qualified_name} in load {self.load_id}: {self.rows_quarantined} of "
            f"{self.rows_read} rows quarantined ({self.share:.2%})"
        )


@dataclass(frozen=True)
class TableSummary:
    """One table across all recorded loads: the view a per-table check reports."""

    system: str
    table_name: str
    rows_quarantined: int
    worst_share: float
    blocks: bool
    description: str


@dataclass(frozen=True)
class RejectionReason:
    """How many rows of a table were rejected for one reason (no values, ever)."""

    system: str
    table_name: str
    column_name: str | None
    reason: str
    rows: int


@dataclass(frozen=True)
class QuarantineVerdict:
    """`fail` blocks publishing; `warn` is shown but lets the run continue."""

    status: Status
    max_share: float
    message: str
    loads: list[TableLoadShare] = field(default_factory=list)
    reasons: list[RejectionReason] = field(default_factory=list)
    refused_files: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return self.status == "fail"

    @property
    def offenders(self) -> list[TableLoadShare]:
        return [s for s in self.loads if s.over_threshold]

    @property
    def quarantined_rows(self) -> int:
        return sum(s.rows_quarantined for s in self.loads)

    @property
    def tables(self) -> list[TableSummary]:
        """Per table: rows quarantined over all loads, its worst load, whether it blocks."""
        by_table: dict[tuple[str, str], list[TableLoadShare]] = {}
        for share in self.loads:
            by_table.setdefault((share.system, share.table_name), []).append(share)
        summaries = []
        for (system, table), shares in sorted(by_table.items()):
            worst = max(shares, key=lambda s: (s.over_threshold, s.share))
            summaries.append(
                TableSummary(
                    system=system,
                    table_name=table,
                    rows_quarantined=sum(s.rows_quarantined for s in shares),
                    worst_share=worst.share,
                    blocks=any(s.over_threshold for s in shares),
                    description=worst.describe()
                    if worst.rows_quarantined
                    else "no quarantined rows",
                )
            )
        return summaries


_SHARES_SQL = """
select
    load_id,
    system,
    table_name,
    -- a refused file's rows were read but never validated: they would dilute the share
    coalesce(sum(rows_read) filter (where status <> 'refused'), 0)::bigint as rows_read,
    coalesce(sum(rows_quarantined) filter (where status <> 'refused'), 0)::bigint
        as rows_quarantined,
    bool_or(status = 'loaded') as delivered
from raw_meta.loaded_files
group by all
order by load_id, system, table_name
"""

_REASONS_SQL = """
select system, table_name, column_name, reason, count(*)::bigint as rows
from raw_quarantine.rejected_rows
group by all
order by system, table_name, column_name nulls first, reason
"""

_REFUSED_SQL = """
select file_path, refusal_reason
from raw_meta.loaded_files
where status = 'refused'
order by file_path
"""


def share_exceeds(quarantined: int, read: int, max_share: float) -> bool:
    """quarantined / read > max_share, exactly. No rows read but some rejected = 100 %."""
    if quarantined == 0:
        return False
    if read == 0:
        return True
    return Fraction(quarantined, read) > Fraction(str(max_share))


def _share(quarantined: int, read: int) -> float:
    if quarantined == 0:
        return 0.0
    return 1.0 if read == 0 else quarantined / read


def _has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    found = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    return all(n in found for n in names)


def evaluate(warehouse_path: Path, max_share: float) -> QuarantineVerdict:
    """Judge every load recorded in the warehouse (opened read-only) against `max_share`."""
    if not 0 <= max_share <= 1:
        raise ValueError(f"max_share must be between 0 and 1, got {max_share}")
    if not Path(warehouse_path).is_file():
        raise FileNotFoundError(f"warehouse not found: {warehouse_path}")
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        if not _has_tables(con, "raw_meta.loaded_files", "raw_quarantine.rejected_rows"):
            return QuarantineVerdict("pass", max_share, "no loads recorded yet")
        loads = [
            TableLoadShare(
                load_id=load_id,
                system=system,
                table_name=table,
                rows_read=read,
                rows_quarantined=quarantined,
                share=_share(quarantined, read),
                over_threshold=share_exceeds(quarantined, read, max_share),
                delivered=bool(delivered),
            )
            for load_id, system, table, read, quarantined, delivered in con.execute(
                _SHARES_SQL
            ).fetchall()
        ]
        reasons = [RejectionReason(*row) for row in con.execute(_REASONS_SQL).fetchall()]
        refused = [f"{path}: {why}" for path, why in con.execute(_REFUSED_SQL).fetchall()]
    return _verdict(loads, reasons, refused, max_share)


def _verdict(
    loads: list[TableLoadShare],
    reasons: list[RejectionReason],
    refused: list[str],
    max_share: float,
) -> QuarantineVerdict:
    offenders = [s for s in loads if s.over_threshold]
    rejected = sum(s.rows_quarantined for s in loads) or sum(r.rows for r in reasons)
    if offenders:
        status: Status = "fail"
        message = f"quarantined share above {max_share:.2%}: " + "; ".join(
            s.describe() for s in offenders
        )
    elif rejected or refused:
        status = "warn"
        parts = [s.describe() for s in loads if s.rows_quarantined]
        if not parts and rejected:
            parts = [f"{rejected} rows quarantined"]
        if refused:
            parts.append(f"{len(refused)} file(s) refused")
        message = "quarantined rows within the limit: " + "; ".join(parts)
    else:
        status = "pass"
        message = "no quarantined rows"
    return QuarantineVerdict(status, max_share, message, loads, reasons, refused)


@dataclass(frozen=True)
class TableQuarantine:
    """What the check reports for one raw table."""

    rows_quarantined: int  # in the latest load
    worst_share: float  # of the latest load
    blocks: bool  # the latest load's share is above the limit
    description: str
    #: rows quarantined in earlier loads that no later load replaced (`still_missing`)
    earlier_missing: int = 0

    @property
    def passed(self) -> bool:
        return self.rows_quarantined == 0 and self.earlier_missing == 0


def _missing_sql(table: Table, raw_exists: bool) -> str:
    """Rows of `table` quarantined before load `$latest` and not replaced since, per file."""
    return f"""
        {_replaced_sql(table, raw_exists, "r.load_id < $latest")}
        select load_id, source_file, count(*)::bigint as rows
        from judged
        where not replaced
        group by all
        order by load_id, source_file"""


def _replaced_sql(table: Table, raw_exists: bool, which: str) -> str:
    """A `with` clause ending in `judged`: each quarantined row of `table` matching `which`
    (a condition on `raw_quarantine.rejected_rows as r`) with its load, file, reason and
    whether a later load replaced it.

    Replaced: a later load of the same file path, or (when the raw table exists) a stored row
    with the same key whose file was loaded in a later load. Keys are compared as text, as the
    quarantine keeps them (`raw_record`, JSON of the row as the file held it).
    """
    keys = list(table.primary_key)
    extract = ", ".join(
        f"json_extract_string(r.raw_record, {sql_str('$.' + k)}) as k{i}"
        for i, k in enumerate(keys)
    )
    all_present = " and ".join(f"json_exists(r.raw_record, {sql_str('$.' + k)})" for k in keys)
    same_system = f"system = {sql_str(table.system)} and table_name = {sql_str(table.name)}"
    by_key = ""
    if raw_exists:
        on = " and ".join(
            f"cast(t.{quote_ident(k)} as varchar) is not distinct from q.k{i}"
            for i, k in enumerate(keys)
        )
        stored_keys = ", ".join(
            f"cast(t.{quote_ident(k)} as varchar) as k{i}" for i, k in enumerate(keys)
        )
        match = " and ".join(f"s.k{i} is not distinct from q.k{i}" for i in range(len(keys)))
        by_key = f"""
        , stored as (
            select {stored_keys}, max(f.load_id) as load_id
            from {quote_ident(table.dataset)}.{quote_ident(table.name)} as t
            semi join q on {on}
            inner join raw_meta.loaded_files as f
                on f.file_path = t._source_file and f.status = 'loaded' and f.{same_system}
            group by all
        )"""
        replaced_by_key = f"""
            or (q.has_key and exists (
                select 1 from stored as s where {match} and s.load_id > q.load_id))"""
    else:
        replaced_by_key = ""
    return f"""
        with q as (
            select r.load_id, r.source_file, r.reason, ({all_present}) as has_key, {extract}
            from raw_quarantine.rejected_rows as r
            where r.{same_system} and {which}
        ),
        reloaded as (
            select file_path, max(load_id) as load_id
            from raw_meta.loaded_files
            where status = 'loaded' and {same_system}
            group by file_path
        ){by_key},
        judged as (
            select q.load_id, q.source_file, q.reason,
                coalesce(d.load_id > q.load_id, false){replaced_by_key} as replaced
            from q
            left join reloaded as d on d.file_path = q.source_file
        )"""


def replaced_rows(warehouse_path: Path) -> dict[tuple[str, str, str, str], int]:
    """(system, table, file, reason) -> quarantined rows a later load replaced (the same file
    delivered again, or a row with the same key from a later load): what the data-quality page
    tells apart from rows still held back. Groups with none replaced are left out."""
    if not Path(warehouse_path).is_file():
        return {}
    out: dict[tuple[str, str, str, str], int] = {}
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        if not _has_tables(con, "raw_quarantine.rejected_rows", "raw_meta.loaded_files"):
            return {}
        quarantined = con.execute(
            "select distinct system, table_name from raw_quarantine.rejected_rows"
        ).fetchall()
        known = {(t.system, t.name): t for t in load_contract().tables}
        for key in quarantined:
            table = known.get(key)
            if table is None:
                continue
            raw_exists = _has_tables(con, f"{table.dataset}.{table.name}")
            sql = f"""{_replaced_sql(table, raw_exists, "true")}
                select source_file, reason, count(*) from judged where replaced group by all"""
            for source_file, reason, rows in con.execute(sql).fetchall():
                out[(table.system, table.name, source_file, reason)] = int(rows)
    return out


def still_missing(
    con: duckdb.DuckDBPyConnection, table: Table, latest_load: str
) -> list[tuple[str, str, int]]:
    """(load id, file, rows) of `table`'s rows quarantined in loads before `latest_load` that no
    later load replaced (see the module docstring)."""
    raw_exists = _has_tables(con, f"{table.dataset}.{table.name}")
    sql = _missing_sql(table, raw_exists)
    return [(a, b, int(c)) for a, b, c in con.execute(sql, {"latest": latest_load}).fetchall()]


def table_verdicts(
    warehouse_path: Path, max_share: float
) -> dict[tuple[str, str], TableQuarantine]:
    """(system, table) -> verdict for every table the loader has recorded."""
    if not Path(warehouse_path).is_file():
        return {}
    verdict = evaluate(warehouse_path, max_share)
    latest: dict[tuple[str, str], TableLoadShare] = {}
    # load ids sort in time order; a load that delivered a file of the table outranks one
    # whose files were all refused (those read nothing, so they cannot lift a block)
    for share in verdict.loads:
        key = (share.system, share.table_name)
        rank = (share.delivered, share.load_id)
        if key not in latest or rank > (latest[key].delivered, latest[key].load_id):
            latest[key] = share
    missing = _earlier_missing(warehouse_path, verdict, latest)
    out: dict[tuple[str, str], TableQuarantine] = {}
    for summary in verdict.tables:
        key = (summary.system, summary.table_name)
        last = latest[key]
        earlier = missing.get(key, [])
        if last.over_threshold:
            text = f"latest load blocks publishing: {last.describe()}"
        elif last.rows_quarantined:
            text = f"within the limit: {last.describe()}"
        elif summary.rows_quarantined and not earlier:
            text = (
                f"latest load clean; {summary.rows_quarantined} row(s) quarantined before, "
                "all replaced by later loads"
            )
        elif earlier:
            text = "latest load clean"
        else:
            text = "no quarantined rows"
        if earlier:
            text += "; " + _describe_missing(earlier)
        out[key] = TableQuarantine(
            rows_quarantined=last.rows_quarantined,
            worst_share=last.share,
            blocks=last.over_threshold,
            description=text,
            earlier_missing=sum(rows for _, _, rows in earlier),
        )
    return out


def _earlier_missing(
    warehouse_path: Path,
    verdict: QuarantineVerdict,
    latest: dict[tuple[str, str], TableLoadShare],
) -> dict[tuple[str, str], list[tuple[str, str, int]]]:
    """`still_missing` for every table with rows quarantined before its latest load."""
    contract = load_contract()
    known = {(t.system, t.name): t for t in contract.tables}
    wanted = {
        key: latest[key].load_id
        for key in latest
        if key in known
        and any(
            s.rows_quarantined and s.load_id < latest[key].load_id
            for s in verdict.loads
            if (s.system, s.table_name) == key
        )
    }
    if not wanted:
        return {}
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return {key: still_missing(con, known[key], load) for key, load in wanted.items()}


def _describe_missing(earlier: list[tuple[str, str, int]]) -> str:
    """'12 row(s) quarantined in earlier loads still missing (load L: file F 10, ...)'."""
    total = sum(rows for _, _, rows in earlier)
    shown = ", ".join(f"{file} of load {load}: {rows}" for load, file, rows in earlier[:3])
    more = f", and {len(earlier) - 3} more file(s)" if len(earlier) > 3 else ""
    return (
        f"{total} row(s) quarantined in earlier loads are still missing ({shown}{more}): no "
        "later load delivered their file again or a row with their key; re-deliver them "
        "corrected"
    )
