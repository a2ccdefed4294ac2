"""Which models a nightly leaves out (`orchestration/defs/dbt/unchanged.py`), on a hand-made graph.

    raw_pms.visits ─> stg_visits ─┐
                                  ├─> fct_visits ─> kpi_visits
    raw_pms.rooms ──> stg_rooms ──┼─> dim_rooms
    seed targets ─────────────────┘ (fct_visits reads it too)

Tests: `not_null_fct` on fct_visits, `rel_fct_dim` from fct_visits to dim_rooms.
"""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt import unchanged

RAW = {"raw_pms.visits": "rows=10 newest_load=1", "raw_pms.rooms": "rows=3 newest_load=1"}


def _node(uid: str, kind: str, parents: tuple[str, ...] = (), sql: str = "select 1") -> dict:
    name = uid.split(".")[-1]
    return {
        "unique_id": uid,
        "name": name,
        "alias": name,
        "schema": {"seed": "marts", "test": "tests"}.get(kind, name.split("_")[0]),
        "resource_type": kind,
        "checksum": {"checksum": f"sum of {sql}"},
        "config": {"materialized": "table"},
        "columns": {},
        "depends_on": {"nodes": list(parents)},
    }


def _manifest() -> dict:
    nodes = [
        _node("seed.p.targets", "seed"),
        _node("model.p.stg_visits", "model", ("source.p.raw_pms.visits",)),
        _node("model.p.stg_rooms", "model", ("source.p.raw_pms.rooms",)),
        _node("model.p.dim_rooms", "model", ("model.p.stg_rooms",)),
        _node(
            "model.p.fct_visits",
            "model",
            ("model.p.stg_visits", "model.p.stg_rooms", "seed.p.targets"),
        ),
        _node("model.p.kpi_visits", "model", ("model.p.fct_visits",)),
        _node("test.p.not_null_fct", "test", ("model.p.fct_visits",)),
        _node("test.p.rel_fct_dim", "test", ("model.p.fct_visits", "model.p.dim_rooms")),
    ]
    sources = {
        f"source.p.raw_pms.{t}": {"schema": "raw_pms", "name": t, "identifier": t}
        for t in ("visits", "rooms")
    }
    return {"nodes": {n["unique_id"]: n for n in nodes}, "sources": sources}


def _fingerprints(manifest: dict, raw: dict = RAW, **kwargs) -> dict[str, str]:
    kwargs.setdefault("recorded", {})
    found = unchanged.model_fingerprints(
        manifest, shared_code="macros v1", environment="env", raw_versions=raw, **kwargs
    )
    return {uid.split(".")[-1]: fp for uid, fp in found.items()}


def _state(fingerprints: dict[str, str], manifest: dict) -> unchanged.ModelState:
    """A warehouse holding every table, each recorded with `fingerprints`."""
    tables = frozenset(
        (n["schema"], n["alias"])
        for n in manifest["nodes"].values()
        if n["resource_type"] in unchanged.BUILT_TYPES
    )
    return unchanged.ModelState(dict(fingerprints), tables)


def _left_out(manifest: dict, state: unchanged.ModelState, raw: dict = RAW) -> list[str]:
    current = unchanged.model_fingerprints(
        manifest,
        shared_code="macros v1",
        environment="env",
        raw_versions=raw,
        recorded=state.recorded,
    )
    return unchanged.unchanged_models(manifest, current, state)


def test_a_raw_table_that_changed_changes_every_model_below_it_and_nothing_else():
    manifest = _manifest()
    before = _fingerprints(manifest)
    after = _fingerprints(manifest, {**RAW, "raw_pms.visits": "rows=12 newest_load=2"})
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"stg_visits", "fct_visits", "kpi_visits"}


def test_the_fingerprints_depend_on_code_tests_macros_and_the_environment():
    manifest = _manifest()
    base = _fingerprints(manifest)
    assert _fingerprints(manifest) == base  # the same inputs: the same fingerprints

    edited = copy.deepcopy(manifest)
    edited["nodes"]["model.p.stg_rooms"]["checksum"]["checksum"] = "sum of select 2"
    assert {n for n, fp in _fingerprints(edited).items() if fp != base[n]} == {
        "stg_rooms",
        "dim_rooms",
        "fct_visits",
        "kpi_visits",
    }

    # a new test on dim_rooms: dim_rooms is built (and tested) again, and what reads it
    tested = copy.deepcopy(manifest)
    tested["nodes"]["test.p.unique_dim"] = _node(
        "test.p.unique_dim", "test", ("model.p.dim_rooms",)
    )
    assert {n for n, fp in _fingerprints(tested).items() if fp != base[n]} == {"dim_rooms"}

    seeded = copy.deepcopy(manifest)
    seeded["nodes"]["seed.p.targets"]["checksum"]["checksum"] = "new targets"
    assert {n for n, fp in _fingerprints(seeded).items() if fp != base[n]} == {
        "targets",
        "fct_visits",
        "kpi_visits",
    }

    other_macros = unchanged.model_fingerprints(
        manifest, shared_code="macros v2", environment="env", raw_versions=RAW, recorded={}
    )
    other_key = unchanged.model_fingerprints(
        manifest, shared_code="macros v1", environment="env 2", raw_versions=RAW, recorded={}
    )
    assert not set(other_macros.values()) & set(base.values())
    assert not set(other_key.values()) & set(base.values())


def test_the_environment_digest_follows_the_key_without_revealing_it():
    key = "k" * 40
    digest = unchanged.environment_digest(key)
    assert digest == unchanged.environment_digest(key)
    assert digest != unchanged.environment_digest("j" * 40)
    assert key not in digest and "k" * 8 not in digest


def test_nothing_changed_leaves_every_model_out_parents_first():
    manifest = _manifest()
    state = _state(_fingerprints(manifest), manifest)
    left_out = _left_out(manifest, state)
    assert sorted(left_out) == [
        "dim_rooms",
        "fct_visits",
        "kpi_visits",
        "stg_rooms",
        "stg_visits",
        "targets",
    ]
    # the order the outputs are reported in: every parent before its children
    assert left_out.index("stg_rooms") < left_out.index("dim_rooms")
    assert left_out.index("fct_visits") < left_out.index("kpi_visits")
    assert left_out.index("targets") < left_out.index("fct_visits")


def test_only_the_models_below_a_changed_table_are_built():
    manifest = _manifest()
    state = _state(_fingerprints(manifest), manifest)
    moved = {**RAW, "raw_pms.visits": "rows=12 newest_load=2"}
    assert sorted(_left_out(manifest, state, moved)) == ["dim_rooms", "stg_rooms", "targets"]


def test_a_missing_table_or_record_is_built_with_everything_below_it():
    manifest = _manifest()
    fingerprints = _fingerprints(manifest)
    state = _state(fingerprints, manifest)

    dropped = unchanged.ModelState(state.recorded, state.tables - {("stg", "stg_rooms")})
    assert sorted(_left_out(manifest, dropped)) == ["stg_visits", "targets"]

    # stg_rooms lost its record (a test on it failed): it is built and tested again, and
    # nothing below it is left out, whatever its own record says
    forgotten = dict(fingerprints)
    del forgotten["stg_rooms"]
    assert sorted(_left_out(manifest, unchanged.ModelState(forgotten, state.tables))) == [
        "stg_visits",
        "targets",
    ]


def test_a_run_of_picked_models_fingerprints_the_rest_by_their_records():
    """fct_visits built alone: its parents count as the tables their records describe, so its
    record moves when a parent is rebuilt later, never before."""
    manifest = _manifest()
    full = _fingerprints(manifest)
    picked = _fingerprints(manifest, recorded=full, built=["model.p.fct_visits"])
    assert picked["fct_visits"] == full["fct_visits"]

    stale = dict(full, stg_visits="the table of an older build")
    assert (
        _fingerprints(manifest, recorded=stale, built=["model.p.fct_visits"])["fct_visits"]
        != full["fct_visits"]
    )
    no_record = {k: v for k, v in full.items() if k != "stg_visits"}
    assert (
        _fingerprints(manifest, recorded=no_record, built=["model.p.fct_visits"])["fct_visits"]
        != full["fct_visits"]
    )


def _result(uid: str, status: str) -> dict:
    return {"unique_id": uid, "status": status}


def test_build_outcome_records_models_whose_tests_passed_and_forgets_the_rest():
    manifest = _manifest()
    outcome = unchanged.build_outcome(
        manifest,
        [
            _result("seed.p.targets", "success"),
            _result("model.p.stg_visits", "success"),
            _result("model.p.stg_rooms", "error"),
            _result("model.p.dim_rooms", "skipped"),
            _result("model.p.fct_visits", "success"),
            _result("test.p.not_null_fct", "fail"),
            _result("test.p.rel_fct_dim", "skipped"),
            _result("model.p.kpi_visits", "skipped"),
        ],
    )
    assert outcome.passed == {"targets", "stg_visits"}
    # fct_visits was built but failed its test: built and tested again next time
    assert outcome.failed == {"stg_rooms", "fct_visits"}

    warned = unchanged.build_outcome(
        manifest,
        [
            _result("model.p.fct_visits", "success"),
            _result("model.p.dim_rooms", "success"),
            _result("test.p.rel_fct_dim", "warn"),
        ],
    )
    assert warned.passed == {"fct_visits", "dim_rooms"} and not warned.failed


def test_records_round_trip_through_the_warehouse(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    assert unchanged.read_state(warehouse) == unchanged.ModelState()  # no file yet
    duckdb.connect(str(warehouse)).close()
    fingerprints = {"stg_visits": "a", "fct_visits": "b", "dim_rooms": "c"}
    unchanged.record_outcome(
        warehouse,
        unchanged.BuildOutcome(frozenset({"stg_visits", "fct_visits"}), frozenset()),
        fingerprints,
        "run-1",
    )
    unchanged.record_outcome(
        warehouse,
        unchanged.BuildOutcome(frozenset({"dim_rooms"}), frozenset({"fct_visits"})),
        fingerprints,
        "run-2",
    )
    state = unchanged.read_state(warehouse)
    assert state.recorded == {"stg_visits": "a", "dim_rooms": "c"}
    assert state.runs == {"stg_visits": "run-1", "dim_rooms": "run-2"}
    assert ("dbt_state", "model_inputs") in state.tables


def test_leaving_out_applies_only_to_a_build_of_every_model(tmp_path: Path):
    with pytest.raises(ValueError, match="every model"):
        unchanged.plan_build(
            _manifest(),
            tmp_path / "warehouse.duckdb",
            shared_code="x",
            environment="y",
            raw_versions=RAW,
            built=["model.p.fct_visits"],
            leave_out=True,
        )


def test_selection_excludes_the_left_out_models_with_cautious_test_selection():
    plan = unchanged.BuildPlan({}, ["stg_rooms", "dim_rooms"], {}, 6)
    args, env = unchanged.selection(plan)
    assert args == ["--exclude", "stg_rooms dim_rooms"]
    assert env == {"DBT_INDIRECT_SELECTION": "cautious"}
    assert unchanged.selection(unchanged.BuildPlan({}, [], {}, 6)) == ([], {})


def test_a_parent_whose_state_cannot_be_told_is_never_left_out_below():
    """A raw table without load ids (made by hand) may have changed in any way."""
    manifest = _manifest()
    unknown = {**RAW, "raw_pms.rooms": unchanged.UNKNOWN}
    first = _fingerprints(manifest, unknown)
    state = _state(first, manifest)
    assert sorted(_left_out(manifest, state, unknown)) == ["stg_visits", "targets"]
    assert _fingerprints(manifest, unknown)["stg_rooms"] != first["stg_rooms"]


def test_a_model_picked_by_hand_over_a_parent_behind_its_raw_rows_is_built_on_a_stale_parent():
    """stg_visits was recorded before raw visits grew; fct_visits is materialized alone (with
    kpi_visits below it): both are built on a stale parent. Over current parents, or a parent
    built in the same selection from current inputs, nothing is stale."""
    manifest = _manifest()
    recorded = _fingerprints(manifest)  # every model recorded, raw as in RAW
    grown = {**RAW, "raw_pms.visits": "rows=12 newest_load=2"}
    current = _fingerprints(manifest, raw=grown)  # a build of the whole graph now
    stale = unchanged.built_on_stale_parents(
        manifest, current, recorded, ["fct_visits", "kpi_visits"]
    )
    assert stale == {"fct_visits", "kpi_visits"}
    # stg_visits selected too: fct_visits reads it fresh; stg_rooms and the seed are current
    assert not unchanged.built_on_stale_parents(
        manifest, current, recorded, ["stg_visits", "fct_visits", "kpi_visits"]
    )
    # nothing grew: every record is current
    assert not unchanged.built_on_stale_parents(manifest, recorded, recorded, ["fct_visits"])
    # a parent without a record is not known to be current
    partial = {k: v for k, v in recorded.items() if k != "stg_rooms"}
    assert unchanged.built_on_stale_parents(manifest, recorded, partial, ["dim_rooms"]) == {
        "dim_rooms"
    }
    outcome = unchanged.BuildOutcome(frozenset({"fct_visits", "kpi_visits"}), frozenset())
    moved = unchanged.with_stale_builds(outcome, stale)
    assert (moved.passed, moved.failed) == (frozenset(), frozenset({"fct_visits", "kpi_visits"}))


def test_a_failed_model_loses_its_watermark_and_definition_so_it_is_rebuilt_whole(tmp_path):
    """A model that failed (a test on its rows, or built on a stale parent) must not be
    built incrementally from the watermark its bad build advanced: its watermark and recorded
    definition go with its record (macros/loads.sql, macros/definitions.sql), other models'
    stay."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema dbt_state")
    con.execute(
        "create table dbt_state.load_watermarks "
        "(model_name varchar not null, load_id varchar, definition varchar not null)"
    )
    con.execute(
        "insert into dbt_state.load_watermarks values "
        "('fct_visits', '2', 'd1'), ('fct_visits:definition', null, 'c1'), "
        "('stg_visits', '2', 'd2'), ('stg_visits:definition', null, 'c2')"
    )
    con.close()
    fingerprints = {"stg_visits": "a", "fct_visits": "b"}
    unchanged.record_outcome(
        warehouse,
        unchanged.BuildOutcome(frozenset({"stg_visits"}), frozenset({"fct_visits"})),
        fingerprints,
        "run-1",
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    kept = con.execute("select model_name from dbt_state.load_watermarks order by 1").fetchall()
    con.close()
    assert kept == [("stg_visits",), ("stg_visits:definition",)]
    assert unchanged.read_state(warehouse).recorded == {"stg_visits": "a"}
