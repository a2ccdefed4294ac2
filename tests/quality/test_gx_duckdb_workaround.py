"""GX's SQL path on DuckDB: the bug is still there, the workaround fixes it, work stays in SQL.

If `test_without_workaround_every_expectation_fails_with_index_error` starts failing, GX fixed
its defect with DuckDB's closed results: drop `enable_duckdb_persisted_connection`. If the
tests that run with the workaround fail after an upgrade, the private list it extends has
changed: re-pin.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest

from quality import gx_duckdb
from quality.runner import run_suite
from quality.spec import ExpectationSpec, SuiteSpec

pytestmark = pytest.mark.xdist_group("quality_gx")

ROWS = 20_000
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def numbers_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gx_duckdb") / "numbers.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_test")
        con.execute(
            f"create table raw_test.numbers as select range as id, "
            f"case when range % 1000 = 7 then null else range % 10 end as digit from range({ROWS})"
        )
    return path


def _suite() -> SuiteSpec:
    return SuiteSpec(
        name="raw_test__numbers",
        relation="raw_test.numbers",
        expectations=(
            ExpectationSpec(
                "ExpectColumnValuesToBeUnique", {"column": "id"}, "error", "unique", "id"
            ),
            ExpectationSpec(
                "ExpectColumnValuesToNotBeNull", {"column": "digit"}, "error", "not null", "digit"
            ),
        ),
    )


def _validate_directly(gx, db: Path, name: str):
    context = gx_duckdb.ephemeral_context(gx)
    datasource = gx_duckdb.add_warehouse_datasource(context, db, name=name)
    try:
        asset = datasource.add_query_asset(name="numbers", query="select * from raw_test.numbers")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="digit"))
        return batch, result
    finally:
        gx_duckdb.close_datasource(datasource)


def test_without_workaround_every_expectation_fails_with_index_error(numbers_db):
    gx = gx_duckdb.import_gx()
    gx_duckdb.disable_duckdb_persisted_connection()
    try:
        _, result = _validate_directly(gx, numbers_db, "without_workaround")
    finally:
        gx_duckdb.enable_duckdb_persisted_connection()
    assert not result.success, "GX now works on DuckDB unpatched: remove the workaround"
    assert "IndexError" in str(result.exception_info)


def test_gx_runs_without_analytics_or_files():
    gx = gx_duckdb.import_gx()
    context = gx_duckdb.ephemeral_context(gx)
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    assert context.variables.analytics_enabled is False
    assert context.variables.data_docs_sites == {}
    assert context.root_directory is None


def test_with_workaround_metrics_resolve_in_a_sql_batch(numbers_db):
    gx = gx_duckdb.import_gx()
    batch, result = _validate_directly(gx, numbers_db, "with_workaround")
    from great_expectations.execution_engine.sqlalchemy_batch_data import SqlAlchemyBatchData

    assert isinstance(batch.data, SqlAlchemyBatchData)
    assert result.result["element_count"] == ROWS
    assert result.result["unexpected_count"] == ROWS // 1000  # rows 7, 1007, ... 19007


def test_suite_runs_as_sql_inside_duckdb_without_a_dataframe_of_the_table(numbers_db, monkeypatch):
    import pandas as pd
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []
    frame_sizes: list[int] = []
    original_init = pd.DataFrame.__init__

    def counting_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        frame_sizes.append(len(self))

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    monkeypatch.setattr(pd.DataFrame, "__init__", counting_init)
    event.listen(Engine, "before_cursor_execute", record)
    try:
        result = run_suite(_suite(), numbers_db)
    finally:
        event.remove(Engine, "before_cursor_execute", record)

    assert (
        result.result_for("ExpectColumnValuesToNotBeNull:digit").observed["unexpected_count"] == 20
    )
    assert max(frame_sizes, default=0) < ROWS
    reads = [s for s in statements if "numbers" in s]
    assert reads, "GX issued no SQL against the table"
    row_reads = {s for s in reads if not re.search(r"count\(|sum\(|limit", s, re.IGNORECASE)}
    # The one unaggregated statement is GX reading a query asset's column *names* from the
    # cursor; DuckDB streams results, so that computes one chunk, not the table.
    assert row_reads <= {_suite().base_query}


def test_warehouse_is_opened_read_only_and_released(numbers_db):
    # Another process reading the file: a read-write open from here would fail to get the lock.
    reader = _hold(numbers_db, read_only=True)
    try:
        result = run_suite(_suite(), numbers_db)
    finally:
        reader.communicate(input="", timeout=30)
    assert result.result_for("ExpectColumnValuesToBeUnique:id").success
    # Released: a writer in this process would clash with any connection GX left open.
    with duckdb.connect(str(numbers_db)) as writer:
        assert writer.execute("select count(*) from raw_test.numbers").fetchone() == (ROWS,)


def _hold(db: Path, read_only: bool) -> subprocess.Popen:
    """Another process holding the warehouse open until its stdin closes."""
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    mode = "ro" if read_only else "rw"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_warehouse_locked_by_a_writer_is_a_clear_error(numbers_db):
    writer = _hold(numbers_db, read_only=False)
    try:
        with pytest.raises(RuntimeError, match=r"cannot open the warehouse read-only.*lock"):
            run_suite(_suite(), numbers_db)
    finally:
        writer.communicate(input="", timeout=30)


def test_missing_warehouse_is_a_clear_error_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="warehouse not found"):
        run_suite(_suite(), tmp_path / "missing.duckdb")
    assert list(tmp_path.iterdir()) == []


def test_table_asset_with_schema_still_loses_the_schema(numbers_db):
    """Why query assets: `add_table_asset(schema_name=...)` reads the bare table name.

    GX does not raise here: it catches the metric's error and reports it in the result, so
    the test asserts that exact error (DuckDB's catalog error for the unqualified name), not
    merely "something failed". Any other failure means GX's behaviour changed: look again.
    """
    gx = gx_duckdb.import_gx()
    context = gx_duckdb.ephemeral_context(gx)
    datasource = gx_duckdb.add_warehouse_datasource(context, numbers_db, name="table_asset")
    try:
        asset = datasource.add_table_asset("numbers", table_name="numbers", schema_name="raw_test")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="digit"))
    finally:
        gx_duckdb.close_datasource(datasource)
    assert not result.success, "table assets work on DuckDB now: consider them"
    messages = [str(info.get("exception_message", "")) for info in result.exception_info.values()]
    assert messages, "validation failed without an exception: GX's behaviour changed"
    assert all("CatalogException" in m for m in messages), messages
    assert any("Table with name numbers does not exist" in m for m in messages), messages


def test_installed_versions_match_the_pins_the_workaround_was_proven_on():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = dict(dep.split("==", 1) for dep in pyproject["project"]["dependencies"] if "==" in dep)
    for package in ("great-expectations", "sqlalchemy", "duckdb-engine", "duckdb"):
        assert importlib.metadata.version(package) == pins[package], package
