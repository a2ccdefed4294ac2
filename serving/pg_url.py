"""PostgreSQL connection URLs: masking for logs and the variants each client needs.

`MEDSPA_SERVING_URL` holds the owner's password, so anything printed goes through
`mask_url` first.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def mask_url(url: str | None) -> str:
    """The URL with its password replaced by `***` (safe to log); '' for None."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def with_user(url: str, user: str, password: str) -> str:
    """The same server and database as `url`, connecting as another role."""
    from urllib.parse import quote

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))
