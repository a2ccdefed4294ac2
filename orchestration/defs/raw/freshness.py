"""Freshness checks on the raw tables, judged from the data (rules: `quality.freshness`).

One check named `freshness` per raw table, evaluated per system, then per table:
WARN when the table's system used to deliver and stopped (its newest extract lags the newest
extract of any system by more than its window); nothing when the system was never delivered
and the clinic does not declare it; ERROR (not blocking) when declared but never delivered.
While the system delivers, WARN when the table's own newest extract lags the system's newest
by more than the window (its system is fresh, this table stopped), or when one of its files is
dated after it was loaded (`quality.freshness.evaluate_tables`). The description always names
the table's own last extract and its system's. Rows already loaded stay: a stale system is
reported, never deleted.

A whole chain that stopped leaves no system behind another, so those checks all pass; the
check `chain_delivering` on the file ledger (`raw_meta/loaded_files`) is the one that reads a
clock: WARN when even the newest extract of any system is older than the tightest window plus a
day (`quality.freshness.chain_silence`). Its "now" is Dagster's clock, the one the marts'
wall-clock checks read, so both agree (and tests freeze both alike).
"""

import datetime as dt

import dagster as dg
from dagster._time import get_current_datetime

from orchestration.defs.raw.assets import LOADED_FILES_KEY, RAW_TABLES, raw_key
from orchestration.resources import MedspaSettings
from quality import freshness

CHECK_NAME = "freshness"
CHAIN_CHECK = "chain_delivering"

SPECS = [
    dg.AssetCheckSpec(
        CHECK_NAME,
        asset=raw_key(t),
        description=(
            "Have this table and its system kept delivering? (the system's lag behind the newest "
            "extract, the table's behind its system's)"
        ),
    )
    for t in RAW_TABLES
]
CHAIN_SPEC = dg.AssetCheckSpec(
    CHAIN_CHECK,
    asset=LOADED_FILES_KEY,
    description="Is the chain still delivering at all? (newest extract of any system vs the clock)",
)


def _severity(verdict: freshness.TableFreshness) -> dg.AssetCheckSeverity:
    """ERROR only for a declared system that never delivered; everything else warns."""
    if verdict.status == "declared_missing":
        return dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckSeverity.WARN


def _metadata(verdict: freshness.TableFreshness) -> dict[str, str | float]:
    system = verdict.system
    return {
        "system": system.system,
        "status": verdict.status,
        "system_status": system.status,
        "last_extract": system.last_extract or "",
        "lag_days": system.lag_days if system.lag_days is not None else -1.0,
        "window_days": system.window_days,
        "table_last_extract": verdict.last_extract or "",
        "table_lag_days": verdict.lag_days if verdict.lag_days is not None else -1.0,
        "future_dated_files": ", ".join(e.file_path for e in verdict.future_dated),
    }


def results_for(
    verdicts: dict[tuple[str, str], freshness.TableFreshness], keys: set[dg.AssetCheckKey]
) -> list[dg.AssetCheckResult]:
    """One result per selected raw table from its own verdict (`freshness.evaluate_tables`)."""
    results = []
    for table in RAW_TABLES:
        key = dg.AssetCheckKey(raw_key(table), CHECK_NAME)
        if key not in keys:
            continue
        verdict = verdicts[(table.system, table.name)]
        results.append(
            dg.AssetCheckResult(
                asset_key=raw_key(table),
                check_name=CHECK_NAME,
                passed=verdict.passed,
                severity=_severity(verdict),
                description=verdict.description,
                metadata=_metadata(verdict),
            )
        )
    return results


def chain_result(silence: freshness.ChainSilence) -> dg.AssetCheckResult:
    """The ledger's `chain_delivering` result: WARN (never blocking) when the chain is silent."""
    return dg.AssetCheckResult(
        asset_key=LOADED_FILES_KEY,
        check_name=CHAIN_CHECK,
        passed=silence.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=silence.description,
        metadata={
            "status": silence.status,
            "newest_extract": silence.newest_extract or "",
            "age_days": silence.age_days if silence.age_days is not None else -1.0,
            "limit_days": silence.limit_days,
        },
    )


@dg.multi_asset_check(specs=[*SPECS, CHAIN_SPEC], can_subset=True, name="raw_freshness")
def raw_freshness(context: dg.AssetCheckExecutionContext, medspa: MedspaSettings):
    settings = medspa.settings(context)
    systems = sorted({t.system for t in RAW_TABLES})
    extracts = freshness.warehouse_extracts(settings.warehouse_path)
    deliveries = freshness.system_deliveries(extracts)
    verdicts = freshness.evaluate(deliveries, systems, settings.declared_systems)
    tables = [(t.system, t.name) for t in RAW_TABLES]
    selected = set(context.selected_asset_check_keys)
    yield from results_for(freshness.evaluate_tables(verdicts, extracts, tables), selected)
    if CHAIN_SPEC.key in selected:
        now: dt.datetime = get_current_datetime()
        yield chain_result(freshness.chain_silence(deliveries, now, demo=settings.landing_is_demo))
