"""What happened in one Dagster run, read back from the instance's event log.

Used twice: the `serving` asset writes the run's check results into `ops.check_results` /
`ops.run_log`, and `medspa run` prints its summary from the same records, so the page and the
terminal never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dagster import DagsterEventType, DagsterInstance


@dataclass(frozen=True)
class CheckOutcome:
    """One evaluated asset check."""

    check_name: str
    asset: str
    severity: str  # ERROR | WARN
    passed: bool
    description: str
    evaluated_at: dt.datetime
    blocking: bool

    @property
    def outcome(self) -> str:
        """passed | warned | failed: a failed WARN check is a warning, not a failure."""
        if self.passed:
            return "passed"
        return "warned" if self.severity == "WARN" else "failed"


@dataclass(frozen=True)
class Materialization:
    """One asset materialization with its metadata as plain values."""

    asset: str
    metadata: dict[str, Any]


def _records(instance: DagsterInstance, run_id: str, event_type: DagsterEventType) -> list:
    return list(instance.get_records_for_run(run_id, of_type=event_type, limit=100_000).records)


def check_outcomes(instance: DagsterInstance, run_id: str) -> list[CheckOutcome]:
    """Every check evaluated in the run, in evaluation order."""
    outcomes = []
    for record in _records(instance, run_id, DagsterEventType.ASSET_CHECK_EVALUATION):
        entry = record.event_log_entry
        data = entry.dagster_event.event_specific_data
        outcomes.append(
            CheckOutcome(
                check_name=data.check_name,
                asset=data.asset_key.to_user_string(),
                severity=data.severity.value,
                passed=bool(data.passed),
                description=data.description or "",
                evaluated_at=dt.datetime.fromtimestamp(entry.timestamp, tz=dt.UTC),
                blocking=bool(data.blocking),
            )
        )
    return outcomes


def materializations(instance: DagsterInstance, run_id: str) -> list[Materialization]:
    """Every asset materialized in the run, metadata unwrapped to plain values."""
    result = []
    for record in _records(instance, run_id, DagsterEventType.ASSET_MATERIALIZATION):
        mat = record.event_log_entry.dagster_event.event_specific_data.materialization
        meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        result.append(Materialization(mat.asset_key.to_user_string(), meta))
    return result


def rows_loaded(mats: list[Materialization]) -> int:
    """Rows inserted or updated in raw tables during the run."""
    total = 0
    for mat in mats:
        if mat.asset.startswith("raw_"):
            for field in ("rows_inserted", "rows_updated"):
                value = mat.metadata.get(field)
                total += int(value) if isinstance(value, int | float) else 0
    return total


def run_started_at(instance: DagsterInstance, run_id: str) -> dt.datetime | None:
    stats = instance.get_run_stats(run_id)
    return dt.datetime.fromtimestamp(stats.start_time, tz=dt.UTC) if stats.start_time else None


def failed_blocking(outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    """Checks that must stop publishing: blocking and failed at ERROR severity."""
    return [c for c in outcomes if c.blocking and not c.passed and c.severity == "ERROR"]
