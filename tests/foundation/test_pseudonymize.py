"""Pseudonymisation in SQL equals the reference HMAC-SHA256, and the key stays out of SQL."""

import duckdb
import pytest

from medspa.pseudonymize import hmac_pads, pseudonymize

MACRO_SQL = (
    "case when x is not null then sha256(getvariable('medspa_hmac_opad') "
    "|| from_hex(sha256(getvariable('medspa_hmac_ipad') || encode(cast(x as varchar))))) end"
)


@pytest.mark.parametrize("key", ["k", "a-much-longer-secret-key-" * 4])
def test_duckdb_hmac_equals_python_hmac_for_short_and_long_keys(key):
    ipad, opad = hmac_pads(key.encode())
    con = duckdb.connect()
    con.execute("SET VARIABLE medspa_hmac_ipad = from_hex(?)", [ipad])
    con.execute("SET VARIABLE medspa_hmac_opad = from_hex(?)", [opad])
    values = ["P-000123", "+14155550134", "jane.doe@example.com", "é-ünïcode"]
    rows = con.execute(f"select x, {MACRO_SQL} from unnest(?::varchar[]) t(x)", [values]).fetchall()
    assert {x: h for x, h in rows} == {v: pseudonymize(v, key) for v in values}


def test_null_stays_null():
    ipad, opad = hmac_pads(b"k")
    con = duckdb.connect()
    con.execute("SET VARIABLE medspa_hmac_ipad = from_hex(?)", [ipad])
    con.execute("SET VARIABLE medspa_hmac_opad = from_hex(?)", [opad])
    assert con.execute(f"select {MACRO_SQL} from (select null::varchar as x)").fetchone() == (None,)


def test_different_keys_give_unlinkable_hashes():
    assert pseudonymize("P-1", "key-a") != pseudonymize("P-1", "key-b")
