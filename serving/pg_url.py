"""PostgreSQL connection URLs: masking for logs and the variants each client needs.

`MEDSPA_SERVING_URL` holds the owner's password, so anything printed goes through
`mask_url` first, and errors leave the serving functions through `masked_errors`: libpq
quotes a malformed URL's password in its parse errors, and DuckDB's postgres extension
prints the whole connection string when it reconnects. Run logs and asset metadata name the
target by `server_label` (host, port, database) and never carry the user information at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict

#: Connection parameters that carry a secret, in a URL's query or a libpq `key=value` string.
_SECRET_KEYS = frozenset({"password", "sslpassword"})
_KEYWORD_SECRET = re.compile(
    r"(?P<key>\b(?:password|sslpassword)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s']\S*)",
    re.IGNORECASE,
)
#: libpq's `key=value` pairs, for a label of a malformed keyword/value string.
_KEYWORDS = re.compile(r"\b(?P<key>host|hostaddr|port|dbname)\s*=\s*(?P<value>[^\s']+)", re.I)
#: `host:port` of a URL, the host possibly an IPv6 address in brackets.
_AUTHORITY = re.compile(r"(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>.*))?")
#: `scheme://user:password@` anywhere in a text (any URL, not only the one we were given).
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s\"']*:)[^@\s\"']*@", re.I)


def mask_url(url: str | None) -> str:
    """The URL with every password replaced by `***` (safe to log); '' for None.

    psycopg and DuckDB accept a password in three places: `user:password@host`, a query
    parameter (`?password=...`, also `sslpassword`) and libpq's `key=value` form; all three
    are masked, so a URL written any way never reaches a log or the Dagster UI in clear.
    The user information is cut by hand, not by `urlsplit`: libpq accepts an unencoded `#`,
    `?` or `@` in a password, where `urlsplit` would end the host part early and print the
    rest of the password as a path, query or fragment.
    """
    if not url:
        return ""
    if "://" not in url:  # libpq keyword/value form: host=... password=...
        return _KEYWORD_SECRET.sub(lambda m: f"{m['key']}***", url)
    scheme, _, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":***"
    parts = urlsplit(f"{scheme}://{hostpart}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key.lower() in _SECRET_KEYS for key, _ in query):
        masked = [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return f"{scheme}://{userinfo}{at}{urlunsplit(parts).partition('://')[2]}"


def server_label(url: str | None) -> str:
    """`host:port/database` of `url`, nothing else: what a run log or the Dagster UI shows.

    No user and no password, not even masked: a reader of the run log needs where the data
    went, and a label of host, port and database cannot carry what masking might miss. A URL's
    host is read past the last `@` (as the masking does), so no part of a password holding `@`
    can end up in it; libpq's reading fills what the URL leaves to its query (`?host=...`).
    """
    if not url:
        return ""
    params = {**_libpq_params(url), **_written_params(url)}
    host = params.get("host") or params.get("hostaddr") or "(local socket)"
    if ":" in host and not host.startswith("[") and "," not in host:
        host = f"[{host}]"  # an IPv6 address, told apart from its port
    port = f":{params['port']}" if params.get("port") else ""
    label = f"{host}{port}/{params.get('dbname') or ''}"
    for secret in _by_length(_secrets(url)):  # a malformed URL libpq and we read apart
        label = label.replace(secret, "***")
    return label


def _libpq_params(url: str) -> dict[str, str]:
    """libpq's reading of `url` ({} when it refuses it), or the keyword pairs as written."""
    try:
        return {k: v for k, v in conninfo_to_dict(url).items() if isinstance(v, str)}
    except Exception:  # malformed: what the text says
        if "://" in url:
            return {}
        return {m["key"].lower(): m["value"] for m in _KEYWORDS.finditer(url)}


def _written_params(url: str) -> dict[str, str]:
    """host, port and dbname written in a URL past its last `@` (only those present)."""
    if "://" not in url:
        return {}
    hostpart = url.partition("://")[2].rpartition("@")[2]
    authority, _, path = re.split(r"[?#]", hostpart)[0].partition("/")
    address = _AUTHORITY.match(authority)
    found = {
        "host": address["host"].strip("[]"),
        "port": address["port"] or "",
        "dbname": unquote(path),
    }
    return {key: value for key, value in found.items() if value}


def with_user(url: str, user: str, password: str) -> str:
    """The same server and database as `url`, connecting as another role."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _secrets(url: str) -> set[str]:
    """Every password of `url` as it may appear in an error: as written, decoded, encoded.

    The URL's user password is read both ways a reader of it could: libpq's (its own parser,
    which is what connects) and everything between `user:` and the last `@`, so a password
    holding `#`, `?`, `/` or `@` is found whole whichever way it is cut.
    """
    found: set[str] = set()
    if "://" in url:
        userinfo, at, hostpart = url.partition("://")[2].rpartition("@")
        written = userinfo.partition(":")[2] if at and ":" in userinfo else ""
        found.add(written)
        for pair in re.split(r"[?&]", hostpart)[1:]:
            key, _, value = pair.partition("=")
            if unquote(key).lower() in _SECRET_KEYS:
                found.add(value)
        libpq = _libpq_password(url)
        if not (written and libpq and written.startswith(libpq) and written != libpq):
            found.add(libpq)  # a prefix of `written` is libpq cutting at the first `@`
    else:
        for match in _KEYWORD_SECRET.finditer(url):
            value = match["value"]
            inner = value[1:-1] if value.startswith("'") else value
            found |= {value, inner, re.sub(r"\\(.)", r"\1", inner)}
    forms = {form for secret in found for form in (secret, unquote(secret), quote(secret, safe=""))}
    return {secret for secret in forms if secret}


def _libpq_password(url: str) -> str:
    """The password libpq connects with ('' when it has none or cannot parse `url`)."""
    try:
        return conninfo_to_dict(url).get("password") or ""
    except Exception:  # a malformed URL: the hand-cut forms still cover it
        return ""


def _by_length(secrets: set[str]) -> list[str]:
    """Longest first: a password containing a shorter one must be replaced whole."""
    return sorted(secrets, key=len, reverse=True)


def mask_secrets(text: str, url: str | None) -> str:
    """`text` with `url` masked, each of its passwords replaced by `***`, and any other
    `user:password@` or `password=` in it masked too (safe to log or raise)."""
    if url:
        text = text.replace(url, mask_url(url))
        for secret in _by_length(_secrets(url)):
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
