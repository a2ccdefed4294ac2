"""A name's direction controls stay inside the name: the title, heading, navigation and text
around a location called `Austin <RIGHT-TO-LEFT OVERRIDE>` read left to right as before."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import duckdb
import pytest

from dashboards import build_site
from dashboards.bidi import balance, isolate_html, strip_controls

RLO, PDF, RLI, PDI, LRE, RLM = "\u202e", "\u202c", "\u2067", "\u2069", "\u202a", "\u200f"


@pytest.mark.parametrize(
    ("text", "balanced"),
    [
        ("Austin", "Austin"),
        (f"Austin {RLO}", f"Austin {RLO}{PDF}"),  # an override left open is closed
        (f"a{PDF}b{PDI}c", "abc"),  # closers that close nothing go
        (f"{RLO}x{PDF}y", f"{RLO}x{PDF}y"),  # a matched pair stays
        (f"{RLI}{RLO}x{PDI}", f"{RLI}{RLO}x{PDI}"),  # PDI closes the override opened inside
        (f"{RLO}{RLI}x{PDF}", f"{RLO}{RLI}x{PDI}{PDF}"),  # a PDF never closes across an isolate
        (f"{LRE}{LRE}{RLM}", f"{LRE}{LRE}{RLM}{PDF}{PDF}"),
    ],
)
def test_balance_keeps_a_values_controls_inside_it(text: str, balanced: str):
    assert balance(text) == balanced


def test_isolate_html_wraps_only_values_that_can_turn_text():
    assert isolate_html("Austin &amp; Co, $1,200") == "Austin &amp; Co, $1,200"
    assert isolate_html(f"Austin {RLO}") == f"<bdi>Austin {RLO}{PDF}</bdi>"
    assert isolate_html("שלום") == "<bdi>שלום</bdi>"
    assert isolate_html(f"x{RLM}") == f"<bdi>x{RLM}</bdi>"
    assert strip_controls(f"{RLI}Austin {RLO}{RLM}") == "Austin "


PAGE = """
---
title: "Location: {{ params.location_name }}"
nav_label: "{{ params.location_name }}"
each: locations
slug: location_id
---

```sql locations
select location_id, location_name from marts.dim_locations order by location_id
```

At {{ params.location_name }} this week: **{{ 1200 | fmt('usd0') }}**.

<DataTable data={locations} title="{{ params.location_name }} rows" where="location_id=none" />

<DataTable data={locations} title="Every location" />
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    serving = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(serving))
    con.execute("create schema marts")
    con.execute("create table marts.dim_locations (location_id varchar, location_name varchar)")
    con.executemany(
        "insert into marts.dim_locations values (?, ?)",
        [("a", f"Austin {RLO}"), ("h", "שלום"), ("p", "Plain")],
    )
    con.close()
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "loc.md").write_text(textwrap.dedent(PAGE).lstrip("\n"), encoding="utf-8")
    report = build_site(serving, tmp_path / "site", pages_dir=pages)
    assert report.ok, report.pages_failed
    return tmp_path / "site"


def test_an_open_override_in_a_name_stays_inside_it(site: Path):
    html = (site / "loc" / "a.html").read_text(encoding="utf-8")
    assert "<title>Location: Austin  · medspa dashboards</title>" in html
    assert f"<h1>Location: Austin {RLO}{PDF}</h1>" in html
    assert f'class="child current">Austin {RLO}{PDF}</a>' in html
    assert f"<p>At <bdi>Austin {RLO}{PDF}</bdi> this week: <strong>$1,200</strong>.</p>" in html
    assert f"No data for Austin {RLO} rows{PDF}: no rows" in html  # closed inside the title
    # a table cell holds its value's override too: the next cell, and the text after the
    # name in the same cell, read left to right
    assert f"<td><bdi>Austin {RLO}{PDF}</bdi></td>" in html
    assert "<td><bdi>שלום</bdi></td><td>" not in html  # the cell order: id, then name
    assert "<td>h</td><td><bdi>שלום</bdi></td>" in html and "<td>p</td><td>Plain</td>" in html
    # no override is left open anywhere on the page
    assert all(balance(line) == line for line in html.splitlines())


def test_right_to_left_names_are_isolated_and_plain_names_untouched(site: Path):
    hebrew = (site / "loc" / "h.html").read_text(encoding="utf-8")
    assert "<p>At <bdi>שלום</bdi> this week: <strong>$1,200</strong>.</p>" in hebrew
    plain = (site / "loc" / "p.html").read_text(encoding="utf-8")
    assert "<p>At Plain this week: <strong>$1,200</strong>.</p>" in plain
    assert "<title>Location: Plain · medspa dashboards</title>" in plain
    # its only isolates are the table's other two names
    assert re.findall("<bdi>[^<]*</bdi>", plain) == [
        f"<bdi>Austin {RLO}{PDF}</bdi>",
        "<bdi>שלום</bdi>",
    ]
