"""The public list of suites: raw contract tables, then marts.

Kept separate from the builders so callers (Dagster check specs, the CLI) import one module
with two functions and never touch GX.
"""

from __future__ import annotations

from quality.mart_suites import mart_suites
from quality.raw_suites import raw_suites
from quality.spec import ExpectationSpec, SuiteSpec

__all__ = ["ExpectationSpec", "SuiteSpec", "all_suites", "mart_suites", "raw_suites"]


def all_suites() -> list[SuiteSpec]:
    """Every suite, raw first (their failures explain mart failures)."""
    return [*raw_suites(), *mart_suites()]
