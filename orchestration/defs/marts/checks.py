"""Checks on the marts: GX mart suites and wall-clock freshness.

GX mart suites (rates within [0, 1], scorecard complete, revenue reconciles with invoice
lines) come from `quality.suites.mart_suites()`; error-level suites block `serving`.
Freshness of the marts and of `serving` is a last-update check (WARN after
`quality.freshness.MART_MAX_AGE`: a nightly job that stopped running), evaluated in each run
and by the freshness sensor between runs. Nothing here falls back: a suite that cannot be
imported, or that names a mart the dbt project lacks, stops the definitions from loading.
"""

import warnings

import dagster as dg

from orchestration.defs.gx import gx_checks
from orchestration.defs.publish.assets import MART_KEYS, serving
from quality.freshness import MART_MAX_AGE
from quality.suites import mart_suites as listed_mart_suites


class UnknownMartError(RuntimeError):
    """A mart suite names a relation the dbt project does not publish."""


def mart_suites() -> list:
    """The quality package's mart suites; each must name a mart of this dbt project."""
    known = {k.to_user_string() for k in MART_KEYS}
    suites = list(listed_mart_suites())
    unknown = sorted(s.relation for s in suites if s.relation.split(".", 1)[-1] not in known)
    if unknown:
        raise UnknownMartError(f"mart suites name relations no dbt model builds: {unknown}")
    return suites


GX_MART_CHECKS = gx_checks(mart_suites(), name="gx_mart_suites")

#: What the UI and `ops.check_results` say a mart's freshness check is, and what to do.
FRESHNESS_DESCRIPTION = (
    f"Was this updated in the last {MART_MAX_AGE.total_seconds() / 3600:g} hours? A warning "
    "means the nightly run stopped publishing (not scheduled, failing or blocked): `medspa "
    "status` says which run last published and why the later ones did not."
)

#: The step the checks run as (in the run's log and `medspa run`'s progress lines).
FRESHNESS_STEP = "mart_freshness_checks"


def described_freshness_checks(
    checks: dg.AssetChecksDefinition, description: str, name: str
) -> dg.AssetChecksDefinition:
    """Dagster's last-update checks under our description and step name.

    `build_last_update_freshness_checks` describes every check as "Evaluates freshness for
    targeted asset." and names its step `freshness_check_<hash>`. The same check function is
    rebuilt with specs that keep Dagster's metadata (the freshness sensor schedules by it) and
    say what a warning means. Dagster is pinned, and a test checks the rebuilt checks still
    pass and warn as Dagster's do.
    """
    specs = [
        dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=description,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )
        for spec in checks.check_specs
    ]
    check_fn = checks.node_def.compute_fn.decorated_fn  # type: ignore[union-attr]
    return dg.multi_asset_check(specs=specs, can_subset=True, name=name)(check_fn)


with warnings.catch_warnings():
    # Superseded by FreshnessPolicy (daemon-evaluated), but these are *checks*: they show in
    # the run, in ops.check_results and on the pipeline-health page like every other check.
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    (_DAGSTERS,) = dg.build_last_update_freshness_checks(
        assets=[*MART_KEYS, serving], lower_bound_delta=MART_MAX_AGE
    )
    FRESHNESS_CHECKS = [
        described_freshness_checks(_DAGSTERS, FRESHNESS_DESCRIPTION, FRESHNESS_STEP)
    ]
    FRESHNESS_SENSOR = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
