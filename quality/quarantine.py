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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import duckdb

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

    @property
    def passed(self) -> bool:
        return self.rows_quarantined == 0


def table_verdicts(
    warehouse_path: Path, max_share: float
) -> dict[tuple[str, str], TableQuarantine]:
    """(system, table) -> verdict for every table the loader has recorded."""
    if not Path(warehouse_path).is_file():
        return {}
    verdict = evaluate(warehouse_path, max_share)
    latest = {}
    # load ids sort in time order; a load that delivered a file of the table outranks one
    # whose files were all refused (those read nothing, so they cannot lift a block)
    for share in verdict.loads:
        key = (share.system, share.table_name)
        rank = (share.delivered, share.load_id)
        if key not in latest or rank > (latest[key].delivered, latest[key].load_id):
            latest[key] = share
    out: dict[tuple[str, str], TableQuarantine] = {}
    for summary in verdict.tables:
        key = (summary.system, summary.table_name)
        last = latest[key]
        if last.over_threshold:
            text = f"latest load blocks publishing: {last.describe()}"
        elif last.rows_quarantined:
            text = f"within the limit: {last.describe()}"
        elif summary.rows_quarantined:
            text = f"latest load clean; {summary.rows_quarantined} row(s) quarantined before"
        else:
            text = "no quarantined rows"
        out[key] = TableQuarantine(
            rows_quarantined=last.rows_quarantined,
            worst_share=last.share,
            blocks=last.over_threshold,
            description=text,
        )
    return out
