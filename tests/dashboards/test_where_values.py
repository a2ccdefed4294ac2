"""`where="col={{ value }}"` selects rows by a value from the data, whatever it holds.

Ids and names come from clinic systems: a comma, an `=`, quotes or spaces at either end are
all possible, and the weekly flash selects each location's rows by its id this way.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import duckdb
import pytest

from dashboards import build_site
from dashboards.attrs import Attrs, ComponentError, selected_rows
from dashboards.queries import QueryResult

ODD_IDS = ["LOC,02", "a=b", " padded ", 'q"uote', "amp&amp;", "x, y=z", "plain"]


def _site(tmp_path: Path, page: str, ids: list[str]) -> tuple[object, Path]:
    serving = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(serving))
    con.execute("create schema marts")
    con.execute("create table marts.t (location_id varchar, kpi varchar, value integer)")
    for n, location_id in enumerate(ids):
        con.execute("insert into marts.t values (?, 'rev', ?)", [location_id, 100 + n])
        con.execute("insert into marts.t values (?, 'cost', ?)", [location_id, 500 + n])
    con.close()
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "w.md").write_text(textwrap.dedent(page).lstrip("\n"), encoding="utf-8")
    report = build_site(serving, tmp_path / "site", pages_dir=pages)
    return report, tmp_path / "site" / "w.html"


def _tables(html: str) -> list[list[str]]:
    """The cells of each table, in order."""
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", table)
        for table in re.findall(r"<table.*?</table>", html, re.DOTALL)
    ]


def test_a_data_value_with_commas_and_equals_selects_its_own_rows(tmp_path: Path):
    report, page = _site(
        tmp_path,
        """
        ```sql rows
        select location_id, kpi, value from marts.t order by value
        ```
        ```sql locs
        select distinct location_id from marts.t order by location_id
        ```
        {% for loc in locs %}
        <DataTable data={rows} where="location_id={{ loc.location_id }}, kpi=rev" columns="value" />
        {% endfor %}
        """,
        ODD_IDS,
    )
    assert report.ok, report.pages_failed
    values = {location_id: str(100 + n) for n, location_id in enumerate(ODD_IDS)}
    expected = [[values[i]] for i in sorted(ODD_IDS)]
    assert _tables(page.read_text(encoding="utf-8")) == expected


def test_a_literal_value_with_a_comma_is_written_as_a_jinja_string(tmp_path: Path):
    report, page = _site(
        tmp_path,
        """
        ```sql rows
        select location_id, value from marts.t where kpi = 'cost'
        ```
        <DataTable data={rows} where="location_id={{ 'x, y=z' }}" columns="value" />
        <DataTable data={rows} where="location_id=plain" columns="value" />
        """,
        ["x, y=z", "plain"],
    )
    assert report.ok, report.pages_failed
    assert _tables(page.read_text(encoding="utf-8")) == [["500"], ["501"]]


def test_a_where_without_equals_is_still_the_authors_error(tmp_path: Path):
    report, _ = _site(
        tmp_path,
        """
        ```sql rows
        select location_id, value from marts.t
        ```
        <DataTable data={rows} where="location_id={{ 'a' }}, nonsense" />
        """,
        ["a"],
    )
    assert [str(f) for f in report.pages_failed] == [
        "w.md:4: <DataTable>: where: 'nonsense' is not column=value"
    ]


def test_where_on_hand_built_attrs_splits_the_text():
    data = QueryResult("q", ["k", "v"], [{"k": "a", "v": 1}, {"k": "b", "v": 2}])
    assert selected_rows(Attrs({"where": " k = b "}, data)) == [{"k": "b", "v": 2}]
    with pytest.raises(ComponentError, match="has no column 'x'"):
        selected_rows(Attrs({"where": "x=1"}, data))


def test_constant_values_are_right_on_every_instance_of_a_template_page(tmp_path: Path):
    """A compiled page is shared by its instances: `{{ 'x, y=z' }}` must not be fixed to the
    first instance's rendering."""
    report, _ = _site(
        tmp_path,
        """
        ---
        each: locs
        ---
        ```sql locs
        select distinct location_id from marts.t order by location_id
        ```
        ```sql rows
        select location_id, value from marts.t where kpi = 'cost'
        ```
        Id [{{ params.location_id }}], constant [{{ 'x, y=z' }}], [{{ 1200 | fmt('usd0') }}].
        <DataTable data={rows} where="location_id={{ 'x, y=z' }}" columns="value" />
        """,
        ["x, y=z", "plain"],
    )
    assert report.ok, report.pages_failed
    for slug, location_id in (("x-y-z", "x, y=z"), ("plain", "plain")):
        html = (tmp_path / "site" / "w" / f"{slug}.html").read_text(encoding="utf-8")
        assert f"Id [{location_id}], constant [x, y=z], [$1,200]." in html
        assert _tables(html) == [["500"]]
