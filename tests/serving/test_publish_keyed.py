"""A mart of an incremental dbt model is patched by the keys its build wrote, and still equals
the warehouse's table; whenever dbt's build record does not prove that, the row-hash path runs.

The warehouse here holds `dbt_state.model_builds` and `dbt_state.written_keys` as dbt's
delete+insert strategy and post-hook write them (dbt_project/macros/test_scope.sql).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from serving import keyed_sync, mart_sync, publish

RELATIONS = [publish.MartRelation("marts", "fct_messages", ("message_id",))]


@pytest.fixture(autouse=True)
def small_patch_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mart_sync, "PATCH_MIN_ROWS", 10)


def _sql(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _build(warehouse: Path, invocation: str, previous: str | None, keys: list[str] | None):
    """Record a dbt build of fct_messages: incremental with `keys` written, or full (None)."""
    prev = "null" if previous is None else f"'{previous}'"
    statements = [
        "insert into dbt_state.model_builds select 'fct_messages', "
        f"'{invocation}', {prev}, 'def', {keys is not None}, "
        "coalesce((select max(build_seq) from dbt_state.model_builds), 0) + 1"
    ]
    if keys is not None:
        statements.append("delete from dbt_state.written_keys where model_name = 'fct_messages'")
        statements += [
            f"insert into dbt_state.written_keys values ('fct_messages', '{invocation}', {k})"
            for k in [*(f"'{k}'" for k in keys), "null"]
        ]
    _sql(warehouse, *statements)


@pytest.fixture(params=["varchar", "bigint"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """100 messages built by a full build `b1`; ids are text or numbers (both key paths)."""
    path = tmp_path / "warehouse.duckdb"
    key = "'m' || i" if request.param == "varchar" else "i"
    _sql(
        path,
        "create schema marts",
        f"create table marts.fct_messages as select {key} as message_id, "
        "'L' || (i % 3) as location_id, i * 1.5 as cost from range(100) r(i)",
        "create schema dbt_state",
        "create table dbt_state.written_keys (model_name varchar, invocation_id varchar, "
        "written_key varchar)",
        "create table dbt_state.model_builds (model_name varchar, invocation_id varchar, "
        "previous_invocation_id varchar, definition varchar, incremental boolean, "
        "build_seq bigint)",
    )
    _build(path, "b1", None, None)
    path.with_suffix(".key").write_text(request.param)
    return path


def _key(warehouse: Path, i: int) -> str:
    return f"m{i}" if warehouse.with_suffix(".key").read_text() == "varchar" else str(i)


def _literal(warehouse: Path, i: int) -> str:
    return f"'m{i}'" if warehouse.with_suffix(".key").read_text() == "varchar" else str(i)


def _rows(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select * from marts.fct_messages order by all").fetchall()
    finally:
        con.close()


def _publish(warehouse: Path, serving: Path, run: str) -> mart_sync.SyncResult:
    report: dict[str, mart_sync.SyncResult] = {}
    publish.publish(warehouse, serving, run, RELATIONS, publish.OpsData(), report=report)
    return report["fct_messages"]


def _incremental_build(warehouse: Path, invocation: str, previous: str) -> None:
    """Build `invocation` after `previous`: re-prices message 5, deletes and re-inserts
    message 7 unchanged, adds message 100 (delete+insert on the written keys)."""
    k5, k100 = _literal(warehouse, 5), _literal(warehouse, 100)
    _sql(
        warehouse,
        f"update marts.fct_messages set cost = 0 where message_id = {k5}",
        f"insert into marts.fct_messages values ({k100}, 'L1', 1.0)",
    )
    _build(warehouse, invocation, previous, [_key(warehouse, i) for i in (5, 7, 100)])


def test_the_next_incremental_build_is_patched_by_its_written_keys(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    assert _publish(warehouse, serving, "run1").how == "replaced"
    _incremental_build(warehouse, "b2", "b1")
    result = _publish(warehouse, serving, "run2")
    # keys 5, 7, 100 written: the published 5 and 7 deleted, the warehouse's 5, 7, 100 inserted
    assert (result.how, result.rows_deleted, result.rows_inserted) == ("keyed", 2, 3)
    assert _rows(serving) == _rows(warehouse)  # 101 rows, message 5 at cost 0
    _incremental_build(warehouse, "b3", "b2")  # the record chains on: keyed again
    assert _publish(warehouse, serving, "run3").how == "keyed"
    assert _rows(serving) == _rows(warehouse)


def test_a_mart_whose_build_was_published_is_kept_without_hashing(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")

    def no_hashing(*args, **kwargs):
        raise AssertionError("a mart its published build still equals was hashed")

    monkeypatch.setattr(publish, "sync_mart", no_hashing)
    assert _publish(warehouse, serving, "run2").how == "unchanged"
    assert _rows(serving) == _rows(warehouse)


def test_a_build_that_does_not_follow_the_published_one_takes_the_row_hash_path(
    warehouse: Path, tmp_path: Path
):
    """A nightly whose publish was blocked: the next build follows an unpublished one."""
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    _incremental_build(warehouse, "b2", "b1")  # built, never published
    _sql(warehouse, f"delete from marts.fct_messages where message_id = {_literal(warehouse, 9)}")
    _build(warehouse, "b3", "b2", [_key(warehouse, 9)])
    result = _publish(warehouse, serving, "run3")
    assert result.how == "patched"  # b2's changes are not in b3's keys: hashed, not keyed
    assert _rows(serving) == _rows(warehouse)


def test_a_full_refresh_takes_the_row_hash_path(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    _sql(warehouse, "update marts.fct_messages set cost = cost + 1 where cost < 3")
    _build(warehouse, "b2", "b1", None)  # not incremental: no written keys to go by
    assert _publish(warehouse, serving, "run2").how == "patched"
    assert _rows(serving) == _rows(warehouse)


def test_the_audit_catches_a_keyed_patch_that_went_wrong(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    serving = tmp_path / "serving.duckdb"
    _publish(warehouse, serving, "run1")
    before = serving.read_bytes()
    _incremental_build(warehouse, "b2", "b1")
    real = keyed_sync.keyed_sync

    def wrong_row(con, source, target, *args):
        result = real(con, source, target, *args)
        con.execute(f"update {target} set cost = -1 where cost = 0")  # message 5, a written key
        return result

    monkeypatch.setattr(keyed_sync, "keyed_sync", wrong_row)
    with pytest.raises(publish.PublishAuditError, match="keys dbt wrote"):
        _publish(warehouse, serving, "run2")
    assert serving.read_bytes() == before


def test_only_delete_insert_models_without_a_pre_hook_are_patched_by_key():
    def node(name: str, **config) -> dict:
        return {
            "resource_type": "model",
            "original_file_path": f"models/marts/core/{name}.sql",
            "schema": "marts",
            "name": name,
            "config": config,
        }

    keyed = {"materialized": "incremental", "incremental_strategy": "delete+insert"}
    manifest = {
        "nodes": {
            "a": node("fct_a", unique_key="a_id", **keyed),
            "b": node("fct_b", unique_key=["loc", "day"], **keyed),
            "c": node("fct_c", unique_key="c_id", **keyed, **{"pre-hook": [{"sql": "delete"}]}),
            "d": node("fct_d", unique_key="d_id", materialized="incremental"),  # dbt's default
            "e": node("kpi_e", materialized="table"),
        }
    }
    keys = {r.name: r.unique_key for r in publish.mart_relations(manifest)}
    assert keys == {
        "fct_a": ("a_id",),
        "fct_b": ("loc", "day"),
        "fct_c": (),  # a pre-hook may delete rows whose key the build did not write
        "fct_d": (),
        "kpi_e": (),
    }
