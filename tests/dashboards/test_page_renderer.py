"""The page renderer: SQL blocks, chaining, Jinja, components, templates and error reporting.

All numbers come from the tiny fixture in conftest.py: net revenue 1200 (loc_a) and 800
(loc_b), gross margin 0.70 at loc_a against a 0.75 floor, prior change -0.02, baseline 0.72.
"""

from __future__ import annotations

import re
import time

import pytest

from dashboards import build_site
from dashboards.formatting import fmt, fmt_delta


def _html(report, name: str) -> str:
    return (report.site_dir / name).read_text(encoding="utf-8")


def test_sql_block_rows_drive_a_jinja_loop(build_pages):
    report = build_pages(
        {
            "locs.md": """
            ```sql locations
            select location_name from marts.dim_locations order by 1
            ```
            {% for loc in locations %}
            - {{ loc.location_name }}
            {% endfor %}
            """
        }
    )
    assert report.ok, report.pages_failed
    html = _html(report, "locs.html")
    assert "<li>Austin</li>" in html and "<li>Boston</li>" in html


@pytest.mark.parametrize("ref", ["${per_location}", "{{ per_location }}"])
def test_chained_query_selects_from_another_by_name(build_pages, ref):
    report = build_pages(
        {
            "chain.md": f"""
            ```sql total
            select sum(value) as revenue from {ref}
            ```

            ```sql per_location
            select location_id, value from marts.kpi_scorecard where kpi = 'net_revenue'
            ```
            Chain revenue: {{{{ total[0].revenue | fmt('usd0') }}}}
            """
        }
    )
    assert report.ok, report.pages_failed
    assert "Chain revenue: $2,000" in _html(report, "chain.html")


def test_unknown_reference_is_rejected_before_any_sql_runs(build_pages):
    # `broken` would fail in DuckDB (no such table); the reference error must win, which
    # proves references are checked before anything is sent to the database.
    report = build_pages(
        {
            "refs.md": """
            ```sql broken
            select * from marts.no_such_table
            ```

            ```sql uses_missing
            select *
            from ${nope}
            ```
            """
        }
    )
    (failure,) = report.pages_failed
    assert failure.page == "refs.md"
    assert failure.line == 7
    assert "unknown query 'nope'" in failure.message


def test_circular_reference_is_reported_with_its_line(build_pages):
    report = build_pages(
        {
            "cycle.md": """
            ```sql a
            select * from ${b}
            ```

            ```sql b
            select * from ${a}
            ```
            """
        }
    )
    (failure,) = report.pages_failed
    assert (failure.page, failure.line) == ("cycle.md", 6)
    assert "circular query reference: a -> b -> a" in failure.message


def test_bad_sql_is_reported_at_the_line_duckdb_names(build_pages):
    report = build_pages(
        {
            "badsql.md": """
            ---
            title: Bad SQL
            ---
            ```sql q
            select location_id,
                   value
            fromm marts.kpi_scorecard
            ```
            """
        }
    )
    (failure,) = report.pages_failed
    assert (failure.page, failure.line) == ("badsql.md", 7)
    assert "syntax error" in failure.message.lower()


def test_unknown_component_is_reported_with_its_line(build_pages):
    report = build_pages(
        {
            "comp.md": """
            # Title

            <BigNumber data={q} />
            ```sql q
            select 1 as value
            ```
            """
        }
    )
    (failure,) = report.pages_failed
    assert (failure.page, failure.line) == ("comp.md", 3)
    assert "unknown component <BigNumber>" in failure.message


def test_one_broken_page_does_not_stop_the_others(build_pages):
    report = build_pages(
        {
            "good.md": "# Fine page\n",
            "bad.md": "```sql q\nselect * from marts.missing\n```\n",
        }
    )
    assert report.pages_built == ["good.html"]
    (failure,) = report.pages_failed
    assert str(failure).startswith("bad.md:2: Catalog Error")
    index = _html(report, "index.html")
    assert "bad.md:2" in index and 'href="good.html"' in index


def test_template_error_names_the_page_line(build_pages):
    report = build_pages({"jinja.md": "# T\n\nText\n{{ no_such_query[0].value }}\n"})
    (failure,) = report.pages_failed
    assert (failure.page, failure.line) == ("jinja.md", 4)
    assert "no_such_query" in failure.message


def test_component_error_inside_a_loop_points_at_the_tag(build_pages):
    report = build_pages(
        {
            "loop.md": """
            ```sql q
            select 1 as value
            ```
            {% for i in range(2) %}

            <LineChart data={q} x=value y=not_a_column />
            {% endfor %}
            """
        }
    )
    (failure,) = report.pages_failed
    assert failure.line == 6
    assert "not_a_column" in failure.message


def _gross_margin_tile(final: str = "is_final", extra: str = "") -> str:
    """A page with one BigValue of the fixture's gross margin row (70 %, target 75 %, prior
    change -0.02, baseline 0.72); `final` replaces its is_final, `extra` adds columns."""
    return f"""
        ```sql gm
        select s.* exclude (patient_key, is_final), {final} as is_final, t.label, t.unit,
            t.direction{extra}
        from marts.kpi_scorecard s join marts.kpi_targets t using (kpi)
        where kpi = 'gross_margin'
        ```
        <BigValue data={{gm}} />
        """


def test_big_value_shows_value_target_and_both_comparisons(build_pages):
    report = build_pages({"bv.md": _gross_margin_tile()})
    assert report.ok, report.pages_failed
    html = _html(report, "bv.html")
    block = re.search(r'<div class="bigvalue status-below".*?</div></div>', html).group(0)
    assert "Gross margin" in block
    assert "70.0%" in block  # value
    assert "target ≥ 75.0%" in block
    # prior change -0.02 and 0.70 - 0.72 baseline: both -2 points, both bad for a margin.
    assert block.count('<span class="delta bad">-2.0 pts</span>') == 2


def test_a_rate_shows_its_counts_a_level_does_not(build_pages):
    """70 % of 10 and 70 % of 1,000 are different news: a rate's card says which (here 7 of
    10, set on the fixture's gross margin row, in the margin's units: dollars of profit of
    dollars of revenue); net revenue, a level, has no counts line."""
    tile = _gross_margin_tile(extra=", 7.0 as numerator, 10.0 as denominator")
    report = build_pages({"bv.md": tile})
    assert report.ok, report.pages_failed
    assert '<div class="bv-n">$7 gross profit of $10 net revenue</div>' in _html(report, "bv.html")
    levels = build_pages(
        {
            "lv.md": """
            ```sql rev
            select s.* exclude (patient_key), t.label, t.unit, t.direction, 5.0 as numerator,
                2.0 as denominator
            from marts.kpi_scorecard s join marts.kpi_targets t using (kpi)
            where kpi = 'net_revenue' and location_id = '_all'
            ```
            <BigValue data={rev} />
            """
        }
    )
    assert levels.ok, levels.pages_failed
    assert 'class="bv-n"' not in _html(levels, "lv.html")


def test_a_provisional_big_value_shows_its_changes_without_judging_them(build_pages):
    """A KPI whose window is still open (is_final false) is not comparable with closed
    periods yet: the same -2 points as above are shown neutral, with the note."""
    report = build_pages({"bv.md": _gross_margin_tile(final="false")})
    assert report.ok, report.pages_failed
    html = _html(report, "bv.html")
    assert html.count('<span class="delta flat">-2.0 pts</span>') == 2
    assert "delta bad" not in html
    assert '<div class="bv-note">provisional: window still open</div>' in html


def test_a_provisional_big_value_names_the_latest_closed_period(build_pages):
    last = ", 0.7812 as last_final_value, date '2026-08-10' as last_final_period"
    report = build_pages(
        {
            "bv.md": _gross_margin_tile(final="false", extra=last),
            "final.md": _gross_margin_tile(extra=last),
        }
    )
    assert report.ok, report.pages_failed
    grain = "week"  # the fixture's scorecard row
    expected = f'<div class="bv-note">last closed: 78.1% ({grain} of 2026-08-10)</div>'
    assert expected in _html(report, "bv.html")
    assert "last closed" not in _html(report, "final.html")  # a final value needs none


def test_big_value_where_picks_one_row(build_pages):
    report = build_pages(
        {
            "where.md": """
            ```sql rev
            select s.* exclude (patient_key), t.label, t.unit
            from marts.kpi_scorecard s join marts.kpi_targets t using (kpi)
            where kpi = 'net_revenue'
            ```
            <BigValue data={rev} where="location_id=loc_b" />
            """
        }
    )
    html = _html(report, "where.html")
    assert "$800" in html and "$1,200" not in html
    assert '<span class="delta bad">-$50</span> vs prior' in html


def test_charts_are_inline_svg_with_marks_and_no_network(build_pages):
    report = build_pages(
        {
            "charts.md": """
            ```sql rev
            select location_id, kpi, value from marts.kpi_scorecard
            ```
            <LineChart data={rev} x=location_id y=value series=kpi />
            <BarChart data={rev} x=location_id y=value yRef=1000 />
            <Heatmap data={rev} x=location_id y=kpi value=value />
            """
        }
    )
    assert report.ok, report.pages_failed
    html = _html(report, "charts.html")
    figures = re.findall(r'<figure class="chart".*?</figure>', html, flags=re.DOTALL)
    assert len(figures) == 3
    for fig in figures:
        assert re.search(r'class="mark-(line|rect|symbol)[^"]*role-mark', fig)
    # Only the SVG namespace URIs; no script, stylesheet link or remote font.
    urls = set(re.findall(r"https?://[^\s\"')]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "<script" not in html and "<link" not in html


def test_two_charts_on_a_page_never_share_svg_ids(build_pages):
    report = build_pages(
        {
            "ids.md": """
            ```sql rev
            select location_id, value from marts.kpi_scorecard
            ```
            <BarChart data={rev} x=location_id y=value />
            <BarChart data={rev} x=location_id y=value />
            """
        }
    )
    ids = re.findall(r'\bid="([^"]+)"', _html(report, "ids.html"))
    assert len(ids) == len(set(ids))


def test_empty_query_says_no_data_instead_of_drawing(build_pages):
    report = build_pages(
        {
            "empty.md": """
            ```sql nothing
            select period_start, value from marts.kpi_scorecard where false
            ```
            <LineChart data={nothing} x=period_start y=value title="Revenue trend" />
            {% if not nothing %}Nothing this week.{% endif %}
            """
        }
    )
    assert report.ok, report.pages_failed
    html = _html(report, "empty.html")
    assert "No data for Revenue trend" in html
    assert "<svg" not in html and "Nothing this week." in html


def test_optional_block_on_unpublished_table_renders_a_notice(build_pages):
    report = build_pages(
        {
            "opt.md": """
            ```sql checks optional
            select * from ops.check_results
            ```
            <DataTable data={checks} title="Checks" />
            """
        }
    )
    assert report.ok, report.pages_failed
    assert "the table behind it is not published yet" in _html(report, "opt.html")


def test_template_page_builds_one_page_per_location(build_pages):
    report = build_pages(
        {
            "location.md": """
            ---
            title: "Location {{ params.location_name }}"
            each: locations
            slug: location_id
            nav_group: Locations
            ---
            ```sql locations
            select location_id, location_name from marts.dim_locations
            ```

            ```sql rev
            select value from marts.kpi_scorecard
            where kpi = 'net_revenue' and location_id = '${params.location_id}'
            ```
            Revenue: {{ rev[0].value | fmt('usd0') }}
            """
        }
    )
    assert report.ok, report.pages_failed
    assert sorted(report.pages_built) == ["location/loc_a.html", "location/loc_b.html"]
    austin = _html(report, "location/loc_a.html")
    assert "<h1>Location Austin</h1>" in austin and "Revenue: $1,200" in austin
    assert "Revenue: $800" in _html(report, "location/loc_b.html")
    assert 'href="../index.html"' in austin  # links work from the sub-folder over file://


def test_identity_columns_are_refused_without_echoing_values(build_pages):
    report = build_pages(
        {"phi.md": "```sql q\nselect patient_key, value from marts.kpi_scorecard\n```\n"}
    )
    (failure,) = report.pages_failed
    assert "patient_key" in failure.message
    assert "pk1" not in str(failure)
    assert not (report.site_dir / "phi.html").exists()


def test_helper_queries_may_hold_keys_when_aggregated_away(build_pages):
    report = build_pages(
        {
            "helper.md": """
            ```sql _rows
            select patient_key, location_id from marts.kpi_scorecard
            ```

            ```sql patients
            select count(distinct patient_key) as n from ${_rows}
            ```
            Patients: {{ patients[0].n }}
            """
        }
    )
    assert report.ok, report.pages_failed
    assert "Patients: 3" in _html(report, "helper.html")


def test_flash_email_is_one_file_with_inline_styles(build_pages):
    report = build_pages(
        {
            "flash.md": """
            ---
            title: Flash
            email: flash-email.html
            ---
            ```sql gm
            select s.* exclude (patient_key), t.label, t.unit from marts.kpi_scorecard s
            join marts.kpi_targets t using (kpi) where kpi = 'gross_margin'
            ```
            <BigValue data={gm} />
            <BarChart data={gm} x=location_id y=value />
            """
        }
    )
    assert report.flash_email_path == report.site_dir / "flash-email.html"
    mail = report.flash_email_path.read_text(encoding="utf-8")
    assert re.search(r'<div style="[^"]*border-left-color: #c0392b[^"]*" class="bigvalue', mail)
    assert "<svg" in mail and "<nav" not in mail and "<link" not in mail


def test_a_page_that_fails_today_does_not_linger_from_yesterday(tiny_db, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "p.md").write_text("# ok\n")
    site = tmp_path / "site"
    assert build_site(tiny_db, site, pages_dir=pages).pages_built == ["p.html"]
    (pages / "p.md").write_text("<Nope />\n")
    report = build_site(tiny_db, site, pages_dir=pages)
    assert not (site / "p.html").exists() and report.pages_failed


def test_missing_serving_database_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="serving database not found"):
        build_site(tmp_path / "nope.duckdb", tmp_path / "site")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("```sql\nselect 1\n```\n", 1, "needs a name"),
        ("# x\n```sql q\nselect 1\n", 2, "never closed"),
        ("---\ntitle: [unclosed\n---\n", 2, "front matter"),
        ("<BigValue data={q}>\n", 1, "self-closing"),
    ],
)
def test_malformed_pages_are_reported_with_line(build_pages, text, line, message):
    (failure,) = build_pages({"m.md": text}).pages_failed
    assert failure.line == line and message in failure.message


def test_formats_follow_evidence_names():
    assert fmt(0.1234, "pct1") == "12.3%"
    assert fmt(-1200, "usd0") == "-$1,200"
    assert fmt(None, "usd0") == "—"
    assert fmt_delta(-0.02, "pct1") == "-2.0 pts"
    assert fmt_delta(150, "usd0") == "+$150"


def test_same_data_gives_byte_identical_site(tiny_db, tmp_path, monkeypatch):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "p.md").write_text(
        "```sql rev\nselect location_id, value from marts.kpi_scorecard order by 1\n```\n"
        "<BarChart data={rev} x=location_id y=value />\n"
        "<DataTable data={rev} />\n"
    )
    first = build_site(tiny_db, tmp_path / "a", pages_dir=pages)
    monkeypatch.setenv("TZ", "Pacific/Auckland")  # the machine's zone must not matter
    time.tzset()
    try:
        second = build_site(tiny_db, tmp_path / "b", pages_dir=pages)
    finally:
        monkeypatch.undo()
        time.tzset()
    for a, b in zip(first.files_written, second.files_written, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
