"""Result types of a suite run, and the rule that keeps PHI out of them.

Results travel far (JSON files, the HTML index, `ops.check_results` in the BI-facing serving
database, Dagster's UI), so they are built here from GX's output through a whitelist: counts
always, sample values only for non-sensitive columns, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from quality.spec import SEVERITY_RANK, ExpectationSpec

#: Result fields that are counts or shares: safe for every column, PHI included.
COUNT_KEYS = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "missing_percent",
)
#: How many offending values a non-sensitive result shows.
SAMPLE_SIZE = 5
#: Error messages are cut to this length (they name SQL objects, not values).
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class ExpectationResult:
    """Outcome of one expectation: what was checked, how bad a failure is, what was seen."""

    key: str
    kind: str
    column: str | None
    severity: str
    description: str
    success: bool
    observed: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class SuiteResult:
    """Outcome of one suite. `severity` is the worst failed severity (None when all passed)."""

    suite: str
    relation: str
    success: bool
    severity: str | None
    expectations: list[ExpectationResult] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    #: Set on an incremental run: row-local rules read only rows loaded after this load id
    #: (`quality.delta`); None means the whole relation was read.
    since_load_id: str | None = None

    @property
    def failures(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if not e.success]

    @property
    def blocking(self) -> bool:
        """An error-severity expectation failed: publishing must stop."""
        return self.severity == "error"

    def result_for(self, key: str) -> ExpectationResult:
        for exp in self.expectations:
            if exp.key == key:
                return exp
        raise KeyError(f"suite {self.suite} has no expectation {key!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def worst_severity(results: list[ExpectationResult]) -> str | None:
    failed = [r.severity for r in results if not r.success]
    return max(failed, key=SEVERITY_RANK.__getitem__) if failed else None


def jsonable(value: Any) -> Any:
    """Plain JSON types for dates, decimals, tuples (GX returns DuckDB's Python values)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def observed_values(result: dict[str, Any], sensitive: bool) -> dict[str, Any]:
    """The part of a GX `result` dict that may be shown; sensitive columns keep counts only."""
    observed = {k: jsonable(result[k]) for k in COUNT_KEYS if k in result}
    value = result.get("observed_value")
    if sensitive:
        if isinstance(value, int | float) and not isinstance(value, bool):
            observed["observed_value"] = value
        return observed
    if "observed_value" in result:
        observed["observed_value"] = jsonable(value)
    if result.get("partial_unexpected_list"):
        # Sorted: the SQL behind the sample has no ORDER BY, so keep the display stable.
        sample = jsonable(result["partial_unexpected_list"][:SAMPLE_SIZE])
        observed["unexpected_sample"] = sorted(sample, key=lambda v: json.dumps(v, sort_keys=True))
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        observed["mismatched"] = jsonable(mismatched)
    return observed


def error_text(exception_info: Any, spec: ExpectationSpec) -> str | None:
    """A short error message, or None. Withheld for sensitive columns, to be safe."""
    infos = exception_info.values() if isinstance(exception_info, dict) else []
    if isinstance(exception_info, dict) and "raised_exception" in exception_info:
        infos = [exception_info]
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            if spec.sensitive:
                return "evaluation failed (message withheld: sensitive column)"
            message = str(info.get("exception_message") or "evaluation failed").strip()
            return message.splitlines()[0][:MAX_ERROR_CHARS]
    return None
