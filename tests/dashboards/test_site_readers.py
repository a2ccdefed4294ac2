"""A template page's instances render on two sealed connections side by side
(`dashboards.readers`): the site must be the same, file for file, as on one connection.

The second connection is made before the seal (`dashboards.sealed.sealed_readers`): one made
after it could not set the time zone, and would show timestamps in the machine's zone.
"""

from pathlib import Path

import duckdb
import pytest

from dashboards import site as site_mod
from dashboards.sealed import sealed_readers

TEMPLATE = """---
title: "Location {{ params.location_name }}"
each: locations
slug: location_id
---

```sql locations
select location_id, location_name from marts.dim_locations order by location_id
```

```sql stamp
-- 23:30 in New York on 5 Jan is 04:30 on 6 Jan in UTC, on whichever connection runs it.
select timestamptz '2024-01-05 23:30:00-05' as ts
```

```sql mine
select value,
    case when '${params.location_id}' = 'loc_b' then error('no data for this one') end as x
from marts.kpi_scorecard
where location_id = '${params.location_id}' and kpi = 'net_revenue'
```

{% for r in stamp %}At {{ r.ts }}{% endfor %}
{% for r in mine %}Revenue {{ r.value | fmt('usd0') }}{% endfor %}
"""


def _build(tiny_db: Path, root: Path, readers: int, monkeypatch: pytest.MonkeyPatch):
    pages = root / "pages"
    pages.mkdir(parents=True)
    (pages / "loc.md").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(site_mod, "SITE_READERS", readers)
    report = site_mod.build_site(tiny_db, root / "site", pages_dir=pages)
    files = {
        str(p.relative_to(root / "site")): p.read_bytes()
        for p in sorted((root / "site").rglob("*"))
        if p.is_file()
    }
    return report, files


def test_two_connections_build_the_same_site_as_one(
    tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    one, one_files = _build(tiny_db, tmp_path / "one", 1, monkeypatch)
    two, two_files = _build(tiny_db, tmp_path / "two", 2, monkeypatch)
    assert one_files == two_files
    assert [str(f) for f in one.pages_failed] == [str(f) for f in two.pages_failed]
    # loc_b's query fails: its page is the one failure, named by its row; loc_a is built
    assert two.pages_built == ["loc/loc_a.html"] and "index.html" in two_files
    assert [f.page for f in two.pages_failed] == ["loc.md[location_id=loc_b]"]
    page = two_files["loc/loc_a.html"].decode()
    assert "At 2024-01-06 04:30:00+00:00" in page and "Revenue $1,200" in page


def test_every_connection_is_sealed_and_shows_utc(tiny_db: Path, tmp_path: Path):
    cons = sealed_readers(tiny_db, threads=1, count=2)
    try:
        for con in cons:
            assert con.execute(
                "select current_database(), current_setting('TimeZone')"
            ).fetchone() == ("serving", "UTC")
            assert con.execute("select count(*) from marts.dim_locations").fetchone() == (2,)
            with pytest.raises(duckdb.PermissionException):
                con.execute(f"attach '{tmp_path / 'other.duckdb'}' as other")
            with pytest.raises(duckdb.InvalidInputException):
                con.execute("set enable_external_access = true")
    finally:
        cons[0].close()
