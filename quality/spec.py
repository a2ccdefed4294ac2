"""What a quality suite *is*, as plain data: no Great Expectations import here.

Suites are built from the landing contract and the mart rules in pure Python, so listing
them (for Dagster's check specs, for the docs) costs nothing; only `quality.runner` pays
GX's ~10 s import, and only when a suite actually runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warn"]

#: Order of severities, worst last: the runner reports the worst failed one.
SEVERITY_RANK: dict[str, int] = {"warn": 1, "error": 2}


@dataclass(frozen=True)
class ExpectationSpec:
    """One GX expectation, its severity, and the rows it looks at.

    `kind` is the GX Core class name (`ExpectColumnValuesToNotBeNull`); `kwargs` its arguments.
    `query` is the SQL the expectation runs against; None means the suite's relation as is.
    Checks that need a join or an aggregate (types from `information_schema`, revenue
    reconciliation) carry their own query, so the work stays inside DuckDB.
    `sensitive` marks PHI (or person-identifier) columns: their results keep counts only.
    """

    kind: str
    kwargs: dict[str, Any]
    severity: Severity
    description: str
    column: str | None = None
    query: str | None = None
    sensitive: bool = False
    #: Explicit id, for when kind + column would repeat inside one suite.
    label: str | None = None

    @property
    def key(self) -> str:
        """Stable id of the expectation inside its suite (kind + column/arguments)."""
        if self.label:
            return self.label
        detail = self.column or ",".join(self.kwargs.get("column_list", ()))
        return f"{self.kind}:{detail}" if detail else self.kind


@dataclass(frozen=True)
class SuiteSpec:
    """A named set of expectations on one warehouse relation (`schema.table`)."""

    name: str
    relation: str
    expectations: tuple[ExpectationSpec, ...] = field(repr=False)
    description: str = ""

    @property
    def base_query(self) -> str:
        """The SQL of the relation itself: what expectations without their own query read."""
        schema, table = self.relation.split(".", 1)
        return f'select * from "{schema}"."{table}"'

    def queries(self) -> dict[str, list[ExpectationSpec]]:
        """Expectations grouped by the SQL they run on (one GX query asset per group)."""
        groups: dict[str, list[ExpectationSpec]] = {}
        for exp in self.expectations:
            groups.setdefault(exp.query or self.base_query, []).append(exp)
        return groups
