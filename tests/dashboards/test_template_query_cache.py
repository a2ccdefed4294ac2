"""A template page's instances share the queries that read no parameter; charts draw late.

At large scale the provider page has ~240 instances: its `each` query (and any block that
reads no `${params.x}`) ran once per instance. Now it runs once per build. Bodies stay
pending while the next pages' SQL runs; a chart that fails to draw still fails only its page.
"""

from pathlib import Path

import pytest

from dashboards import build_site, charts, queries

TEMPLATE = """---
title: "Location {{ params.location_name }}"
each: locations
slug: location_id
---

```sql locations
select location_id, location_name from marts.dim_locations order by location_id
```

```sql labels
select kpi, label from marts.kpi_targets order by kpi
```

```sql mine
select value from marts.kpi_scorecard
where location_id = '${params.location_id}' and kpi = 'net_revenue'
```

{% for r in labels %}{{ r.label }}; {% endfor %}
{% for r in mine %}Revenue {{ r.value | fmt('usd0') }}{% endfor %}

<BarChart data={labels} x=kpi y=kpi />
"""


def _pages(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir(exist_ok=True)
    (folder / "loc.md").write_text(text, encoding="utf-8")
    return folder


def _count_sql(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []
    real = queries._run_one

    def counting(con, page, block, sql):
        ran.append(block.name)
        return real(con, page, block, sql)

    monkeypatch.setattr(queries, "_run_one", counting)
    return ran


def test_queries_without_parameters_run_once_per_template_page(
    tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ran = _count_sql(monkeypatch)
    report = build_site(tiny_db, tmp_path / "site", pages_dir=_pages(tmp_path, TEMPLATE))
    assert report.ok and sorted(report.pages_built) == ["loc/loc_a.html", "loc/loc_b.html"]
    # Two locations: `locations` and `labels` once each, `mine` once per location, and the
    # footer's as-of time once per build.
    assert sorted(ran) == ["as_of", "labels", "locations", "mine", "mine"]
    a = (tmp_path / "site" / "loc" / "loc_a.html").read_text(encoding="utf-8")
    b = (tmp_path / "site" / "loc" / "loc_b.html").read_text(encoding="utf-8")
    assert "Gross margin; Net revenue;" in a and "Gross margin; Net revenue;" in b
    assert "Revenue $1,200" in a and "Revenue $800" in b  # the scorecard's rows per location


def test_a_chart_that_fails_to_draw_fails_its_page_only(
    tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(chart: object, chart_id: str, label: str) -> str:
        raise ValueError("renderer broke")

    monkeypatch.setattr(charts, "_draw", broken)
    report = build_site(tiny_db, tmp_path / "site", pages_dir=_pages(tmp_path, TEMPLATE))
    failed = sorted(f.page for f in report.pages_failed)
    assert failed == ["loc.md[loc/loc_a.html]", "loc.md[loc/loc_b.html]"]
    assert all("renderer broke" in f.message for f in report.pages_failed)
    assert report.pages_built == []  # the site is still built (home page) and swapped in
    assert "renderer broke" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
