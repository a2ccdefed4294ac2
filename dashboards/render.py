"""Turn one parsed page plus its query results into an HTML fragment.

Order matters and is why line numbers survive: component tags are first stamped with their
source line (`_line=N`), then Jinja runs (loops may repeat a tag; each copy keeps its stamp),
then each component renders to HTML behind a placeholder, then markdown-it renders the text.

Values from data never pass through markdown: every `{{ ... }}` output becomes a placeholder
that is replaced by the HTML-escaped value *after* markdown rendering, so a location named
`![x](http://host/p.png)` is shown as text, never as a remote image or a link. Templates run
in Jinja's sandbox: a page can read its query results, not reach Python's internals.
"""

from __future__ import annotations

import contextvars
import functools
import html
import re
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import jinja2.sandbox
from markdown_it import MarkdownIt
from markupsafe import Markup

from dashboards.attrs import ComponentError, parse_attrs
from dashboards.bidi import balance, isolate_html
from dashboards.charts import PendingSvg
from dashboards.components import COMPONENTS
from dashboards.count_units import fmt_counts
from dashboards.errors import PageError
from dashboards.formatting import fmt, fmt_delta, format_for_unit, target_text
from dashboards.pages import COMPONENT_TAG, Page, line_of
from dashboards.queries import QueryResult

#: Names a query may not take: the page context's own, and Jinja's literals and keywords.
RESERVED_NAMES = frozenset(
    {"params", "meta", "page", "loop", "range", "fmt", "none", "true", "false", "None", "True"}
    | {"False", "and", "or", "not", "in", "is", "if", "else", "for", "with", "set"}
)
_LINE_ATTR = re.compile(r"\b_line=(\d+)")
#: Jinja names the code of a template made by from_string "<template>" in tracebacks.
_TEMPLATE_FILE = "<template>"

_md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


#: Values output by `{{ ... }}` during one render, restored after markdown (see module doc).
_VALUES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "dashboard_values", default=None
)
_VALUE_MARK = re.compile("\ue000(\\d+)\ue001")


@jinja2.pass_eval_context  # never at compile time: see below
def _hold_value(_eval_ctx: jinja2.nodes.EvalContext, value: object) -> object:
    """Jinja `finalize`: park an output value (HTML-escaped) behind a markdown-inert mark.

    Taking the eval context keeps Jinja from finalizing constant output (`{{ 'a, b' }}`)
    while it compiles: a compiled page is cached and rendered for every instance of a
    template page, and a mark made at compile time would point into the first render's
    values, showing that instance's value on the others."""
    held = _VALUES.get()
    if held is None:
        return value
    text = str(value) if isinstance(value, Markup) else html.escape(str(value))
    held.append(text)
    return f"\ue000{len(held) - 1}\ue001"


def _restore_values(text: str, held: list[str], show: Callable[[str], str] | None = None) -> str:
    """Put the held values back; `show` dresses each one (shown in the page, not parsed)."""
    if show is None:
        return _VALUE_MARK.sub(lambda m: held[int(m.group(1))], text)
    return _VALUE_MARK.sub(lambda m: show(held[int(m.group(1))]), text)


def jinja_env() -> jinja2.Environment:
    """Sandboxed, strict (an unknown name is an error, not an empty string), HTML-escaping."""
    env = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_hold_value,
    )
    env.filters["fmt"] = fmt
    env.filters["fmt_delta"] = fmt_delta
    env.filters["unit_fmt"] = lambda value, unit: fmt(value, format_for_unit(unit))
    env.filters["fmt_counts"] = fmt_counts
    # `{{ t | target_text }}` of a row with target_low, target_high and unit (a `_kpis` row)
    env.filters["target_text"] = lambda row: target_text(
        row["target_low"], row["target_high"], format_for_unit(row["unit"])
    )
    return env


_ENV = jinja_env()


def check_static(page: Page) -> None:
    """Errors findable before SQL runs: unknown components, data={} naming no query."""
    for name in page.queries:
        if name in RESERVED_NAMES:
            raise PageError(page.path.name, page.queries[name].line, f"{name!r} is reserved")
    for use in page.components:
        if use.name not in COMPONENTS:
            known = ", ".join(COMPONENTS)
            raise PageError(
                page.path.name, use.line, f"unknown component <{use.name}> (known: {known})"
            )
        if use.data_ref is not None and use.data_ref not in page.queries:
            raise PageError(
                page.path.name, use.line, f"data={{{use.data_ref}}}: no query of that name"
            )


def _stamp_lines(body: str) -> str:
    def stamp(m: re.Match[str]) -> str:
        return f"<{m.group('name')} _line={line_of(body, m.start())}{m.group('attrs')} />"

    return COMPONENT_TAG.sub(stamp, body)


def _jinja_line(exc: BaseException) -> int | None:
    """The page line of a Jinja runtime error, from the traceback frames Jinja rewrites."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    """A template page's text is the same for each of its ~240 instances: compile it once
    (compiling was about a tenth of a large site build). A syntax error is not cached."""
    return _ENV.from_string(source)


def render_template(source: str, context: Mapping[str, Any], page: str) -> str:
    """Render Jinja text; any error becomes a PageError at its line."""
    try:
        return _compiled(source).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise PageError(page, exc.lineno, f"template error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise PageError(page, _jinja_line(exc), f"template error: {exc.message}") from None
    except jinja2.sandbox.SecurityError as exc:
        raise PageError(page, _jinja_line(exc), f"template not allowed: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise PageError(page, _jinja_line(exc), f"template error: {exc}") from None


class DeferredHtml:
    """A page body whose charts are not drawn yet: `str()` draws them and joins.

    A site build keeps the bodies of every page as these and turns them into text only when
    it writes the files: a chart that fails to draw then fails its own page (or template
    instance) in `site._resolve_bodies`, not the whole template page.
    """

    def __init__(self, parts: list[str | PendingSvg]) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)


_PIECE_MARK = re.compile(r"<p><!--mspc:(\d+)--></p>|<!--mspc:(\d+)-->")


def render_body(
    page: Page, results: Mapping[str, QueryResult], params: Mapping[str, Any] | None = None
) -> str:
    """The page's HTML fragment (no layout)."""
    return str(render_body_deferred(page, results, params))


def render_body_deferred(
    page: Page, results: Mapping[str, QueryResult], params: Mapping[str, Any] | None = None
) -> DeferredHtml:
    """`render_body` without waiting for the page's charts (see `DeferredHtml`)."""
    context: dict[str, Any] = dict(results)
    context.update(params=dict(params or {}), meta=page.meta)
    held: list[str] = []
    token = _VALUES.set(held)
    try:
        text = render_template(_stamp_lines(page.body), context, page.path.name)
    finally:
        _VALUES.reset(token)
    pieces: list[str | PendingSvg] = []

    def component(m: re.Match[str]) -> str:
        attrs_text = m.group("attrs")
        stamp = _LINE_ATTR.search(attrs_text)
        line = int(stamp.group(1)) if stamp else None
        name = m.group("name")
        if name not in COMPONENTS:
            raise PageError(page.path.name, line, f"unknown component <{name}>")
        try:
            attrs = parse_attrs(attrs_text, results, lambda text: _restore_values(text, held))
            attrs.values["_id"] = f"c{len(pieces) + 1}"
            pieces.append(COMPONENTS[name](attrs))
        except ComponentError as exc:
            raise PageError(page.path.name, line, f"<{name}>: {exc}") from None
        return f"<!--mspc:{len(pieces) - 1}-->"

    text = COMPONENT_TAG.sub(component, text)
    # A value's own direction controls must not turn the text around it (`dashboards.bidi`).
    out = _restore_values(_md.render(text), held, isolate_html)
    # A component alone on its line comes back from markdown wrapped in <p>: unwrap it.
    parts: list[str | PendingSvg] = []
    at = 0
    for m in _PIECE_MARK.finditer(out):
        parts.append(out[at : m.start()])
        parts.append(pieces[int(m.group(1) or m.group(2))])
        at = m.end()
    parts.append(out[at:])
    return DeferredHtml(parts)


_TITLE_ENV = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
_TITLE_ENV.filters["fmt"] = fmt


@functools.lru_cache(maxsize=256)
def _compiled_title(title: str) -> jinja2.Template:
    return _TITLE_ENV.from_string(title)


def render_title(page: Page, params: Mapping[str, Any] | None) -> str:
    """The page title, which may use `{{ params.x }}` on template pages (plain text).

    Text parameters are `balance`d: a title is shown as a heading, a navigation link and the
    browser tab, and a name's direction controls must stay inside the name in all of them."""
    shown = {k: balance(v) if isinstance(v, str) else v for k, v in (params or {}).items()}
    try:
        return _compiled_title(page.title).render(params=shown)
    except jinja2.TemplateError as exc:
        raise PageError(page.path.name, 1, f"title: {exc}") from None


def render_email_title(
    page: Page, results: Mapping[str, QueryResult], params: Mapping[str, Any] | None
) -> str | None:
    """The email's `<title>` (front matter `email_title`), which may use the page's query
    results: "Weekly flash: week of {{ week[0].week_start }}". A mail client lists a message
    by its subject line and title; "Weekly flash" every Monday left the week to guess.
    None when the page has no `email_title`. Plain text, as `render_title`."""
    source = page.meta.get("email_title")
    if source is None:
        return None
    context: dict[str, Any] = dict(results)
    context["params"] = dict(params or {})
    try:
        return _compiled_title(str(source)).render(**context)
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise PageError(page.path.name, 1, f"email_title: {exc}") from None


def escape(text: str) -> str:
    return html.escape(text)
