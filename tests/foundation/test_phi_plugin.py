"""The dbt plugin that sets the pseudonymisation pads: right values, hex only, and no pandas.

Binding a parameter in DuckDB's Python client imports pandas and pyarrow; dbt needs neither,
and on a 2-core machine the import cost every dbt command 0.4-3 s when its first connection
opened. The plugin therefore sends the pads as literals, which it must only ever build from
hex.
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from medspa.dbt_phi_plugin import Plugin, _set_pads_sql
from medspa.pseudonymize import hmac_pads, pseudonymize

KEY = "a-test-key-of-at-least-32-bytes-long"


def test_a_connection_gets_the_pads_of_the_key_without_importing_pandas():
    """In a fresh interpreter, as dbt starts: the pads round-trip and pandas stays unloaded."""
    script = f"""
import sys, duckdb
from medspa.dbt_phi_plugin import Plugin
from medspa.pseudonymize import hmac_pads
plugin = Plugin.__new__(Plugin)
plugin.initialize({{}})
con = duckdb.connect()
plugin.configure_connection(con)
ipad, opad = con.execute(
    "select hex(getvariable('medspa_hmac_ipad')), hex(getvariable('medspa_hmac_opad'))"
).fetchone()
assert (ipad.lower(), opad.lower()) == hmac_pads({KEY!r}.encode()), (ipad, opad)
print(sorted(m for m in ("pandas", "pyarrow") if m in sys.modules))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**_clean_env(), "MEDSPA_PHI_KEY": KEY},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_pads_give_the_reference_hmac_in_sql():
    con = duckdb.connect()
    con.execute(_set_pads_sql(*hmac_pads(KEY.encode())))
    (digest,) = con.execute(
        "select sha256(getvariable('medspa_hmac_opad') || unhex(sha256("
        "getvariable('medspa_hmac_ipad') || encode('patient@example.com'))))"
    ).fetchone()
    assert digest == pseudonymize("patient@example.com", KEY)


@pytest.mark.parametrize("bad", ["", "ABCD", "ab'; select 1; --", "0x12"])
def test_anything_but_lower_case_hex_is_refused(bad):
    with pytest.raises(ValueError, match="hex"):
        _set_pads_sql(bad, "ab")
    with pytest.raises(ValueError, match="hex"):
        _set_pads_sql("ab", bad)


def test_a_refused_statement_does_not_echo_the_pads():
    """DuckDB quotes a failed statement in its error; dbt would log that, pads and all."""
    plugin = Plugin.__new__(Plugin)
    plugin._ipad, plugin._opad = hmac_pads(KEY.encode())
    con = duckdb.connect()
    con.close()
    with pytest.raises(RuntimeError) as raised:
        plugin.configure_connection(con)
    assert plugin._ipad not in str(raised.value) and plugin._opad not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MEDSPA_PHI_KEY"}
