"""`add-reader --location` refuses a location id the served `marts.dim_locations` lacks.

A mistyped id (`LOC99`) used to make a login that silently saw no row of any location mart.
"""

from __future__ import annotations

import pytest

from medspa.cli import main as medspa
from serving import pg_roles

pytestmark = pytest.mark.xdist_group("pg")


def _role_exists(pg, name: str) -> bool:
    with pg.connect() as conn:
        return (
            conn.execute("select 1 from pg_roles where rolname = %s", [name]).fetchone() is not None
        )


def test_add_reader_refuses_an_unknown_location_and_names_the_valid_ones(
    pg, published, monkeypatch, capsys
):
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    monkeypatch.setenv("LOC_PW", "loc-pw-1")
    args = ["serving", "add-reader", "typo_manager", "--password-env", "LOC_PW"]
    assert medspa([*args, "--location", "loc_a", "--location", "LOC99"]) == 1
    err = capsys.readouterr().err
    assert "unknown location id(s) LOC99" in err
    assert "valid ids: loc_a, loc_b" in err and "marts.dim_locations" in err
    assert "nothing was changed" in err
    assert not _role_exists(pg, "typo_manager")
    with pg.connect() as conn:
        assert "typo_manager" not in pg_roles.readers(conn)
    # The known ids still work.
    assert medspa([*args, "--location", "loc_a"]) == 0
    assert _role_exists(pg, "typo_manager")
    with pg.connect() as conn:
        pg_roles.remove_reader(conn, "typo_manager")


def test_an_unknown_location_is_refused_by_the_function_too(pg, published):
    with pg.connect() as conn, pytest.raises(ValueError, match="unknown location id"):
        pg_roles.add_reader(conn, "typo_api", "pw-2", ["nowhere"])
    assert not _role_exists(pg, "typo_api")


def test_without_a_served_dim_locations_any_location_is_accepted(pg, published):
    """Before the first publish there is nothing to check against: a reader may be set up
    ahead of it (its policies then come with the publish)."""
    with pg.connect() as conn, conn.cursor() as cur:
        conn.execute("begin")
        try:
            cur.execute("alter table marts.dim_locations rename to dim_locations_hidden")
            pg_roles.refuse_unknown_locations(cur, ["LOC99"])  # no error
            cur.execute("alter table marts.dim_locations_hidden rename to dim_locations")
            with pytest.raises(ValueError, match="LOC99"):
                pg_roles.refuse_unknown_locations(cur, ["LOC99"])
        finally:
            conn.execute("rollback")
