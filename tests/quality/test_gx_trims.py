"""GX does less work on DuckDB without changing a verdict, a count or a shown sample.

`quality.gx_duckdb` skips the zero-row sample query of the counts-first pass and learns a
query asset's columns from `limit 0` instead of running its whole query (why: see those
functions; figures in docs/performance.md). These run real GX validations on
a small DuckDB file and record every statement GX sends.
"""

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from quality import gx_duckdb
from quality.runner import COUNTS_FORMAT, DETAIL_FORMAT

pytestmark = pytest.mark.xdist_group("quality_gx")

ROWS = 2_000


@pytest.fixture(scope="module")
def letters_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gx_trims") / "letters.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            # every 100th letter is 'z' (20 rows outside the set), every 250th is null (8 rows)
            "create table letters as select range as id, case when range % 250 = 3 then null "
            "when range % 100 = 0 then 'z' else 'a' end as letter from range(2000)"
        )
    return path


@pytest.fixture
def statements():
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()).lower())

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def _validate(db: Path, result_format: dict):
    gx = gx_duckdb.import_gx()
    context = gx_duckdb.ephemeral_context(gx)
    datasource = gx_duckdb.add_warehouse_datasource(context, db, name="letters")
    try:
        asset = datasource.add_query_asset(name="letters", query="select * from letters")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        expectation = gx.expectations.ExpectColumnValuesToBeInSet(
            column="letter", value_set=["a", "b"]
        )
        return batch.validate(expectation, result_format=result_format)
    finally:
        gx_duckdb.close_datasource(datasource)


def test_counts_first_pass_sends_no_sample_query_and_keeps_every_count(letters_db, statements):
    result = _validate(letters_db, COUNTS_FORMAT)
    assert not result.success
    # 2,000 rows, 8 null, 20 'z' among the 1,992 non-null: 20 / 1,992 = 1.004...%
    assert result.result["element_count"] == ROWS
    assert result.result["unexpected_count"] == 20
    assert result.result["unexpected_percent"] == pytest.approx(20 / 1992 * 100)
    assert "partial_unexpected_list" not in result.result  # was [] (zero samples asked)
    assert not [s for s in statements if "as unexpected_values" in s]


def test_detail_pass_still_reads_offending_values(letters_db, statements):
    result = _validate(letters_db, DETAIL_FORMAT)
    assert result.result["unexpected_count"] == 20
    assert set(result.result["partial_unexpected_list"]) == {"z"}
    assert [s for s in statements if "as unexpected_values" in s]


def test_columns_come_from_limit_0_not_from_running_the_query(letters_db, statements):
    _validate(letters_db, COUNTS_FORMAT)
    assert "select * from letters" not in statements  # the bare query never runs on its own
    assert "select * from ( select * from letters ) as gx_columns limit 0" in statements


@pytest.mark.parametrize(
    "kwargs",
    [
        {"column": "letter", "batch_id": "abc", "row_condition": None},
        {"value_set": ["a", "b"], "parse_strings_as_datetimes": False, "mostly": 1.0},
        {"column_A": "x", "column_B": "y", "pairs": [("x", "int"), ("y", "varchar")]},
        {"nested": {"min_value": -1.5, "max_value": float("inf"), "strict": True}, "k": 3},
        # not plain: GX's own conversion decides (NaN -> null, dates -> ISO text, sets -> lists)
        {"min_value": float("nan"), "column": "x"},
        {"min_value": dt.datetime(2026, 1, 2, 3, 4), "column": "x"},
        {"value_set": {"b"}, "column": "x"},
        {1: "int key", "column": "x"},
    ],
)
def test_plain_ids_equal_gxs_own(kwargs) -> None:
    gx_duckdb.import_gx()
    from great_expectations.core.id_dict import IDDict

    ids = IDDict(kwargs)
    assert ids.to_id() == IDDict.to_id._medspa_original(ids)
    assert ids.to_id(id_ignore_keys={"column"}) == IDDict.to_id._medspa_original(
        ids, None, {"column"}
    )
