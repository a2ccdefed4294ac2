"""Checks on the raw tables: GX raw suites (`gx_*`) and the quarantine share (`quarantine`).

The quarantine check reads `quality.quarantine.table_verdicts()` (each table's latest load)
once per run and reports per raw table: WARN when any row of the table was quarantined, a
blocking ERROR when the quarantined share of the latest load exceeds
`settings.quarantine_max_share` (default 1 %). Blocking means `serving` publishes nothing in
that run (nor later, until a load of the table passes), so the previous serving file stays.
dbt still builds from the rows that loaded, beside this check (the quarantined rows never
reached the raw tables): Dagster does not hold back the dbt step, which checks the raw tables
itself with dbt's source tests. A raw table loaded after this check last ran (a run that
selected one table of its system) is not trusted by the publish gate either.
"""

import dagster as dg

from orchestration.defs.gx import gx_checks
from orchestration.defs.raw.assets import RAW_TABLES, raw_key
from orchestration.resources import MedspaSettings
from orchestration.summary import quarantine_query
from quality.quarantine import table_verdicts
from quality.suites import raw_suites

QUARANTINE_CHECK = "quarantine_share"

GX_RAW_CHECKS = gx_checks(list(raw_suites()), name="gx_raw_suites")

QUARANTINE_SPECS = [
    dg.AssetCheckSpec(
        QUARANTINE_CHECK,
        asset=raw_key(t),
        blocking=True,
        description="WARN on any quarantined row of the latest load, and while rows quarantined "
        "earlier are still missing (no later load replaced them); ERROR (blocks publishing) "
        "when the latest load's share exceeds the limit",
    )
    for t in RAW_TABLES
]


@dg.multi_asset_check(specs=QUARANTINE_SPECS, can_subset=True, name="raw_quarantine")
def raw_quarantine(context: dg.AssetCheckExecutionContext, medspa: MedspaSettings):

    settings = medspa.settings(context)
    verdicts = table_verdicts(settings.warehouse_path, settings.quarantine_max_share)
    for table in RAW_TABLES:
        key = dg.AssetCheckKey(raw_key(table), QUARANTINE_CHECK)
        if key not in context.selected_asset_check_keys:
            continue
        v = verdicts.get((table.system, table.name))
        if v is None:
            yield dg.AssetCheckResult(
                asset_key=raw_key(table),
                check_name=QUARANTINE_CHECK,
                passed=True,
                description="no rows quarantined",
                metadata={"rows_quarantined": 0},
            )
            continue
        # A blocked load says, in the UI too, where its rows are and what lifts the block.
        description = (
            f"{v.description}; {quarantine_query(raw_key(table).to_user_string(), None)}; "
            "deliver a corrected file of the table (its next load lifts the block)"
            if v.blocks
            else v.description
        )
        yield dg.AssetCheckResult(
            asset_key=raw_key(table),
            check_name=QUARANTINE_CHECK,
            passed=v.passed,
            severity=dg.AssetCheckSeverity.ERROR if v.blocks else dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "rows_quarantined": v.rows_quarantined,
                "rows_still_missing": v.earlier_missing,
                "worst_load_share": v.worst_share,
                "max_share": settings.quarantine_max_share,
            },
        )
