"""The Python reference `medspa.pseudonymize` is HMAC-SHA256, and its padded keys are right.

The SQL side is tested on the shipped macro through dbt and Dagster, against this reference,
in tests/orchestration/test_pseudonymize_through_dbt.py (no pasted copy of the macro here).
"""

import hashlib
import hmac

import pytest

from medspa.pseudonymize import hmac_pads, pseudonymize


def test_reference_matches_the_rfc_4231_test_vector():
    # RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert pseudonymize("what do ya want for nothing?", "Jefe") == expected


@pytest.mark.parametrize("key", ["k", "x" * 64, "a-much-longer-secret-key-" * 4])
def test_padded_keys_give_the_same_hmac_as_the_standard_library(key):
    """The macro computes sha256(opad || sha256(ipad || m)) from these pads: short keys are
    zero-padded to the 64-byte block, keys longer than the block are hashed first."""
    ipad, opad = hmac_pads(key.encode())
    for value in ("P-000123", "", "é-ünïcode"):
        inner = hashlib.sha256(bytes.fromhex(ipad) + value.encode()).digest()
        outer = hashlib.sha256(bytes.fromhex(opad) + inner).hexdigest()
        assert outer == hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
        assert outer == pseudonymize(value, key)


def test_different_keys_give_unlinkable_hashes():
    assert pseudonymize("P-1", "key-a") != pseudonymize("P-1", "key-b")
