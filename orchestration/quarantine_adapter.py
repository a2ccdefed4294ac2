"""Per-table quarantine verdicts for the `quarantine_share` checks.

The rule (share of one load, exact comparison with the limit) lives in
`quality.quarantine.evaluate`; this module decides *which* load each check judges: the
table's latest load. `evaluate` summarises every load ever recorded, so an old bad delivery
would otherwise block publishing forever; judging the latest load blocks until the clinic
delivers a good extract of that table, then lifts. Likewise the WARN is about the latest
load; the rows of older loads stay listed in `ops.quarantine_summary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    from quality.quarantine import evaluate

    if not Path(warehouse_path).is_file():
        return {}
    verdict = evaluate(warehouse_path, max_share)
    latest = {}
    for share in verdict.loads:  # load ids sort in time order
        key = (share.system, share.table_name)
        if key not in latest or share.load_id > latest[key].load_id:
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
