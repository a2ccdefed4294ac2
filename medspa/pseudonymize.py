"""HMAC-SHA256 pseudonymisation shared by Python (tests, checks) and SQL (dbt macro).

HMAC(K, m) = SHA256((K' ^ opad) || SHA256((K' ^ ipad) || m)) with K' the key zero-padded to
the 64-byte block. Precomputing the two padded keys lets DuckDB compute the HMAC with two
built-in `sha256` calls, vectorised, with no Python UDF in the hot path.
"""

from __future__ import annotations

import hashlib
import hmac

_BLOCK = 64


def hmac_pads(key: bytes) -> tuple[str, str]:
    """Hex of (K' ^ 0x36…, K' ^ 0x5c…), the inner and outer padded keys."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in padded)
    opad = bytes(b ^ 0x5C for b in padded)
    return ipad.hex(), opad.hex()


def pseudonymize(value: str, key: str) -> str:
    """Reference implementation: hex HMAC-SHA256 of `value` under `key` (what SQL must equal)."""
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()
