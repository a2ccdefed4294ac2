"""PostgreSQL connection URLs: masking for logs and the variants each client needs.

`MEDSPA_SERVING_URL` holds the owner's password, so anything printed goes through
`mask_url` first, and errors leave the serving functions through `masked_errors`: libpq
quotes a malformed URL's password in its parse errors, and DuckDB's postgres extension
prints the whole connection string when it reconnects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

#: Connection parameters that carry a secret, in a URL's query or a libpq `key=value` string.
_SECRET_KEYS = frozenset({"password", "sslpassword"})
_KEYWORD_SECRET = re.compile(
    r"(?P<key>\b(?:password|sslpassword)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s']\S*)",
    re.IGNORECASE,
)
#: `scheme://user:password@` anywhere in a text (any URL, not only the one we were given).
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s\"']*:)[^@\s\"']*@", re.I)


def mask_url(url: str | None) -> str:
    """The URL with every password replaced by `***` (safe to log); '' for None.

    psycopg and DuckDB accept a password in three places: `user:password@host`, a query
    parameter (`?password=...`, also `sslpassword`) and libpq's `key=value` form; all three
    are masked, so a URL written any way never reaches a log or the Dagster UI in clear.
    """
    if not url:
        return ""
    if "://" not in url:  # libpq keyword/value form: host=... password=...
        return _KEYWORD_SECRET.sub(lambda m: f"{m['key']}***", url)
    parts = urlsplit(url)
    if parts.password is not None:
        # Host and port as written: a malformed port must not make the masking itself fail.
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key.lower() in _SECRET_KEYS for key, _ in query):
        masked = [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return urlunsplit(parts)


def with_user(url: str, user: str, password: str) -> str:
    """The same server and database as `url`, connecting as another role."""
    from urllib.parse import quote

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _secrets(url: str) -> set[str]:
    """Every password of `url` as it may appear in an error: raw, decoded, unquoted."""
    found: set[str] = set()
    if "://" in url:
        parts = urlsplit(url)
        userinfo, at, _ = parts.netloc.rpartition("@")
        if at and ":" in userinfo:
            raw = userinfo.partition(":")[2]
            found |= {raw, unquote(raw)}
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            if unquote(key).lower() in _SECRET_KEYS:
                found |= {value, unquote(value)}
    else:
        for match in _KEYWORD_SECRET.finditer(url):
            value = match["value"]
            inner = value[1:-1] if value.startswith("'") else value
            found |= {value, inner, re.sub(r"\\(.)", r"\1", inner)}
    return {secret for secret in found if secret}


def mask_secrets(text: str, url: str | None) -> str:
    """`text` with `url` masked, each of its passwords replaced by `***`, and any other
    `user:password@` or `password=` in it masked too (safe to log or raise)."""
    if url:
        text = text.replace(url, mask_url(url))
        for secret in sorted(_secrets(url), key=len, reverse=True):
            text = text.replace(secret, "***")
    text = _USERINFO.sub(lambda m: f"{m['head']}***@", text)
    return _KEYWORD_SECRET.sub(lambda m: f"{m['key']}***", text)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@contextmanager
def masked_errors(url: str | None) -> Iterator[None]:
    """Re-raise an exception whose text, or a chained exception's, holds a password of `url`
    (or any URL's), masked: the same type where it can be rebuilt from its message, raised
    `from None` so the original text is printed nowhere (tracebacks, Dagster's event log).
    Other exceptions pass unchanged."""
    try:
        yield
    except Exception as exc:
        if all(mask_secrets(str(e), url) == str(e) for e in _chain(exc)):
            raise
        message = mask_secrets(str(exc), url)
        try:
            clean = type(exc)(message)
        except Exception:  # a type that needs more than a message
            clean = RuntimeError(f"{type(exc).__name__}: {message}")
        if str(clean) != message:
            clean = RuntimeError(f"{type(exc).__name__}: {message}")
        raise clean from None
