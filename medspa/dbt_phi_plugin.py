"""dbt-duckdb plugin: hands the pseudonymisation key to DuckDB without putting it in SQL.

dbt writes every compiled statement to `target/` and its logs; a key interpolated into
SQL would leak there. Instead each dbt connection gets two session variables holding the
HMAC-SHA256 inner and outer pads, and the `pseudonymize` macro reads them with
`getvariable()`. The key itself is read from MEDSPA_PHI_KEY (the demo key only when unset;
empty or short is an error).
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from medspa.pseudonymize import hmac_pads
from medspa.settings import resolve_phi_key


class Plugin(BasePlugin):
    """Sets `medspa_hmac_ipad` / `medspa_hmac_opad` on every connection dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        key = resolve_phi_key(os.environ.get("MEDSPA_PHI_KEY"))
        self._ipad, self._opad = hmac_pads(key.encode("utf-8"))

    def configure_connection(self, conn: Any) -> None:
        conn.execute("SET VARIABLE medspa_hmac_ipad = from_hex(?)", [self._ipad])
        conn.execute("SET VARIABLE medspa_hmac_opad = from_hex(?)", [self._opad])

    def configure_cursor(self, cursor: Any) -> None:
        """dbt-duckdb runs each model on a cursor (a duplicate connection), and DuckDB session
        variables do not carry over to cursors: set the pads on every cursor too."""
        self.configure_connection(cursor)
