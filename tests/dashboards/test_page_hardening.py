"""Pages are sealed: no file or warehouse access from SQL, no Python from templates, no
markdown (remote images, links) from data, and `email:` cannot write outside the site."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import duckdb
import pytest

from dashboards import build_site

HOSTILE = "![x](http://evil.example/p.png) [login](https://evil.example) **b** <i>x</i>"


def _pages(tmp_path: Path, pages: dict[str, str]) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir(exist_ok=True)
    for name, text in pages.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir with a warehouse holding PHI, a landing file and a serving file."""
    data = tmp_path / "data"
    (data / "landing" / "pms" / "patients").mkdir(parents=True)
    (data / "landing" / "pms" / "patients" / "2026-11-20.csv").write_text(
        "patient_id,first_name\nP1,Zelphina\n", encoding="utf-8"
    )
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    con.execute("create schema raw_pms; create table raw_pms.patients as select 'Zelphina' n")
    con.close()
    con = duckdb.connect(str(data / "serving.duckdb"))
    con.execute("create schema marts; create table marts.t as select 1 as v")
    con.close()
    return data


@pytest.mark.parametrize(
    "sql",
    [
        "attach '{data}/warehouse.duckdb' as wh (read_only); select * from wh.raw_pms.patients",
        "select * from read_csv('{data}/landing/pms/patients/2026-11-20.csv')",
        "set enable_external_access = true",
    ],
)
def test_page_sql_cannot_reach_the_warehouse_or_files(data_dir: Path, tmp_path: Path, sql: str):
    body = "```sql leak\n" + sql.format(data=data_dir) + "\n```\n{{ leak }}\n"
    pages = _pages(tmp_path, {"leak.md": body, "fine.md": "```sql v\nselect v from marts.t\n```\n"})
    report = build_site(data_dir / "serving.duckdb", tmp_path / "site", pages_dir=pages)
    assert [f.page for f in report.pages_failed] == ["leak.md"]
    message = report.pages_failed[0].message
    assert "sealed off" in message or "configuration has been locked" in message
    assert "fine.html" in report.pages_built
    assert "Zelphina" not in "".join(p.read_text() for p in (tmp_path / "site").rglob("*.html"))


@pytest.mark.parametrize(
    "expr",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_templates_cannot_reach_python_internals(tiny_db: Path, tmp_path: Path, expr: str):
    pages = _pages(tmp_path, {"evil.md": f"{{% set v = 1 %}}\n{expr}\n", "ok.md": "# fine\n"})
    report = build_site(tiny_db, tmp_path / "site", pages_dir=pages)
    assert [f.page for f in report.pages_failed] == ["evil.md"]
    assert "ok.html" in report.pages_built
    assert "subclasses" not in (tmp_path / "site" / "ok.html").read_text()


@pytest.mark.parametrize("email", ["../../outside.html", "/tmp/x.html", "sub/x.html", ".hidden"])
def test_email_front_matter_cannot_write_outside_the_site(tiny_db, tmp_path, email):
    pages = _pages(tmp_path, {"flash.md": f"---\ntitle: Flash\nemail: {email!r}\n---\nhi\n"})
    report = build_site(tiny_db, tmp_path / "out" / "site", pages_dir=pages)
    assert [f.page for f in report.pages_failed] == ["flash.md"]
    assert "email:" in report.pages_failed[0].message
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*.html")}
    assert all(str(p).startswith("out/site/") for p in written), written


def _no_live_markup(html: str) -> None:
    assert "<img" not in html
    assert not re.search(r"<a [^>]*href=\"https?://", html)
    assert "<strong>b</strong>" not in html and "<i>x</i>" not in html


def test_hostile_names_stay_text_on_shipped_pages_and_email(fixture_serving, tmp_path):
    """Every text column of every mart set to markdown/HTML; pages, nav and email inert."""
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(fixture_serving.read_bytes())
    con = duckdb.connect(str(serving))
    columns = con.execute(
        """select table_name, column_name from information_schema.columns
        where table_schema = 'marts' and data_type = 'VARCHAR'
          and (column_name like '%name%' or column_name in ('label', 'role', 'reason',
               'display_name', 'provider', 'missing_tables', 'title'))"""
    ).fetchall()
    assert len(columns) >= 3
    for table, column in columns:
        con.execute(f'update marts."{table}" set "{column}" = ? || "{column}"', [HOSTILE])
    con.close()
    report = build_site(serving, tmp_path / "site")
    assert report.ok, report.pages_failed
    assert report.flash_email_path is not None
    shown = 0
    for page in (tmp_path / "site").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        _no_live_markup(html)
        shown += html.count("![x](http://evil.example/p.png)")
    assert shown > 10  # the names are there, as text


README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_connections_for_analysts_are_sealed(data_dir: Path, monkeypatch):
    """The README's shell and Python ways into serving.duckdb cannot attach the warehouse."""
    import shutil
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    python = re.search(r"`(duckdb\.connect\(\"data/serving\.duckdb\"[^`]*)`", text).group(1)
    shell = re.search(r"`(\.venv/bin/duckdb -readonly -cmd [^`]*)`", text).group(1)
    assert "enable_external_access" in python and "lock_configuration" in python
    monkeypatch.chdir(data_dir.parent)  # the snippets use the relative `data/serving.duckdb`
    con = eval(python, {"duckdb": duckdb})  # the README's own snippet, run as written
    with pytest.raises(duckdb.PermissionException):
        con.execute("attach 'data/warehouse.duckdb' as wh")
    con.close()
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists() and shutil.which("duckdb") is None:
        pytest.skip("no DuckDB shell installed")
    attach = f"attach '{data_dir}/warehouse.duckdb' as wh; select * from wh.raw_pms.patients"
    argv = shell.split(" ", 3)  # .venv/bin/duckdb -readonly -cmd "<settings>" data/serving.duckdb
    settings = argv[3].rsplit(" ", 1)[0].strip('"')
    done = subprocess.run(
        [str(cli), "-readonly", "-cmd", settings, str(data_dir / "serving.duckdb"), "-c", attach],
        capture_output=True,
        text=True,
        cwd=data_dir.parent,
        timeout=60,
    )
    assert done.returncode != 0 and "Zelphina" not in done.stdout
    assert "disabled by configuration" in done.stderr
