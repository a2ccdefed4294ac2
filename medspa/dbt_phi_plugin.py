"""dbt-duckdb plugin: hands the pseudonymisation key to DuckDB without putting it in SQL.

dbt writes every compiled statement to `target/` and its logs; a key interpolated into a
model's SQL would leak there. Instead this plugin, outside dbt's logging, gives each dbt
connection two session variables holding the HMAC-SHA256 inner and outer pads, and the
`pseudonymize` macro reads them with `getvariable()`. The key itself is read from
MEDSPA_PHI_KEY (the demo key only when unset; empty or short is an error).
"""

from __future__ import annotations

import os
import re
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from medspa.pseudonymize import hmac_pads
from medspa.settings import resolve_phi_key


def _set_pads_sql(ipad: str, opad: str) -> str:
    """`SET VARIABLE` statements for both pads; refuses anything but hex (no SQL injection)."""
    for pad in (ipad, opad):
        if not re.fullmatch(r"[0-9a-f]+", pad):
            raise ValueError("HMAC pads must be lower-case hex")
    return (
        f"SET VARIABLE medspa_hmac_ipad = from_hex('{ipad}'); "
        f"SET VARIABLE medspa_hmac_opad = from_hex('{opad}');"
    )


class Plugin(BasePlugin):
    """Sets `medspa_hmac_ipad` / `medspa_hmac_opad` on every connection dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        key = resolve_phi_key(os.environ.get("MEDSPA_PHI_KEY"))
        self._ipad, self._opad = hmac_pads(key.encode("utf-8"))

    def configure_connection(self, conn: Any) -> None:
        """One statement with the pads as hex literals, not as bound parameters.

        Binding any parameter makes DuckDB's Python client import pandas and pyarrow, which
        dbt itself never needs, the first time a connection opens: on a 2-core machine
        0.4-1 s of every dbt command when their files are in the page cache, 2-3 s when not.
        The statement is run by this plugin only, so it reaches neither dbt's logs nor
        `target/`; should DuckDB refuse it, its error (which quotes the statement) is replaced
        by one that names the variables only.
        """
        try:
            conn.execute(_set_pads_sql(self._ipad, self._opad))
        except duckdb.Error as exc:
            raise RuntimeError(
                f"could not set medspa_hmac_ipad/medspa_hmac_opad: {type(exc).__name__}"
            ) from None

    def configure_cursor(self, cursor: Any) -> None:
        """dbt-duckdb runs each model on a cursor (a duplicate connection), and DuckDB session
        variables do not carry over to cursors: set the pads on every cursor too."""
        self.configure_connection(cursor)
