"""Every table the shipped pages read is one the pipeline publishes into serving.duckdb.

A page that reads `marts.kpi_by_romo` would fail only at build time, against real data; this
catches the drift in review: marts must be dbt models under models/marts/ or seeds, ops tables
must be ones serving/publish.py creates.
"""

from __future__ import annotations

from pathlib import Path

from dashboards.pages import tables_read
from dashboards.site import DEFAULT_PAGES_DIR
from serving.publish import OPS_DDL

REPO = Path(__file__).resolve().parents[2]


def _published_marts() -> set[str]:
    models = {p.stem for p in (REPO / "dbt_project" / "models" / "marts").rglob("*.sql")}
    seeds = {p.stem for p in (REPO / "dbt_project" / "seeds").glob("*.csv")}
    return {f"marts.{name}" for name in models | seeds}


def test_pages_read_only_published_tables():
    read = tables_read(DEFAULT_PAGES_DIR)
    published = _published_marts() | {f"ops.{name}" for name in OPS_DDL}
    assert read, "no table references found: the parser is broken"
    assert read - published == set()


def test_tables_read_ignores_sql_comments(tmp_path):
    (tmp_path / "p.md").write_text(
        "```sql q\n-- from marts.only_in_a_comment\nselect * from marts.kpi_scorecard\n```\n"
    )
    assert tables_read(tmp_path) == {"marts.kpi_scorecard"}
