"""Checks on the marts: GX mart suites and wall-clock freshness.

GX mart suites (rates within [0, 1], scorecard complete, revenue reconciles with invoice
lines) come from `quality.suites.mart_suites()`; error-level suites block `serving`.
Freshness of the marts and of `serving` is a last-update check (WARN after 26 h: a nightly
job that stopped running), evaluated in each run and by the freshness sensor between runs.
"""

import datetime as dt
import warnings

import dagster as dg

from orchestration.defs.gx import gx_checks
from orchestration.defs.publish.assets import MART_KEYS, serving

#: Nightly job plus two hours of slack.
MART_FRESHNESS_WINDOW = dt.timedelta(hours=26)


def mart_suites() -> list:
    """The quality engineer's mart suites whose mart exists in this dbt project."""
    try:
        from quality.suites import mart_suites as listed
    except ImportError:
        return []
    known = {k.to_user_string() for k in MART_KEYS}
    return [s for s in listed() if s.relation.split(".", 1)[-1] in known]


GX_MART_CHECKS = gx_checks(mart_suites(), name="gx_mart_suites")

with warnings.catch_warnings():
    # Superseded by FreshnessPolicy (daemon-evaluated), but these are *checks*: they show in
    # the run, in ops.check_results and on the pipeline-health page like every other check.
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
        assets=[*MART_KEYS, serving], lower_bound_delta=MART_FRESHNESS_WINDOW
    )
    FRESHNESS_SENSOR = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
