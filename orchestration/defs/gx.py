"""Great Expectations suites as Dagster asset checks (names start with `gx_`).

Suites are plain data (`quality.spec.SuiteSpec`), listed without importing GX; the runner
(`quality.runner.run_suite`) imports GX (~9 s) only when a check actually executes. A suite
blocks downstream assets when it holds an expectation of severity `error`; a failed run of it
reports ERROR when an error-level expectation failed, WARN when only warnings did.
Runs are incremental: once a raw suite has passed, later runs validate its row-local rules
on the rows loaded since (`quality.delta`), which keeps a nightly delta's checks short.
"""

import re
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg

from orchestration.resources import MedspaSettings


def check_name(suite: Any) -> str:
    """`gx_<suite name>` with anything outside [A-Za-z0-9_] replaced (Dagster's rule)."""
    return "gx_" + re.sub(r"[^A-Za-z0-9_]", "_", suite.name)


def asset_key_of(relation: str) -> dg.AssetKey:
    """Warehouse relation -> asset key: raw tables are `raw_<system>/<table>`, dbt by name."""
    schema, table = relation.split(".", 1)
    return dg.AssetKey([schema, table]) if schema.startswith("raw_") else dg.AssetKey([table])


def is_blocking(suite: Any) -> bool:
    return any(e.severity == "error" for e in suite.expectations)


def spec_of(suite: Any) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        check_name(suite),
        asset=asset_key_of(suite.relation),
        blocking=is_blocking(suite),
        description=suite.description or f"GX suite {suite.name} on {suite.relation}",
    )


#: A failure over every row: the suite is new or its rules changed since it last passed (or it
#: never passed), so rows an earlier version loaded are judged by today's rules.
ALL_ROWS_FAILED = (
    "; every row was checked, those loaded before a rule changed included (README: "
    "Upgrading a deployment, a stricter contract)"
)


def to_check_result(suite: Any, result: Any) -> dg.AssetCheckResult:
    """A `quality.results.SuiteResult` as a check result: keys of failures, never values."""
    failed = [e.key for e in result.failures]
    severity = (
        dg.AssetCheckSeverity.WARN if result.severity == "warn" else dg.AssetCheckSeverity.ERROR
    )
    summary = (
        f"{len(failed)} of {len(result.expectations)} expectations failed ({', '.join(failed)})"
        if failed
        else ""
    )
    if failed and result.since_load_id is None:
        summary += ALL_ROWS_FAILED
    return dg.AssetCheckResult(
        asset_key=asset_key_of(suite.relation),
        check_name=check_name(suite),
        passed=bool(result.success),
        severity=severity,
        description=" ".join(p for p in (suite.description, summary) if p) or None,
        metadata={
            "suite": suite.name,
            "expectations": len(result.expectations),
            "failed_expectations": failed,
            "elapsed_seconds": round(float(result.elapsed_seconds), 2),
            # row-local rules read the rows loaded after this load (`quality.delta`)
            "validated_since_load": result.since_load_id or "all rows",
        },
    )


def build_gx_check(name: str, suites: Sequence[Any]) -> dg.AssetChecksDefinition:
    """One multi-check op for many suites: one GX context per run, not per suite."""
    by_name = {check_name(s): s for s in suites}

    @dg.multi_asset_check(specs=[spec_of(s) for s in suites], can_subset=True, name=name)
    def _gx(context: dg.AssetCheckExecutionContext, medspa: MedspaSettings):
        from quality.runner import run_suites  # imports GX: only when a check runs

        settings = medspa.settings(context)
        selected = sorted(k.name for k in context.selected_asset_check_keys)
        specs = [by_name[n] for n in selected]
        # Incremental: a suite that passed before reads only rows loaded since (nightly
        # deltas); `quality.delta` says which rules read which rows.
        results = run_suites(specs, settings.warehouse_path, settings.quality_dir, incremental=True)
        for suite, result in zip(specs, results, strict=True):
            yield to_check_result(suite, result)

    return _gx


def gx_checks(suites: Iterable[Any], name: str) -> list[dg.AssetChecksDefinition]:
    """The check definition for `suites` on the warehouse, or nothing when there are none."""
    suites = list(suites)
    if not suites:
        return []
    return [build_gx_check(name, suites)]
