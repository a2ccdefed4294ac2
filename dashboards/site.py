"""Build the static site: every page in `pages/`, navigation, and the weekly-flash email.

One broken page never stops the others: its PageError lands in the SiteReport (and on the
home page) and the build goes on. The site is built in a scratch folder next to `site_dir`
and swapped in at the end, so a reader never sees half a site and a page that failed today
does not linger from yesterday's build.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from dashboards.bidi import strip_controls
from dashboards.email import inline_css
from dashboards.errors import PageError
from dashboards.nav import NavHtml
from dashboards.pages import Page, parse_page
from dashboards.queries import data_as_of, run_queries
from dashboards.readers import ReaderPool
from dashboards.render import (
    DeferredHtml,
    check_static,
    render_body,
    render_body_deferred,
    render_email_title,
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
    "remove_scratch_leftovers",
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
#: For `<title>`, where a name's direction controls cannot be isolated (`dashboards.bidi`).
_TEMPLATES.filters["strip_bidi"] = strip_controls


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
    #: The data's as-of time every page's footer gives (`dashboards.queries.data_as_of`).
    data_as_of: str | None = None

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
    #: The email's title (`email_title` in front matter, with the page's query results).
    email_title: str | None = None


def slugify(value: object) -> str:
    """A file-name-safe slug for a template page's row (`loc_001` stays `loc_001`).

    Lossy (case, punctuation and non-ASCII letters go), so two ids may share a slug and a
    long id gives a long slug: `instance_names` turns slugs into unique, bounded file names.
    """
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", str(value)).strip("-").lower()
    return slug or "unnamed"


#: Longest slug used as a file name as is. File systems refuse names over 255 bytes; a
#: longer id keeps its first `_SLUG_KEEP` characters and gets a hash of the whole id.
MAX_SLUG = 100
_SLUG_KEEP = 80
#: Hex digits of the id's SHA-256 added to a long or shared slug.
_HASH_DIGITS = 8


#: Device names Windows reserves whatever the extension (`con.html`, `nul.x.html`): a site
#: copied to a clinic PC, or unzipped there, would lose such a page. Such a slug gets a hashed
#: name, its stem marked with `_` so the part before the first dot is no device name either.
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


def _id_hash(value: object) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:_HASH_DIGITS]


def instance_names(values: Sequence[object]) -> list[str | None]:
    """The file name (without `.html`) of each template row's id, or None for a repeat.

    Ids come from clinic systems and may be anything, so the slug alone is not a safe name:
    `LOC01` and `loc01` share one and would overwrite each other's page, and a 300-character
    id is longer than a file system allows. A short slug that no other id shares, and that is
    no Windows device name (`con`, `lpt1`), stays the name (links people bookmarked keep
    working). Every other id gets `<slug, cut to 80>.<8 hex digits of its SHA-256>`: the `.`
    never occurs in a slug, so these names cannot meet a plain one, and each depends only on
    its own id, never on row order. A shared slug keeps its plain name for no one: when an
    extract adds `loc01` beside `LOC01`, `loc01.html` stops existing rather than turning into
    the newcomer's page under the link people saved for `LOC01` (a look-alike taking over a
    bookmark). A row whose name an earlier row already took (the same id twice) gets None.
    """
    slugs = [slugify(v) for v in values]
    ids_by_slug: dict[str, set[str]] = {}
    for value, slug in zip(values, slugs, strict=True):
        ids_by_slug.setdefault(slug, set()).add(str(value))
    names: list[str | None] = []
    taken: set[str] = set()
    for value, slug in zip(values, slugs, strict=True):
        shared = len(ids_by_slug[slug]) > 1
        if len(slug) <= MAX_SLUG and not shared and slug not in _WINDOWS_RESERVED:
            name = slug
        else:
            stem = slug[:_SLUG_KEEP].rstrip("-")
            stem += "_" if stem in _WINDOWS_RESERVED else ""
            name = f"{stem}.{_id_hash(value)}"
        names.append(None if name in taken else name)
        taken.add(name)
    return names


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
    if email is not None:
        _check_name(page, str(email))


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
    email_title = None
    if body:
        render = render_body_deferred if defer else render_body
        text = render(page, results, params)
        email_title = render_email_title(page, results, params) if page.meta.get("email") else None
    return _Rendered(
        href,
        title,
        nav_label,
        text,
        page,
        child,
        page.meta.get("email"),
        bool(results[nav_if]) if nav_if else True,
        email_title,
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
        _check_name(page, f"{page.name}.html")
        return [_render_one(con, page, f"{page.name}.html", None, False, body, defer)], None
    if each not in page.queries:
        raise PageError(page.path.name, 1, f"each: {each!r} is not a query on this page")
    cache: dict[str, Any] = {}  # the instances share every query that reads no parameter
    rows = run_queries(con, page, None, [each], cache=cache)[each]
    slug_key = page.meta.get("slug") or (rows.columns[0] if rows.columns else None)
    for row in rows:
        if slug_key not in row:
            raise PageError(page.path.name, 1, f"slug: query {each!r} has no column {slug_key!r}")

    names = instance_names([row[slug_key] for row in rows])
    for row, name in zip(rows, names, strict=True):
        if name is None:
            report.pages_failed.append(
                PageFailure(
                    f"{page.path.name}[{slug_key}={row[slug_key]}]",
                    1,
                    f"slug: {slug_key} {row[slug_key]!r} is on another row of {each!r} too;"
                    " one page per value",
                )
            )
    todo = [
        (row, f"{page.name}/{name}.html")
        for row, name in zip(rows, names, strict=True)
        if name is not None
    ]

    def instance(reader: duckdb.DuckDBPyConnection, job: tuple[dict[str, Any], str]) -> _Rendered:
        row, href = job
        return _render_one(reader, page, href, dict(row), True, body, defer, cache)

    out: list[_Rendered] = []
    pool = readers or ReaderPool([con])
    # The first instance alone: it fills `cache` with every query that reads no parameter,
    # so the others, side by side, find them there and none runs twice.
    results = ReaderPool([con]).map(instance, todo[:1]) + pool.map(instance, todo[1:])
    for (row, _href), result in zip(todo, results, strict=True):
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
        report.data_as_of = data_as_of(con)
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


#: The prefix of a build's scratch folder beside the site (`_publish`).
SCRATCH_PREFIX = ".site-"
#: A scratch folder with nothing written in it for this long is no live build's (a build
#: writes its scratch folder in seconds, then renames it).
SCRATCH_IDLE_SECONDS = 300


def _newest_mtime(folder: Path) -> float:
    """The latest modification time in `folder`'s tree (links not followed)."""
    newest = folder.lstat().st_mtime
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def remove_scratch_leftovers(
    site_dir: Path, idle_seconds: float = SCRATCH_IDLE_SECONDS, now: float | None = None
) -> list[Path]:
    """Remove the scratch folders killed builds left beside `site_dir`; return what went.

    A build removes its scratch folder when it fails (`_publish`), but a killed process
    leaves it, a whole site each time. Only folders named `.site-*` are removed, never a
    symbolic link (nor what it points to; links inside are removed, not followed), and only
    those nothing was written in for `idle_seconds`, so that a `medspa site` running beside
    (it takes no run lock) keeps its own. Call it while the tenant's run lock is held (a
    Dagster run of the tenant holds it), so no build of the tenant's site is running.
    """
    site_dir = Path(site_dir)
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(site_dir.parent))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        try:
            if now - _newest_mtime(folder) < idle_seconds:
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


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
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=site_dir.parent))
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


#: Why writing one page's file can fail while the others can be written: its name (too long,
#: not encodable, a folder in the way). Anything else (a full disk, no permission) is the
#: site's problem, not the page's: the build stops and the previous site stays.
_PAGE_WRITE_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ, errno.EISDIR})
#: The longest file name (in bytes) the usual file systems take.
MAX_NAME_BYTES = 255


def _check_name(page: Page, name: str) -> None:
    """Fail a page whose own file (or email) name no file system would take, before it is
    listed in the navigation (template pages' names are bounded by `instance_names`)."""
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise PageError(
            page.path.name, 1, f"file name {name[:40]!r}... is over {MAX_NAME_BYTES} bytes"
        )


def _write_page(scratch: Path, name: str, text: str) -> None:
    (scratch / name).parent.mkdir(parents=True, exist_ok=True)
    (scratch / name).write_text(text, encoding="utf-8")


def _write_all(
    groups: list[tuple[str | None, list[_Rendered]]], scratch: Path, report: SiteReport
) -> None:
    """Every page, the email and a home page (the index page, or a generated one), into
    `scratch`; the home page last, so it lists the pages whose file could not be written.

    Records relative paths in the report; `_publish` makes them absolute after the swap.
    """
    css = (PACKAGE_DIR / "assets" / "style.css").read_text(encoding="utf-8")
    nav = _nav(groups)
    written: list[str] = []
    email_name: str | None = None
    page_tpl, email_tpl = (
        _TEMPLATES.get_template("page.html.j2"),
        _TEMPLATES.get_template("email.html.j2"),
    )
    navs = NavHtml(_TEMPLATES.get_template("nav.html.j2"), nav)

    def page_html(r: _Rendered) -> str:
        root = "../" * r.href.count("/")
        return page_tpl.render(
            title=r.title,
            nav_html=navs.render(root, r.href),
            root=root,
            current=r.href,
            css=css,
            body=r.body,
            as_of=report.data_as_of,
            problems=[str(f) for f in report.pages_failed] if r.href == "index.html" else [],
        )

    def write(r: _Rendered) -> list[str]:
        """The page's file (and its email's); the names written."""
        _write_page(scratch, r.href, page_html(r))
        if not r.email or r.child:
            return [r.href]
        mail = email_tpl.render(title=r.email_title or r.title, css=css, body=r.body)
        _write_page(scratch, str(r.email), inline_css(mail, css))
        return [r.href, str(r.email)]

    def record(r: _Rendered, names: list[str]) -> None:
        nonlocal email_name
        email_name = names[1] if len(names) > 1 else email_name
        report.pages_built.append(r.href)
        if not r.in_nav:
            report.pages_unlisted.append(r.href)
        written.extend(names)

    index: _Rendered | None = None
    rest: list[tuple[_Rendered, list[str]]] = []
    for _, items in groups:
        for r in items:
            if r.href == "index.html":
                index = r
                continue
            try:
                rest.append((r, write(r)))
            except OSError as exc:
                if exc.errno not in _PAGE_WRITE_ERRNOS:
                    raise
                (scratch / r.href).unlink(missing_ok=True)
                name = r.page.path.name + (f"[{r.href}]" if r.child else "")
                message = f"could not write {r.href!r}: {exc.strerror}"
                report.pages_failed.append(PageFailure(name, None, message))
    if index is not None:
        record(index, write(index))
    for r, names in rest:
        record(r, names)
    if index is None:
        text = page_tpl.render(
            title="Dashboards",
            nav_html=navs.render("", "index.html"),
            root="",
            current="index.html",
            css=css,
            body="",
            problems=[str(f) for f in report.pages_failed],
        )
        _write_page(scratch, "index.html", text)
        written.append("index.html")
    report.files_written = [Path(name) for name in written]
    report.flash_email_path = Path(email_name) if email_name else None
