"""PostgreSQL connection URLs: masking for logs and the variants each client needs.

`MEDSPA_SERVING_URL` holds the owner's password, so anything printed goes through
`mask_url` first.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Connection parameters that carry a secret, in a URL's query or a libpq `key=value` string.
_SECRET_KEYS = frozenset({"password", "sslpassword"})
_KEYWORD_SECRET = re.compile(
    r"(?P<key>\b(?:password|sslpassword)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s']\S*)",
    re.IGNORECASE,
)


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
        user = parts.username or ""
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{user}:***@{host}{port}")
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
