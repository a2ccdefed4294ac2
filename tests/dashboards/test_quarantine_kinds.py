"""The data-quality page counts quarantined rows by system, table and kind of reason (the
loader's reason without the row numbers a repeated key names, and without the row's further
defects), and shows every group: the full reason text made one line per duplicate pair, and
the table stopped at 50 of them.
"""

from __future__ import annotations

import duckdb
from dash_serving_fixture import build_shipped_pages, make_serving_db, table_rows

# system, table, file, reason (as ingestion/validate.py writes it), rows
SUMMARY = [
    ("pos", "invoices", "x1.csv", "duplicate primary key within the extract (rows 3, 4)", 2),
    ("pos", "invoices", "x1.csv", "duplicate primary key within the extract (rows 10, 11)", 2),
    (
        "pos",
        "invoices",
        "x2.csv",
        "duplicate primary key within the extract (rows 7, 8); also status: unknown enum value",
        1,
    ),
    (
        "pos",
        "invoices",
        "x3.csv",
        "duplicate primary key within the extract "
        "(rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more, 12 in all)",
        12,
    ),
    ("pos", "invoices", "x1.csv", "unknown enum value", 3),
    ("pos", "invoices", "x1.csv", "unknown enum value; also total: not a decimal amount", 1),
    ("pms", "appointments", "a1.csv", "missing primary key", 1),
]
#: 60 more tables with one bad row each: 63 groups, more than a table's default 50 rows
EXTRA = [("crm", f"table_{i:02d}", "c.csv", "not an integer", 1) for i in range(60)]


def test_quarantine_is_grouped_by_kind_and_every_group_is_shown(tmp_path):
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from ops.quarantine_summary")
        # x3.csv was delivered again, corrected: its 12 rows are replaced
        replaced = [(*r, r[4] if r[2] == "x3.csv" else 0) for r in SUMMARY + EXTRA]
        con.executemany("insert into ops.quarantine_summary values (?, ?, ?, ?, ?, ?)", replaced)
    finally:
        con.close()
    build_shipped_pages(serving, tmp_path, "data_quality.md")
    html = (tmp_path / "site" / "data_quality.html").read_text(encoding="utf-8")
    section = html[html.index("Quarantined rows") : html.index("<h2>Freshness")]
    rows = table_rows(section)
    # system, table, reason, rows, still missing, files: duplicates 2 + 2 + 1 + 12 = 17 in
    # x1, x2 and x3 (a key repeated 12 times lists its first ten rows and the count), 5 still
    # missing (x3's 12 replaced); the enum 3 + 1 = 4 (the row with a second defect counted
    # once, under its first), none replaced
    assert rows[:3] == [
        ["pos", "invoices", "duplicate primary key within the extract", "17", "5", "3"],
        ["pos", "invoices", "unknown enum value", "4", "4", "1"],
        ["crm", "table_00", "not an integer", "1", "1", "1"],
    ]
    assert len(rows) == 2 + 1 + 60  # every group (pos 2, pms 1, crm 60), no cut-off ...
    assert ["pms", "appointments", "missing primary key", "1", "1", "1"] in rows
    assert ["crm", "table_59", "not an integer", "1", "1", "1"] in rows
    assert "Showing" not in section  # ... so no "Showing 50 of" note either
    assert "rows 3, 4" not in section and "also" not in section and "in all" not in section
    # the rows add up to the summary's: 17 + 4 + 1 + 60
    assert sum(int(r[3]) for r in rows) == sum(r[4] for r in SUMMARY + EXTRA) == 82


def test_a_serving_file_from_before_rows_replaced_still_builds_the_page(tmp_path):
    """A serving file published by the version before `rows_replaced` existed (the site is
    built again from it by `medspa site` before the next publish): the page builds and says
    the summary is not there, instead of failing on the missing column."""
    serving = make_serving_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute("alter table ops.quarantine_summary drop column rows_replaced")
    finally:
        con.close()
    build_shipped_pages(serving, tmp_path, "data_quality.md")
    html = (tmp_path / "site" / "data_quality.html").read_text(encoding="utf-8")
    assert "The quarantine summary is not published yet." in html
