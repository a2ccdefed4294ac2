"""Freshness checks on the raw tables, judged from the data (rules: `quality.freshness`).

One check named `freshness` per raw table, evaluated per system:
WARN when the table's system used to deliver and stopped (its newest extract lags the newest
extract of any system by more than its window); nothing when the system was never delivered
and the clinic does not declare it; ERROR (not blocking) when declared but never delivered.
Rows already loaded stay: a stale system is reported, never deleted.
"""

import dagster as dg

from orchestration.defs.raw.assets import RAW_TABLES, raw_key
from orchestration.resources import MedspaSettings
from quality import freshness

CHECK_NAME = "freshness"

SPECS = [
    dg.AssetCheckSpec(
        CHECK_NAME,
        asset=raw_key(t),
        description="Has this table's system kept delivering? (lag behind the newest extract)",
    )
    for t in RAW_TABLES
]


def results_for(
    verdicts: dict[str, freshness.SystemFreshness], keys: set[dg.AssetCheckKey]
) -> list[dg.AssetCheckResult]:
    """One result per selected raw table from its system's verdict."""
    results = []
    for table in RAW_TABLES:
        key = dg.AssetCheckKey(raw_key(table), CHECK_NAME)
        if key not in keys:
            continue
        verdict = verdicts[table.system]
        severity = (
            dg.AssetCheckSeverity.ERROR
            if verdict.status == "declared_missing"
            else dg.AssetCheckSeverity.WARN
        )
        results.append(
            dg.AssetCheckResult(
                asset_key=raw_key(table),
                check_name=CHECK_NAME,
                passed=verdict.passed,
                severity=severity,
                description=verdict.description,
                metadata={
                    "system": table.system,
                    "status": verdict.status,
                    "last_extract": verdict.last_extract or "",
                    "lag_days": verdict.lag_days if verdict.lag_days is not None else -1.0,
                    "window_days": verdict.window_days,
                },
            )
        )
    return results


@dg.multi_asset_check(specs=SPECS, can_subset=True, name="raw_freshness")
def raw_freshness(context: dg.AssetCheckExecutionContext, medspa: MedspaSettings):
    settings = medspa.settings(context)
    systems = sorted({t.system for t in RAW_TABLES})
    verdicts = freshness.evaluate_warehouse(
        settings.warehouse_path, systems, settings.declared_systems
    )
    yield from results_for(verdicts, set(context.selected_asset_check_keys))
