"""Whether every tenant published recently: `serving`'s freshness, tenant by tenant.

`serving`'s last-update freshness check (`orchestration/defs/marts/checks.py`) looks at the
newest materialization of any tenant's partition, so in a deployment of several clinics one
clinic whose nightly stopped hides behind the others' runs: its pages age and nothing warns.
This check reads each registered tenant's newest `serving` materialization and warns, naming
every tenant whose newest publish is older than `quality.freshness.MART_MAX_AGE`. A tenant that
never published is listed but does not fail it: on a deployment's first night every tenant but
the first is in that state for minutes, and a tenant whose runs never publish already shows as
failed or blocked runs in the run log and the UI. It runs after
`serving` in every tenant's nightly (so each running clinic's run reports the stopped ones);
when every nightly stops, the all-tenant freshness check and its sensor still warn. Like the
other freshness checks it reads the clock: its verdict is about time passing, not the data.
"""

import datetime as dt
import time
from collections.abc import Mapping

import dagster as dg

from orchestration.defs.publish.assets import serving
from orchestration.tenancy import TENANT_PARTITIONS
from orchestration.tenant_status import last_published
from quality.freshness import MART_MAX_AGE

CHECK_NAME = "every_tenant_published_recently"


def _now() -> float:
    """The clock, in one place (tests move it)."""
    return time.time()


def stale_tenants(
    published_at: Mapping[str, float | None], now: float, max_age: dt.timedelta = MART_MAX_AGE
) -> dict[str, str]:
    """tenant -> how old its newest publish is, for every tenant that published and whose
    newest publish is older than `max_age` at `now` (timestamps in seconds)."""
    return {
        tenant: f"last published {(now - at) / 3600:.1f} h ago"
        for tenant, at in sorted(published_at.items())
        if at is not None and now - at > max_age.total_seconds()
    }


@dg.asset_check(
    asset=serving,
    name=CHECK_NAME,
    blocking=False,
    description=(
        f"Every registered tenant published within {MART_MAX_AGE.total_seconds() / 3600:.0f} h "
        "(WARN names the tenants whose nightly stopped; evaluated in every tenant's run)."
    ),
)
def every_tenant_published_recently(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    instance = context.instance
    tenants = instance.get_dynamic_partitions(TENANT_PARTITIONS.name)
    published = {tenant: last_published(instance, tenant) for tenant in tenants}
    stale = stale_tenants(published, _now())
    never = sorted(tenant for tenant, at in published.items() if at is None)
    notes = [f"{tenant}: {why}" for tenant, why in stale.items()]
    notes += [f"not published yet: {', '.join(never)}"] if never else []
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(notes) or f"all {len(tenants)} tenant(s) published within the window",
        metadata={
            "tenants": len(tenants),
            "stale_tenants": sorted(stale),
            "never_published": never,
        },
    )
