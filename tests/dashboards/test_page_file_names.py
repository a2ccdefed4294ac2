"""Template pages' file names: one file per id, whatever the clinic systems call things.

Ids are slugged into file names; a slug drops case and punctuation, so two ids can share one,
and a long id would make a name no file system takes. Neither may cost a page or show one
clinic's page under another's link; a short id nobody shares keeps today's name.
"""

from __future__ import annotations

import errno
import hashlib
import re
import textwrap
from pathlib import Path

import duckdb
import pytest

import dashboards.site
from dashboards import build_site
from dashboards.site import instance_names

LONG_ID = "L" * 300

LOCATION_PAGE = """
---
title: "Location: {{ params.location_name }}"
nav_label: "{{ params.location_name }}"
nav_group: Locations
each: locations
slug: location_id
---

```sql locations
select location_id, location_name from marts.dim_locations order by location_id ORDER
```

Id [{{ params.location_id }}] named [{{ params.location_name }}].
"""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


def _serving(tmp_path: Path, locations: list[tuple[str, str]]) -> Path:
    path = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_locations (location_id varchar, location_name varchar)")
    con.executemany("insert into marts.dim_locations values (?, ?)", locations)
    con.close()
    return path


def _build(
    tmp_path: Path,
    locations: list[tuple[str, str]],
    order: str = "asc",
    extra: dict[str, str] | None = None,
    site: str = "site",
):
    pages = tmp_path / f"pages-{site}"
    pages.mkdir()
    files = {"loc.md": LOCATION_PAGE.replace("ORDER", order), "about.md": "# About\n"}
    for name, text in (files | (extra or {})).items():
        (pages / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    serving = tmp_path / "serving.duckdb"
    if not serving.exists():
        _serving(tmp_path, locations)
    return build_site(serving, tmp_path / site, pages_dir=pages)


def _files(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html")}


def test_a_300_character_id_gets_a_short_name_and_the_site_builds(tmp_path: Path):
    report = _build(tmp_path, [(LONG_ID, "Lakeside"), ("loc_a", "Austin")])
    assert report.ok, report.pages_failed
    long_name = f"loc/{'l' * 80}.{_hash(LONG_ID)}.html"
    assert _files(tmp_path / "site") == {"index.html", "about.html", "loc/loc_a.html", long_name}
    page = (tmp_path / "site" / long_name).read_text(encoding="utf-8")
    assert f"Id [{LONG_ID}] named [Lakeside]" in page
    assert "Id [loc_a] named [Austin]" in (tmp_path / "site/loc/loc_a.html").read_text()


def test_ids_sharing_a_slug_each_get_their_own_page(tmp_path: Path):
    locations = [
        ("LOC01", "Upper"),
        ("loc01", "Lower"),
        ("A.1", "Dot"),
        ("A 1", "Space"),
        ("plain", "Plain"),
    ]
    report = _build(tmp_path, locations)
    assert report.ok, report.pages_failed
    expected = {
        "LOC01": f"loc/loc01.{_hash('LOC01')}.html",
        # a shared slug is no one's plain name: `loc01.html` never turns into another page
        "loc01": f"loc/loc01.{_hash('loc01')}.html",
        "A.1": f"loc/a-1.{_hash('A.1')}.html",
        "A 1": f"loc/a-1.{_hash('A 1')}.html",
        "plain": "loc/plain.html",
    }
    assert _files(tmp_path / "site") == {"index.html", "about.html", *expected.values()}
    for location_id, name in locations:
        page = (tmp_path / "site" / expected[location_id]).read_text(encoding="utf-8")
        assert f"Id [{location_id}] named [{name}]" in page
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="(loc/[^"]+)"[^>]*>([^<]+)</a>', index)
    assert sorted(links) == sorted((expected[i], n) for i, n in locations)


def test_file_names_do_not_depend_on_row_order(tmp_path: Path):
    locations = [("LOC01", "Upper"), ("loc01", "Lower"), ("A.1", "Dot"), ("A 1", "Space")]
    _build(tmp_path, locations, order="asc", site="up")
    _build(tmp_path, locations, order="desc", site="down")
    names = _files(tmp_path / "up") - {"index.html", "about.html"}
    assert len(names) == 4 and _files(tmp_path / "down") == _files(tmp_path / "up")
    for name in names:
        shown = [_shown_id(tmp_path / site / name) for site in ("up", "down")]
        assert shown[0] == shown[1], name


def _shown_id(page: Path) -> str:
    found = re.search(r"Id \[(.*?)\]", page.read_text(encoding="utf-8"))
    assert found, page
    return found.group(1)


def test_the_same_id_twice_is_reported_not_overwritten(tmp_path: Path):
    report = _build(tmp_path, [("loc_a", "Austin"), ("loc_a", "Austin again"), ("b", "Boston")])
    assert [f.page for f in report.pages_failed] == ["loc.md[location_id=loc_a]"]
    assert "on another row" in report.pages_failed[0].message
    assert {"loc/loc_a.html", "loc/b.html"} <= _files(tmp_path / "site")


def test_instance_names_keep_short_unshared_slugs():
    assert instance_names(["loc_001", "LOC-2", "Søndre 3", "", LONG_ID, "x" * 100]) == [
        "loc_001",
        "loc-2",
        "s-ndre-3",
        "unnamed",
        f"{'l' * 80}.{_hash(LONG_ID)}",
        "x" * 100,
    ]


def test_a_newcomer_sharing_a_slug_never_takes_over_a_saved_link(tmp_path: Path):
    """Night 1 has `LOC01` at `loc/loc01.html`. Night 2's extract adds `loc01`: the saved link
    must not open the newcomer's page (a look-alike); it stops existing instead."""
    assert instance_names(["LOC01"]) == ["loc01"]
    assert instance_names(["LOC01", "loc01"]) == [
        f"loc01.{_hash('LOC01')}",
        f"loc01.{_hash('loc01')}",
    ]


@pytest.mark.parametrize("location_id", ["CON", "nul", "Aux", "COM1", "lpt9", "prn"])
def test_windows_device_names_get_a_name_windows_can_write(location_id: str):
    """`con.html` (and `con.<anything>.html`) cannot be created on Windows: a site copied or
    unzipped to a clinic PC would lose that page."""
    [name] = instance_names([location_id])
    assert name == f"{location_id.lower()}_.{_hash(location_id)}"
    assert instance_names(["con1", "com10", "console"]) == ["con1", "com10", "console"]


def test_a_page_whose_file_cannot_be_written_fails_alone(tmp_path: Path, monkeypatch):
    """A file system may refuse a name the checks let through: that page fails, not the site."""
    real = dashboards.site._write_page

    def refuse(scratch: Path, name: str, text: str) -> None:
        if name == "loc/loc_b.html":
            raise OSError(errno.ENAMETOOLONG, "File name too long")
        real(scratch, name, text)

    monkeypatch.setattr(dashboards.site, "_write_page", refuse)
    report = _build(tmp_path, [("loc_a", "Austin"), ("loc_b", "Boston")])
    assert [str(f) for f in report.pages_failed] == [
        "loc.md[loc/loc_b.html]: could not write 'loc/loc_b.html': File name too long"
    ]
    assert _files(tmp_path / "site") == {"index.html", "about.html", "loc/loc_a.html"}
    assert "loc/loc_b.html" not in report.pages_built
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "could not write" in index  # the home page, written last, lists it


def test_a_full_disk_stops_the_build_and_keeps_the_old_site(tmp_path: Path, monkeypatch):
    _build(tmp_path, [("loc_a", "Austin")])
    before = (tmp_path / "site" / "loc" / "loc_a.html").read_text(encoding="utf-8")

    def full(scratch: Path, name: str, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dashboards.site, "_write_page", full)
    pages = tmp_path / "pages-site"
    with pytest.raises(OSError, match="No space"):
        build_site(tmp_path / "serving.duckdb", tmp_path / "site", pages_dir=pages)
    assert (tmp_path / "site" / "loc" / "loc_a.html").read_text(encoding="utf-8") == before


def test_a_page_file_name_over_255_bytes_fails_that_page_only(tmp_path: Path):
    stem = "p" * 251  # `<stem>.md` fits in a file name, `<stem>.html` does not
    report = _build(tmp_path, [("loc_a", "Austin")], extra={f"{stem}.md": "# Too long\n"})
    assert [f.page for f in report.pages_failed] == [f"{stem}.md"]
    assert "over 255 bytes" in report.pages_failed[0].message
    assert _files(tmp_path / "site") == {"index.html", "about.html", "loc/loc_a.html"}
