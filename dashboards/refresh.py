"""Re-render the pages that read the peer benchmarks, in a site that is already built.

Why not rebuild the whole site: a tenant's site is built in its own nightly run, but its peer
benchmarks exist only once *every* tenant has published. Redrawing every chart of every
tenant's site again at that point would double the night's rendering for three pages' worth
of change. So only the pages whose SQL reads `peers.*` (the weekly flash and its email, the
benchmarks page, the home page's link) are rendered again, through the same sealed reader and
sandboxed renderer as a full build; every other page keeps its body and gets the new
navigation (the benchmarks page appears in it only when benchmarks exist), so all pages agree.
Each file is replaced atomically: a reader sees a page's old or new version, never half.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from dashboards.email import inline_css
from dashboards.errors import PageError
from dashboards.pages import Page, parse_page
from dashboards.queries import data_as_of
from dashboards.sealed import PEERS_CATALOG, sealed_reader
from dashboards.site import (
    _TEMPLATES,
    DEFAULT_PAGES_DIR,
    PACKAGE_DIR,
    PageFailure,
    SiteReport,
    _build_page,
    _nav,
    _order,
    _Rendered,
)

_NAV_BLOCK = re.compile(r'<nav class="nav">.*?</nav>', re.DOTALL)
_PROBLEMS = re.compile(r'<div class="problems">.*?</div>', re.DOTALL)
_PROBLEM_ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)
_PEERS_REF = re.compile(rf"\b{PEERS_CATALOG}\.[A-Za-z_]", re.IGNORECASE)


def pages_reading_peers(pages_dir: Path | None = None) -> list[str]:
    """Names of the pages whose SQL reads the `peers` catalog (SQL comments ignored)."""
    names = []
    for path in sorted(Path(pages_dir or DEFAULT_PAGES_DIR).glob("*.md")):
        blocks = parse_page(path).queries.values()
        if any(_PEERS_REF.search(re.sub(r"--[^\n]*", "", b.sql)) for b in blocks):
            names.append(path.stem)
    return names


def refresh_peer_pages(
    serving_path: Path, site_dir: Path, peers: Path | None, *, pages_dir: Path | None = None
) -> SiteReport:
    """Re-render the pages reading `peers.*` into the built site `site_dir`; see module doc.

    Raises FileNotFoundError when the site or serving.duckdb is missing (nothing to refresh:
    the tenant's next full build reads the benchmarks itself).
    """
    return refresh_pages(
        serving_path, site_dir, pages_reading_peers(pages_dir), pages_dir=pages_dir, peers=peers
    )


def refresh_pages(
    serving_path: Path,
    site_dir: Path,
    names: list[str],
    *,
    pages_dir: Path | None = None,
    peers: Path | None = None,
) -> SiteReport:
    """Render the pages called `names` (and their email) again; re-navigate the others."""
    serving_path, site_dir = Path(serving_path), Path(site_dir)
    if not (site_dir / "index.html").is_file():
        raise FileNotFoundError(f"no built site to refresh in {site_dir}")
    if not serving_path.is_file():
        raise FileNotFoundError(f"serving database not found: {serving_path}")
    report = SiteReport(site_dir)
    pages = sorted(_parse(Path(pages_dir or DEFAULT_PAGES_DIR), names, report), key=_order)
    groups: list[tuple[str | None, list[_Rendered]]] = []
    con = sealed_reader(serving_path, peers)
    try:
        report.data_as_of = data_as_of(con)
        for page in pages:
            try:
                rendered, group = _build_page(con, page, report, body=page.name in names)
            except PageError as exc:
                report.pages_failed.append(PageFailure(exc.page, exc.line, exc.message))
                continue
            if rendered:
                groups.append((group, rendered))
    finally:
        con.close()
    _write(groups, site_dir, names, report)
    return report


def _parse(pages_dir: Path, names: list[str], report: SiteReport) -> list[Page]:
    pages = []
    for path in sorted(pages_dir.glob("*.md")):
        try:
            pages.append(parse_page(path))
        except PageError as exc:
            if path.stem in names:
                report.pages_failed.append(PageFailure(exc.page, exc.line, exc.message))
    return pages


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _kept_problems(index: Path, names: list[str]) -> list[str]:
    """The home page's failed-page list from the full build, minus the pages rendered now."""
    if not index.is_file():
        return []
    block = _PROBLEMS.search(index.read_text(encoding="utf-8"))
    items = [html.unescape(i) for i in _PROBLEM_ITEM.findall(block.group(0))] if block else []
    return [i for i in items if not any(i.startswith(f"{n}.md") for n in names)]


def _write(
    groups: list[tuple[str | None, list[_Rendered]]],
    site_dir: Path,
    names: list[str],
    report: SiteReport,
) -> None:
    css = (PACKAGE_DIR / "assets" / "style.css").read_text(encoding="utf-8")
    nav = _nav(groups)
    problems = _kept_problems(site_dir / "index.html", names) + [
        str(f) for f in report.pages_failed
    ]
    page_tpl, email_tpl = (
        _TEMPLATES.get_template("page.html.j2"),
        _TEMPLATES.get_template("email.html.j2"),
    )
    nav_tpl = _TEMPLATES.get_template("nav.html.j2")
    rendered: set[str] = set()
    for _, items in groups:
        for r in (r for r in items if r.page.name in names):
            text = page_tpl.render(
                title=r.title,
                nav_html=nav_tpl.render(nav=nav, root="../" * r.href.count("/"), current=r.href),
                root="../" * r.href.count("/"),
                current=r.href,
                css=css,
                body=r.body,
                as_of=report.data_as_of,
                problems=problems if r.href == "index.html" else [],
            )
            (site_dir / r.href).parent.mkdir(parents=True, exist_ok=True)
            _replace(site_dir / r.href, text)
            rendered.add(r.href)
            report.pages_built.append(r.href)
            if not r.in_nav:
                report.pages_unlisted.append(r.href)
            if r.email and not r.child:
                mail = email_tpl.render(title=r.email_title or r.title, css=css, body=r.body)
                _replace(site_dir / str(r.email), inline_css(mail, css))
                rendered.add(str(r.email))
                report.flash_email_path = site_dir / str(r.email)
    renavigated = []
    for path in sorted(site_dir.rglob("*.html")):
        href = path.relative_to(site_dir).as_posix()
        if href in rendered:
            continue
        text = path.read_text(encoding="utf-8")
        root = "../" * href.count("/")
        new_nav = nav_tpl.render(nav=nav, root=root, current=href)
        patched = _NAV_BLOCK.sub(lambda _m, fresh=new_nav: fresh, text, count=1)
        if patched != text:
            _replace(path, patched)
            renavigated.append(href)
    report.files_written = [site_dir / h for h in sorted(rendered) + renavigated]
