"""Build the static site: every page in `pages/`, navigation, and the weekly-flash email.

One broken page never stops the others: its PageError lands in the SiteReport (and on the
home page) and the build goes on. The site is built in a scratch folder next to `site_dir`
and swapped in at the end, so a reader never sees half a site and a page that failed today
does not linger from yesterday's build.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from dashboards.email import inline_css
from dashboards.errors import PageError
from dashboards.nav import NavHtml
from dashboards.pages import Page, parse_page
from dashboards.queries import run_queries
from dashboards.readers import ReaderPool
from dashboards.render import (
    DeferredHtml,
    check_static,
    render_body,
    render_body_deferred,
    render_title,
)
from dashboards.sealed import SEALED_READER_CONFIG, sealed_reader, sealed_readers

#: `SEALED_READER_CONFIG` and `sealed_reader` live in `dashboards.sealed`; re-exported here.
__all__ = [
    "DEFAULT_PAGES_DIR",
    "SEALED_READER_CONFIG",
    "PageFailure",
    "SiteReport",
    "build_site",
    "sealed_reader",
    "slugify",
]

#: Connections (and threads) the template pages' instances are rendered on: one per core of
#: the 2-core machine the nightly runs on. DuckDB runs a query with the GIL released.
SITE_READERS = 2

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PAGES_DIR = PACKAGE_DIR / "pages"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class PageFailure:
    """A page that did not build: `page` names the file (and the template row, if any)."""

    page: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.page}:{self.line}: {self.message}"
            if self.line
            else f"{self.page}: {self.message}"
        )


@dataclass
class SiteReport:
    """What a build did; the CLI prints it and the Dagster `site` asset records it."""

    site_dir: Path
    pages_built: list[str] = field(default_factory=list)
    pages_failed: list[PageFailure] = field(default_factory=list)
    files_written: list[Path] = field(default_factory=list)
    flash_email_path: Path | None = None
    #: Pages built but left out of the navigation (`nav_if` query without rows).
    pages_unlisted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.pages_failed


@dataclass
class _Rendered:
    href: str
    title: str
    nav_label: str
    #: A DeferredHtml (charts not drawn yet) in a full build; text once `_resolve_bodies` ran.
    body: str | DeferredHtml
    page: Page
    child: bool = False
    email: str | None = None
    #: False for a page whose front matter `nav_if: <query>` names a query without rows.
    in_nav: bool = True


def slugify(value: object) -> str:
    """A file-name-safe slug for a template page's row (`loc_001` stays `loc_001`)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", str(value)).strip("-").lower()
    return slug or "unnamed"


#: An `email:` front-matter value: a plain file name written into the site folder itself.
_EMAIL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.html?")


def _check_email(page: Page) -> None:
    email = page.meta.get("email")
    if email is not None and not _EMAIL_NAME.fullmatch(str(email)):
        raise PageError(
            page.path.name,
            1,
            "email: must be a plain .html file name (it is written into the site folder)",
        )


def _order(page: Page) -> tuple[float, str]:
    if page.name == "index":
        return (-1, "")
    return (float(page.meta.get("order", 100)), page.name)


def _render_one(
    con: duckdb.DuckDBPyConnection,
    page: Page,
    href: str,
    params: dict[str, Any] | None,
    child: bool,
    body: bool = True,
    defer: bool = False,
    cache: dict[str, Any] | None = None,
) -> _Rendered:
    """One page (instance); `body=False` gives its navigation entry only (no page SQL runs
    but the `nav_if` query), for re-rendering a few pages of a site (`dashboards.refresh`).
    `defer=True` leaves the body's charts undrawn (`DeferredHtml`); `cache` is the template
    page's query cache (`run_queries`)."""
    nav_if = page.meta.get("nav_if")
    if body:
        results = run_queries(con, page, params, cache=cache)
    else:
        results = run_queries(con, page, params, [nav_if] if nav_if else [], cache=cache)
    title = render_title(page, params)
    label = page.meta.get("nav_label")
    nav_label = render_title(Page(page.path, {"title": label}, {}, ""), params) if label else title
    text: str | DeferredHtml = ""
    if body:
        render = render_body_deferred if defer else render_body
        text = render(page, results, params)
    return _Rendered(
        href,
        title,
        nav_label,
        text,
        page,
        child,
        page.meta.get("email"),
        bool(results[nav_if]) if nav_if else True,
    )


def _build_page(
    con: duckdb.DuckDBPyConnection,
    page: Page,
    report: SiteReport,
    body: bool = True,
    defer: bool = False,
    readers: ReaderPool | None = None,
) -> tuple[list[_Rendered], str | None]:
    """Render a page (or each instance of a template page); failures go to the report.

    `defer=True`: bodies are `DeferredHtml` whose charts are drawn when joined.
    `readers`: a template page's instances are rendered on its connections side by side."""
    check_static(page)
    _check_email(page)
    nav_if = page.meta.get("nav_if")
    if nav_if is not None and (str(nav_if) not in page.queries or str(nav_if).startswith("_")):
        raise PageError(page.path.name, 1, f"nav_if: {nav_if!r} is not a public query on this page")
    each = page.meta.get("each")
    if not each:
        return [_render_one(con, page, f"{page.name}.html", None, False, body, defer)], None
    if each not in page.queries:
        raise PageError(page.path.name, 1, f"each: {each!r} is not a query on this page")
    cache: dict[str, Any] = {}  # the instances share every query that reads no parameter
    rows = run_queries(con, page, None, [each], cache=cache)[each]
    slug_key = page.meta.get("slug") or (rows.columns[0] if rows.columns else None)
    for row in rows:
        if slug_key not in row:
            raise PageError(page.path.name, 1, f"slug: query {each!r} has no column {slug_key!r}")

    def instance(reader: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> _Rendered:
        href = f"{page.name}/{slugify(row[slug_key])}.html"
        return _render_one(reader, page, href, dict(row), True, body, defer, cache)

    out: list[_Rendered] = []
    pool = readers or ReaderPool([con])
    # The first instance alone: it fills `cache` with every query that reads no parameter,
    # so the others, side by side, find them there and none runs twice.
    results = ReaderPool([con]).map(instance, rows[:1]) + pool.map(instance, rows[1:])
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, PageError):  # in row order: the report reads as before
            report.pages_failed.append(
                PageFailure(
                    f"{result.page}[{slug_key}={row[slug_key]}]", result.line, result.message
                )
            )
        elif isinstance(result, BaseException):
            raise result
        else:
            out.append(result)
    return out, str(page.meta.get("nav_group") or page.title)


def _nav(groups: list[tuple[str | None, list[_Rendered]]]) -> list[dict[str, Any]]:
    nav: list[dict[str, Any]] = [{"href": "index.html", "label": "Home", "child": False}]
    for group, items in groups:
        if group is not None:
            nav.append({"group": True, "label": group})
        nav.extend(
            {"href": r.href, "label": r.nav_label, "child": r.child}
            for r in items
            if r.href != "index.html" and r.in_nav
        )
    return nav


def build_site(
    serving_path: Path,
    site_dir: Path,
    *,
    pages_dir: Path | None = None,
    peers: Path | None = None,
) -> SiteReport:
    """Render every page from serving.duckdb (opened read-only) into `site_dir`.

    `peers`: the tenant's peer benchmarks file, read as catalog `peers` when it exists.
    """
    serving_path, site_dir = Path(serving_path), Path(site_dir)
    if not serving_path.is_file():
        raise FileNotFoundError(f"serving database not found: {serving_path} (run the pipeline)")
    pages_dir = Path(pages_dir) if pages_dir else DEFAULT_PAGES_DIR
    report = SiteReport(site_dir)
    pages: list[Page] = []
    for path in sorted(pages_dir.glob("*.md")):
        try:
            pages.append(parse_page(path))
        except PageError as exc:
            report.pages_failed.append(PageFailure(exc.page, exc.line, exc.message))
    pages.sort(key=_order)
    groups: list[tuple[str | None, list[_Rendered]]] = []
    # One DuckDB thread per query: a build runs ~700 small queries, and DuckDB's worker
    # threads cost more to wake than they save (about 1 CPU s less at large). Instead the
    # instances of a template page (a location's, a provider's) run on `SITE_READERS`
    # connections side by side, each query on the thread that asked for it.
    cons = sealed_readers(serving_path, peers, threads=1, count=SITE_READERS)
    con = cons[0]
    readers = ReaderPool(cons)
    try:
        for page in pages:
            try:
                rendered, group = _build_page(con, page, report, defer=True, readers=readers)
            except PageError as exc:
                report.pages_failed.append(PageFailure(exc.page, exc.line, exc.message))
                continue
            except Exception as exc:  # a renderer bug on odd data must not cost the others
                report.pages_failed.append(PageFailure(page.path.name, None, _internal_error(exc)))
                continue
            if rendered:
                groups.append((group, rendered))
        groups = _resolve_bodies(groups, report)  # the charts are drawn here
    finally:
        readers.close()
        con.close()
    _publish(groups, site_dir, report)
    _remove_old_chart_cache(site_dir)
    return report


def _remove_old_chart_cache(site_dir: Path) -> None:
    """Earlier versions kept drawn charts in `<site>-chart-cache/` beside the site. Drawing a
    chart now costs less than that cache's lookup did, so a leftover folder is dead weight
    (a site's worth of SVG files) and goes with the first build that no longer uses it."""
    old = site_dir.with_name(f"{site_dir.name}-chart-cache")
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)


def _internal_error(exc: Exception) -> str:
    """A page failure's message for an exception no page author caused."""
    return f"internal error: {type(exc).__name__}: {exc}"


def _resolve_bodies(
    groups: list[tuple[str | None, list[_Rendered]]], report: SiteReport
) -> list[tuple[str | None, list[_Rendered]]]:
    """Draw every page's charts; a page whose chart failed to draw becomes a failure."""
    kept: list[tuple[str | None, list[_Rendered]]] = []
    for group, items in groups:
        done = []
        for r in items:
            try:
                r.body = str(r.body)
            except Exception as exc:  # a renderer bug on odd data must not cost the others
                name = r.page.path.name + (f"[{r.href}]" if r.child else "")
                report.pages_failed.append(PageFailure(name, None, _internal_error(exc)))
                continue
            done.append(r)
        if done:
            kept.append((group, done))
    return kept


def _publish(
    groups: list[tuple[str | None, list[_Rendered]]], site_dir: Path, report: SiteReport
) -> None:
    """Write all files into a scratch folder, then swap it in for `site_dir`."""
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".site-", dir=site_dir.parent))
    scratch.chmod(0o755)  # mkdtemp makes it private; a web server may need to read the site
    try:
        _write_all(groups, scratch, report)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)  # the previous site stays as it was
        raise
    old = site_dir.with_name(site_dir.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if site_dir.exists():
        site_dir.rename(old)
    scratch.rename(site_dir)
    if old.exists():
        shutil.rmtree(old)
    report.files_written = [site_dir / p for p in report.files_written]
    if report.flash_email_path is not None:
        report.flash_email_path = site_dir / report.flash_email_path


def _write_all(
    groups: list[tuple[str | None, list[_Rendered]]], scratch: Path, report: SiteReport
) -> None:
    """Every page, the email and (if no index page) a generated home page, into `scratch`.

    Records relative paths in the report; `_publish` makes them absolute after the swap.
    """
    css = (PACKAGE_DIR / "assets" / "style.css").read_text(encoding="utf-8")
    nav = _nav(groups)
    problems = [str(f) for f in report.pages_failed]
    written: list[str] = []
    email_name: str | None = None
    has_index = any(r.href == "index.html" for _, items in groups for r in items)
    page_tpl, email_tpl = (
        _TEMPLATES.get_template("page.html.j2"),
        _TEMPLATES.get_template("email.html.j2"),
    )
    navs = NavHtml(_TEMPLATES.get_template("nav.html.j2"), nav)
    for _, items in groups:
        for r in items:
            root = "../" * r.href.count("/")
            text = page_tpl.render(
                title=r.title,
                nav_html=navs.render(root, r.href),
                root=root,
                current=r.href,
                css=css,
                body=r.body,
                problems=problems if r.href == "index.html" else [],
            )
            (scratch / r.href).parent.mkdir(parents=True, exist_ok=True)
            (scratch / r.href).write_text(text, encoding="utf-8")
            written.append(r.href)
            report.pages_built.append(r.href)
            if not r.in_nav:
                report.pages_unlisted.append(r.href)
            if r.email and not r.child:
                email_name = str(r.email)
                mail = email_tpl.render(title=r.title, css=css, body=r.body)
                (scratch / email_name).write_text(inline_css(mail, css), encoding="utf-8")
                written.append(email_name)
    if not has_index:
        text = page_tpl.render(
            title="Dashboards",
            nav_html=navs.render("", "index.html"),
            root="",
            current="index.html",
            css=css,
            body="",
            problems=problems,
        )
        (scratch / "index.html").write_text(text, encoding="utf-8")
        written.append("index.html")
    report.files_written = [Path(name) for name in written]
    report.flash_email_path = Path(email_name) if email_name else None
