"""Freshness against the clock, evaluated at injected times (Dagster's `freeze_time`).

Two blind spots of the data-relative rules (tests/quality/test_freshness_rules.py):
- the marts' wall-clock check (`orchestration/defs/marts/checks.py`, WARN past 26 h) is what
  notices that the nightly job stopped; here it is shown to pass at 25 h and fire at 27 h;
- a whole chain that stops delivering leaves every system equally behind, so the relative rule
  (lag behind the newest extract of *any* system) calls them all fresh, at any "now"; the
  ledger's `chain_delivering` check (the clock rule) is what raises that alarm.
The real checks run (the project's check definitions in a Dagster run) on a hand-made
warehouse whose every system last delivered on 2026-11-22. The real wall clock is never read.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.test_utils import freeze_time

from ingestion.raw_schema import ensure_meta_tables
from orchestration.defs.marts.checks import FRESHNESS_CHECKS
from orchestration.defs.publish.assets import MART_KEYS, serving
from orchestration.defs.raw.freshness import CHAIN_SPEC, raw_freshness
from orchestration.resources import MedspaSettings

SYSTEMS = ("pms", "pos", "phone", "messaging", "crm", "reviews")
LAST_EXTRACT = "2026-11-22"
#: The last nightly run: it loaded the 2026-11-22 extracts and rebuilt the marts.
LAST_RUN = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
PUBLISHED = [*MART_KEYS, serving.key]
#: Checks evaluated: the marts' check on serving and the scorecard (one multi-check builds all
#: of them alike), the raw check on one table of every system. Fewer checks, a faster run.
WATCHED = [serving.key, dg.AssetKey("kpi_scorecard")]


def _warehouse(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        ensure_meta_tables(con)
        for system in SYSTEMS:
            con.execute(
                "insert into raw_meta.loaded_files values ('L1', ?, 'sha', ?, 't', ?, 'loaded', "
                "null, 1, 1, 0, 0, 0, ?)",
                [f"{system}/t/{LAST_EXTRACT}.csv", system, LAST_EXTRACT, LAST_RUN],
            )
    finally:
        con.close()


def _evaluate(instance, data_dir: Path, now: dt.datetime) -> dict[tuple[str, str], object]:
    """Every mart/serving and raw freshness check evaluated at `now`: (asset, check) -> eval."""
    with freeze_time(now):
        result = dg.materialize(
            [*FRESHNESS_CHECKS, raw_freshness],
            instance=instance,
            resources={"medspa": MedspaSettings(data_dir=str(data_dir))},
            selection=_selection(),
        )
    assert result.success
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def _selection() -> dg.AssetSelection:
    raw_keys = {}
    for key in raw_freshness.check_keys - {CHAIN_SPEC.key}:
        raw_keys.setdefault(key.asset_key.path[0].removeprefix("raw_"), key)
    mart_keys = [k for k in FRESHNESS_CHECKS[0].check_keys if k.asset_key in WATCHED]
    assert len(raw_keys) == len(SYSTEMS) and len(mart_keys) == len(WATCHED)
    return dg.AssetSelection.checks(*mart_keys, *raw_keys.values(), CHAIN_SPEC.key)


def _materialize_marts(instance, at: dt.datetime) -> None:
    with freeze_time(at):
        for key in PUBLISHED:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))


@pytest.fixture(scope="module")
def at(tmp_path_factory: pytest.TempPathFactory):
    """Evaluations at `LAST_RUN + delta` after the last nightly run (each delta run once)."""
    data_dir = tmp_path_factory.mktemp("freshness_clock") / "data"
    _warehouse(data_dir)
    cache: dict[dt.timedelta, dict] = {}
    with dg.instance_for_test() as instance:
        _materialize_marts(instance, LAST_RUN)

        def evaluations(delta: dt.timedelta) -> dict:
            if delta not in cache:
                cache[delta] = _evaluate(instance, data_dir, LAST_RUN + delta)
            return cache[delta]

        yield evaluations


def _marts(evals: dict) -> list:
    return [e for (_, name), e in evals.items() if name == "freshness_check"]


def _raw(evals: dict) -> list:
    return [e for (_, name), e in evals.items() if name == "freshness"]


def _chain(evals: dict):
    return evals[("raw_meta/loaded_files", CHAIN_SPEC.name)]


def test_mart_wall_clock_check_passes_at_25_hours_and_fires_at_27(at):
    within, late = at(dt.timedelta(hours=25)), at(dt.timedelta(hours=27))
    assert len(_marts(within)) == len(_marts(late)) == len(WATCHED)
    assert all(e.passed for e in _marts(within))
    # 27 h > 24 h nightly + 2 h slack: the marts and serving WARN (never block), overdue.
    assert not any(e.passed for e in _marts(late))
    assert {e.severity for e in _marts(late)} == {dg.AssetCheckSeverity.WARN}
    assert all("overdue" in e.description for e in _marts(late))


def test_whole_chain_that_stopped_is_fresh_to_the_relative_rule_at_any_now(at):
    """Every system last delivered on the same day: no system lags another, so at 25 h and
    at 30 days the relative verdict is the same, all fresh. Only the clock can tell."""
    soon, month = _raw(at(dt.timedelta(hours=25))), _raw(at(dt.timedelta(days=30)))
    assert soon and all(e.passed for e in soon)
    assert [(e.asset_key, e.passed, e.description) for e in month] == [
        (e.asset_key, e.passed, e.description) for e in soon
    ]
    assert all("lags the newest extract by 0 day(s)" in e.description for e in month)


def test_whole_chain_that_stopped_while_nightly_runs_continue_raises_an_alarm(at):
    """The newest extract (2026-11-22, a UTC midnight) against the clock; the limit is the
    tightest window (2 days: pms, pos, phone, messaging) + 1 day for arrival = 3 days.
    25 h after the 2026-11-23 02:30 run, now = 2026-11-24 03:30: age 2 d 3.5 h = 2.15 days,
    within. 30 days after it, now = 2026-12-23 02:30: age 31 d 2.5 h = 31.1 days, beyond."""
    soon, month = _chain(at(dt.timedelta(hours=25))), _chain(at(dt.timedelta(days=30)))
    assert soon.passed and soon.metadata["age_days"].value == 2.15
    assert not month.passed and month.severity == dg.AssetCheckSeverity.WARN
    assert month.metadata["age_days"].value == 31.1
    assert month.metadata["limit_days"].value == 3.0
    assert "the whole chain stopped delivering" in month.description
    # The relative rule still calls every system fresh: the alarm comes from the clock rule.
    assert all(e.passed for e in _raw(at(dt.timedelta(days=30))))


def test_a_demo_chain_is_exempt_from_the_clock_rule(tmp_path: Path):
    """A marked demo landing folder ends on a fixed date: the clock rule must not cry wolf."""
    from demo.config import ChainConfig
    from demo.state import Marker, write_marker

    data_dir = tmp_path / "data"
    _warehouse(data_dir)
    landing = tmp_path / "landing"
    landing.mkdir()
    cfg = ChainConfig.build("small")
    write_marker(landing, Marker(cfg, cfg.end_date, 0.0, files={}))
    with dg.instance_for_test() as instance, freeze_time(LAST_RUN + dt.timedelta(days=30)):
        result = dg.materialize(
            [raw_freshness],
            instance=instance,
            resources={"medspa": MedspaSettings(data_dir=str(data_dir), landing_dir=str(landing))},
            selection=dg.AssetSelection.checks(CHAIN_SPEC.key),
        )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["status"].value == "demo"


def test_the_mart_freshness_checks_say_what_a_warning_means():
    """Dagster's factory describes each as "Evaluates freshness for targeted asset." and runs
    them as a step named by a hash; ours say the window and what to do, under a readable name,
    and keep the metadata the freshness sensor schedules them by."""
    from orchestration.defs.marts.checks import FRESHNESS_DESCRIPTION, FRESHNESS_STEP

    (checks,) = FRESHNESS_CHECKS
    assert checks.node_def.name == FRESHNESS_STEP == "mart_freshness_checks"
    specs = list(checks.check_specs)
    assert len(specs) == len(PUBLISHED) and {s.description for s in specs} == {
        FRESHNESS_DESCRIPTION
    }
    assert "26 hours" in FRESHNESS_DESCRIPTION and "medspa status" in FRESHNESS_DESCRIPTION
    params = {
        s.metadata["dagster/freshness_params"].data["lower_bound_delta_seconds"] for s in specs
    }
    assert params == {26 * 3600}
