"""Write-audit-publish of serving.duckdb on a tiny hand-made warehouse."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from ingestion.raw_schema import ensure_meta_tables
from orchestration import run_log
from serving import duckdb_comments, publish
from serving.pg_docs import TableDoc

RELATIONS = [
    publish.MartRelation("marts", "kpi_scorecard"),
    publish.MartRelation("marts", "kpi_targets"),
]
AT = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """raw (with PHI), staging and marts schemas, plus the loader's bookkeeping."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    ensure_meta_tables(con)
    con.execute("create schema raw_pms")
    con.execute("create table raw_pms.patients (patient_id varchar, email varchar)")
    con.execute("insert into raw_pms.patients values ('P1', 'a@example.com')")
    con.execute("create schema staging")
    con.execute("create table staging.stg_pms__patients as select 'k1' as patient_key")
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_scorecard as "
        "select * from (values ('L1', 'no_show_rate', 0.1), ('L1', 'nps', 40.0)) "
        "t(location_id, kpi, value)"
    )
    con.execute("create table marts.kpi_targets as select 'nps' as kpi, 30.0 as target_low")
    con.execute(
        "insert into raw_meta.loaded_files values ('L1', 'pms/patients/2026-11-20.csv', "
        "'deadbeef', 'pms', 'patients', '2026-11-20', 'loaded', null, 3, 2, 0, 0, 1, ?)",
        [AT],
    )
    con.execute(
        "insert into raw_quarantine.rejected_rows values ('L1', 'pms/patients/2026-11-20.csv', "
        "3, 'pms', 'patients', 'email', 'invalid value', '{\"email\": \"secret@x.org\"}', ?)",
        [AT],
    )
    con.close()
    return path


def _ops(run_id: str) -> publish.OpsData:
    return publish.OpsData(
        check_results=[
            ("quarantine_share", "raw_pms/patients", "WARN", False, "1 row", AT, run_id)
        ],
        run_log_row=(run_id, AT, AT, 2, 10, 1, 0, "published", None, False),
    )


def _cells(path: Path) -> str:
    """Every value of every table in the file, as one text (to search for leaked PHI)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        return "\n".join(
            str(con.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables
        )
    finally:
        con.close()


def test_serving_holds_only_marts_and_ops_and_no_phi(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    counts = publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"))
    assert counts == {"kpi_scorecard": 2, "kpi_targets": 1}
    schemas = {s for s, _ in publish.table_names(serving)}
    assert schemas == {"marts", "ops"}
    con = duckdb.connect(str(serving), read_only=True)
    columns = {
        c for (c,) in con.execute("select column_name from information_schema.columns").fetchall()
    }
    quarantine = con.execute("select * from ops.quarantine_summary").fetchall()
    con.close()
    assert not columns & publish.forbidden_columns()
    assert quarantine == [("pms", "patients", "pms/patients/2026-11-20.csv", "invalid value", 1, 0)]
    text = _cells(serving)
    assert "secret@x.org" not in text and "a@example.com" not in text and "deadbeef" not in text
    assert not list(tmp_path.glob("serving.duckdb.tmp-*"))


def test_rows_a_later_load_replaced_are_published_beside_the_quarantined_ones(
    warehouse: Path, tmp_path: Path
):
    """The orchestrator hands over the gate's count of replaced rows; a group it does not
    name counts 0, and a count never exceeds the group's rows."""
    serving = tmp_path / "serving.duckdb"
    group = ("pms", "patients", "pms/patients/2026-11-20.csv", "invalid value")
    stale = ("pms", "patients", "pms/patients/2026-11-19.csv", "invalid value")
    ops = replace(_ops("run1"), quarantine_replaced={group: 5, stale: 2})
    publish.publish(warehouse, serving, "run1", RELATIONS, ops)
    con = duckdb.connect(str(serving), read_only=True)
    rows = con.execute("select * from ops.quarantine_summary").fetchall()
    con.close()
    assert rows == [(*group, 1, 1)]


def test_run_log_accumulates_across_publishes(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"))
    publish.publish(warehouse, serving, "run2", RELATIONS, _ops("run2"))
    con = duckdb.connect(str(serving), read_only=True)
    runs = con.execute("select run_id from ops.run_log order by run_id").fetchall()
    checks = con.execute("select distinct run_id from ops.check_results").fetchall()
    con.close()
    assert runs == [("run1",), ("run2",)]
    assert checks == [("run2",)]  # check results are this run's only


def test_audit_refuses_a_phi_column_and_keeps_previous_file_byte_identical(
    warehouse: Path, tmp_path: Path
):
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"))
    before = serving.read_bytes()
    con = duckdb.connect(str(warehouse))
    con.execute("alter table marts.kpi_scorecard add column email varchar")
    con.close()
    with pytest.raises(publish.PublishAuditError, match=r"kpi_scorecard\.email"):
        publish.publish(warehouse, serving, "run2", RELATIONS, _ops("run2"))
    assert serving.read_bytes() == before
    assert not list(tmp_path.glob("serving.duckdb.tmp-*"))


def test_missing_mart_fails_before_anything_is_published(warehouse: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    relations = [*RELATIONS, publish.MartRelation("marts", "kpi_alerts")]
    with pytest.raises(publish.PublishAuditError, match="kpi_alerts"):
        publish.publish(warehouse, serving, "run1", relations, _ops("run1"))
    assert not serving.exists()


def test_mart_relations_are_marts_models_and_seeds_only():
    manifest = {
        "nodes": {
            "model.m.stg_pms__patients": {
                "resource_type": "model",
                "original_file_path": "models/staging/pms/x.sql",
                "schema": "staging",
                "name": "stg_pms__patients",
                "alias": "stg_pms__patients",
            },
            "model.m.kpi_scorecard": {
                "resource_type": "model",
                "original_file_path": "models/marts/kpi/k.sql",
                "schema": "marts",
                "name": "kpi_scorecard",
                "alias": "kpi_scorecard",
            },
            "seed.m.kpi_targets": {
                "resource_type": "seed",
                "original_file_path": "seeds/kpi_targets.csv",
                "schema": "marts",
                "name": "kpi_targets",
                "alias": "kpi_targets",
            },
            "test.m.not_null_x": {
                "resource_type": "test",
                "original_file_path": "models/marts/kpi/k.yml",
                "schema": "marts",
                "name": "not_null_x",
                "alias": "not_null_x",
            },
        }
    }
    assert [r.name for r in publish.mart_relations(manifest)] == ["kpi_scorecard", "kpi_targets"]


def test_failed_and_blocked_runs_in_the_warehouse_are_published(warehouse: Path, tmp_path: Path):
    """Runs that did not publish were recorded in the warehouse; the next publish shows them."""
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"))
    blocked = run_log.RunRecord(
        "run2", AT, AT, 5, 9, 0, 1, run_log.BLOCKED, "raw_pms/appointments:quarantine_share", True
    )
    failed = run_log.RunRecord("run3", AT, AT, 0, 0, 0, 0, run_log.FAILED, None, False)
    run_log.write_record(warehouse, blocked)
    run_log.write_record(warehouse, failed)
    run_log.write_record(warehouse, failed)  # recorded twice (CLI and sensor): one row
    publish.publish(warehouse, serving, "run4", RELATIONS, _ops("run4"))
    con = duckdb.connect(str(serving), read_only=True)
    rows = con.execute(
        "select run_id, status, blocked_by, demo_key_on_real_data from ops.run_log order by 1"
    ).fetchall()
    con.close()
    assert rows == [
        ("run1", "published", None, False),
        ("run2", "blocked", "raw_pms/appointments:quarantine_share", True),
        ("run3", "failed", None, False),
        ("run4", "published", None, False),
    ]


def test_publish_works_in_a_data_dir_with_an_apostrophe(warehouse: Path, tmp_path: Path):
    """Paths are quoted literals in `attach`: a data dir called `it's data` just works."""
    data = tmp_path / "it's data"
    data.mkdir()
    moved = data / "warehouse.duckdb"
    warehouse.rename(moved)
    serving = data / "serving.duckdb"
    publish.publish(moved, serving, "run1", RELATIONS, _ops("run1"))
    publish.publish(moved, serving, "run2", RELATIONS, _ops("run2"))  # attaches the previous
    con = duckdb.connect(str(serving), read_only=True)
    assert con.execute("select run_id from ops.run_log order by 1").fetchall() == [
        ("run1",),
        ("run2",),
    ]
    con.close()


def _comments(path: Path) -> dict[tuple[str, str, str | None], str]:
    """Every table comment (column None) and column comment of a file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name, null, comment from duckdb_tables() "
            "where comment is not null"
        ).fetchall()
        columns = con.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() "
            "where comment is not null"
        ).fetchall()
        return {(s, t, c): text for s, t, c, text in [*tables, *columns]}
    finally:
        con.close()


def test_serving_and_scorecard_files_carry_the_dbt_docs_as_comments(
    warehouse: Path, tmp_path: Path
):
    """DuckDB clients show the same definitions a PostgreSQL user sees as COMMENTs."""
    docs = {
        "kpi_scorecard": TableDoc(
            "Every KPI at location x period.",
            {"kpi": "The KPI's name.", "value": "The KPI's value; it's null when 0 / 0."},
        ),
        "kpi_targets": TableDoc("Targets per KPI.", {"target_low": "Lower bound."}),
    }
    serving = tmp_path / "serving.duckdb"
    publish.publish(warehouse, serving, "run1", RELATIONS, _ops("run1"), docs=docs)
    held = _comments(serving)
    assert held[("marts", "kpi_scorecard", None)] == "Every KPI at location x period."
    assert held[("marts", "kpi_scorecard", "value")] == "The KPI's value; it's null when 0 / 0."
    assert held[("marts", "kpi_targets", "target_low")] == "Lower bound."
    assert ("marts", "kpi_scorecard", "location_id") not in held  # undocumented: no comment
    assert held[("ops", "run_log", "status")].startswith("published; blocked")
    scorecard = _comments(tmp_path / "scorecard.duckdb")
    assert scorecard == {k: v for k, v in held.items() if k[0] == "marts"}

    # a changed description reaches the next publish, which starts from a copy of this file
    docs["kpi_scorecard"] = TableDoc("Every KPI, revised.", docs["kpi_scorecard"].columns)
    publish.publish(warehouse, serving, "run2", RELATIONS, _ops("run2"), docs=docs)
    assert _comments(serving)[("marts", "kpi_scorecard", None)] == "Every KPI, revised."


def test_comments_already_held_are_not_written_again(tmp_path: Path):
    """A nightly publish of unchanged docs writes no comment (each would cost a commit)."""
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.t (a integer, b integer)")
    docs = {("marts", "t"): TableDoc("T.", {"a": "A.", "b": "B.", "gone": "Not a column."})}
    db = con.execute("select current_database()").fetchone()[0]
    assert duckdb_comments.apply_comments(con, db, docs) == 3
    assert duckdb_comments.apply_comments(con, db, docs) == 0
    docs[("marts", "t")] = TableDoc("T.", {"a": "A, revised.", "b": "B."})
    assert duckdb_comments.apply_comments(con, db, docs) == 1
    con.close()
